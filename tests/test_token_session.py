"""Token fetches: timeouts, bounded retries with backoff, no redirects, no plain http."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests
import responses
from toy_provider import load, toy_target, write_secret

import unified_auth
from unified_auth import Credentials, RetryPolicy, Secret, Target
from unified_auth.core.token_session import TokenSession
from unified_auth.errors import InsecureTransportError, TokenEndpointError
from unified_auth.testing import LianaEmulator, ManualClock, load_isolated


def hub_for(liana: LianaEmulator, clock: ManualClock, tmp_path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    client_id, secret = liana.create_credential("http")
    secret_file = write_secret(tmp_path / "s", secret)
    pauses: list[float] = []
    hub = load({"targets": {"api": toy_target(liana.url, client_id, secret_file)}},
               clock=clock, sleep=pauses.append, **kwargs)
    return hub, pauses


@pytest.mark.parametrize("fault", ["status", "malformed", "drop"])
def test_transient_failures_are_retried_then_succeed(liana_emulator: LianaEmulator,
                                                     unified_auth_clock: ManualClock,
                                                     tmp_path: Path, fault: str) -> None:
    hub, pauses = hub_for(liana_emulator, unified_auth_clock, tmp_path)
    liana_emulator.inject_fault(fault, times=2)  # type: ignore[arg-type]
    assert hub.credentials("api")
    assert liana_emulator.counters.token_requests == 3
    assert len(pauses) == 2


@pytest.mark.parametrize("fault", ["status", "malformed", "drop"])
def test_retries_are_bounded_then_a_typed_error(liana_emulator: LianaEmulator,
                                                unified_auth_clock: ManualClock,
                                                tmp_path: Path, fault: str) -> None:
    hub, pauses = hub_for(liana_emulator, unified_auth_clock, tmp_path)
    liana_emulator.inject_fault(fault, times=10)  # type: ignore[arg-type]
    with pytest.raises(TokenEndpointError) as failure:
        hub.credentials("api")
    assert isinstance(failure.value, requests.RequestException)
    assert "giving up after 3 attempts" in str(failure.value)
    assert liana_emulator.counters.token_requests == 3
    assert len(pauses) == 2


def test_a_token_endpoint_that_hangs_times_out_and_is_retried(liana_emulator: LianaEmulator,
                                                             unified_auth_clock: ManualClock,
                                                             tmp_path: Path) -> None:
    policy = RetryPolicy(attempts=2, read_timeout=0.2, connect_timeout=0.2)
    hub, _ = hub_for(liana_emulator, unified_auth_clock, tmp_path, retry=policy)
    liana_emulator.inject_fault("delay", seconds=0.6, times=2)
    with pytest.raises(TokenEndpointError, match="could not be reached"):
        hub.credentials("api")
    assert liana_emulator.counters.token_requests == 2


def test_backoff_grows_and_is_capped_with_jitter() -> None:
    policy = RetryPolicy(backoff=0.5, backoff_max=4.0)
    for retry in range(8):
        ceiling = min(4.0, 0.5 * 2**retry)
        pauses = [policy.pause(retry) for _ in range(50)]
        assert all(0 <= p <= ceiling for p in pauses)
        assert len(set(pauses)) > 1  # jittered, not lock-step


def test_4xx_is_not_retried(liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
                            tmp_path: Path) -> None:
    from unified_auth.errors import CredentialsRejected

    hub, pauses = hub_for(liana_emulator, unified_auth_clock, tmp_path)
    liana_emulator.inject_fault("status", status=400, times=5)
    with pytest.raises(CredentialsRejected):
        hub.credentials("api")
    assert pauses == []


@responses.activate
def test_token_endpoints_are_never_redirected() -> None:
    responses.post("https://auth.example.com/token", status=307,
                   headers={"Location": "https://evil.example/token"})
    with pytest.raises(TokenEndpointError, match="never redirected"):
        TokenSession().post("https://auth.example.com/token", data={"client_secret": "x"})
    assert len(responses.calls) == 1


def test_plain_http_is_refused_unless_loopback() -> None:
    with pytest.raises(InsecureTransportError, match="plain http"):
        TokenSession().post("http://auth.example.com/token", data={})


@responses.activate
def test_every_token_request_has_a_timeout() -> None:
    seen: list[object] = []
    responses.add_callback(responses.POST, "https://auth.example.com/token",
                           callback=lambda r: (200, {}, "{}"))
    original = requests.adapters.HTTPAdapter.send

    def spy(self: object, request: object, **kwargs: object) -> object:
        seen.append(kwargs.get("timeout"))
        return original(self, request, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requests.adapters.HTTPAdapter, "send", spy)
        TokenSession(RetryPolicy(connect_timeout=1.5, read_timeout=7.0)).post(
            "https://auth.example.com/token")
    assert seen == [(1.5, 7.0)]


def test_send_is_guarded_like_request() -> None:
    prepared = requests.Request("POST", "http://auth.example.com/token").prepare()
    with pytest.raises(InsecureTransportError):
        TokenSession().send(prepared)


class NaivePlugin:
    """A third-party plugin written without care: it trusts the token answer blindly."""

    @unified_auth.hookimpl
    def register_providers(self, register: Any) -> None:
        register("naive", NaiveOptions)

    @unified_auth.hookimpl
    def get_credentials(self, target: Target, http: requests.Session,
                        now: datetime) -> Credentials | None:
        if target.provider != "naive":
            return None
        answer = http.post(target.options.token_url, data={}).json()
        return Credentials(value=Secret(answer["access_token"]),
                           expires_at=now + timedelta(seconds=answer["expires_in"]))


@attrs.frozen
class NaiveOptions:
    token_url: str


NAIVE_URL = "https://naive.example.com/token"


@pytest.mark.parametrize(("body", "kind"), [
    ("<html>502 from a proxy</html>", "JSONDecodeError"),
    ('{"token": "tok-naive-canary-1"}', "KeyError: missing 'access_token'"),
    ('["tok-naive-canary-1"]', "TypeError"),
], ids=["not json", "missing field", "wrong shape"])
@responses.activate
def test_a_naive_plugin_choking_on_an_answer_is_retried_and_named(body: str, kind: str) -> None:
    responses.post(NAIVE_URL, body=body)
    hub = load_isolated({"targets": {"n": {"provider": "naive", "hosts": ["n.example.com"],
                                               "token_url": NAIVE_URL}}},
                        plugins=[NaivePlugin()], retry=RetryPolicy(sleep=lambda s: None))
    with pytest.raises(TokenEndpointError, match="giving up after 3 attempts") as caught:
        hub.credentials("n")
    message = str(caught.value)
    assert "test_token_session.NaivePlugin" in message
    assert kind in message
    assert not re.search(r"'\d{6,}'", message)  # never an id() for a name
    assert "tok-naive-canary-1" not in message
    assert len(responses.calls) == 3


@responses.activate
def test_a_naive_plugin_succeeds_once_the_answer_is_sound() -> None:
    responses.post(NAIVE_URL, body="<html>oops</html>")
    responses.post(NAIVE_URL, json={"access_token": "tok-naive-canary-2", "expires_in": 60})
    hub = load_isolated({"targets": {"n": {"provider": "naive", "hosts": ["n.example.com"],
                                               "token_url": NAIVE_URL}}},
                        plugins=[NaivePlugin()], retry=RetryPolicy(sleep=lambda s: None))
    assert hub.credentials("n").value.reveal() == "tok-naive-canary-2"
