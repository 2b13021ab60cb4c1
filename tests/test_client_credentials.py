"""Client-credentials behaviour that ``liana`` and ``oauth2`` share, run over both providers.

``liana`` is ``oauth2`` with Liana's token URL and ``client_secret_post``: one token request,
one answer parser. Each test here runs once per provider against its emulator (or a
``responses`` mock for protocol edge cases); Liana's own wording and keys are pinned in
test_plugin_liana.py, the generic provider's in test_plugin_oauth2.py.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import attrs
import pytest
import requests
import responses

import unified_auth
from unified_auth import RetryPolicy, testing
from unified_auth.errors import AuthFailed, ConfigError, CredentialsRejected, TokenEndpointError
from unified_auth.testing import LianaEmulator, ManualClock, OAuth2Emulator, assert_no_leaks

CANARY = "canary-9f8e7d6c5b4a"
TOKEN_CANARY = "tok-canary-1a2b3c4d5e"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TOKEN_URL = "https://tokens.example.test/token"
API = "https://api.example.test/v1/"
PROVIDERS = ["liana", "oauth2"]


@attrs.frozen
class Server:
    """One provider's emulator, behind the admin words these tests need."""

    provider: str
    emulator: LianaEmulator | OAuth2Emulator
    api: str
    lifetime: int

    def create(self) -> tuple[str, str]:
        if isinstance(self.emulator, LianaEmulator):
            return self.emulator.create_credential("tests")
        return self.emulator.create_client(_SECRET_POST)

    def delete(self, client_id: str) -> None:
        if isinstance(self.emulator, LianaEmulator):
            self.emulator.delete_credential(client_id)
        else:
            self.emulator.delete_client(client_id)

    def target(self, client_id: str, secret: Any, **options: Any) -> dict[str, Any]:
        return {**provider_keys(self.provider), "hosts": [self.api.rpartition("/")[0] + "/"],
                "client_id": client_id, "client_secret": secret,
                "token_url": self.emulator.token_url, **options}


_SECRET_POST = "client_secret_post"


def provider_keys(provider: str) -> dict[str, Any]:
    """What makes a target of ``provider`` post its id and secret in the form."""
    if provider == "liana":
        return {"provider": "liana"}
    return {"provider": "oauth2", "auth_method": _SECRET_POST}


def basic_keys(provider: str) -> dict[str, Any]:
    """What makes a target of ``provider`` send its id and secret as HTTP Basic."""
    return {"client_auth": "basic"} if provider == "liana" else \
        {"auth_method": "client_secret_basic"}


@pytest.fixture
def unified_auth_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(provider: str, unified_auth_clock: ManualClock) -> Any:
    if provider == "liana":
        with LianaEmulator(clock=unified_auth_clock) as liana:
            yield Server(provider, liana, f"{liana.url}/v1/lists", 900)
    else:
        with OAuth2Emulator(clock=unified_auth_clock, expires_in=900) as oauth2:
            yield Server(provider, oauth2, f"{oauth2.url}/api/whoami", 900)


@pytest.fixture
def write_secret(tmp_path: Path) -> Callable[[str], dict[str, str]]:
    path = tmp_path / "client.secret"

    def write(secret: str) -> dict[str, str]:
        return {"file": str(testing.write_secret(path, secret))}

    return write


def load(clock: ManualClock, **targets: dict[str, Any]) -> unified_auth.UnifiedAuth:
    return unified_auth.load({"targets": targets}, clock=clock,
                             retry=RetryPolicy(sleep=lambda s: None))


def mocked(provider: str, **options: Any) -> dict[str, Any]:
    return {**provider_keys(provider), "hosts": [API],
            "client_id": f"client-{uuid.uuid4().hex[:8]}",
            "client_secret": {"env": "OAUTH_TEST_SECRET"}, "token_url": TOKEN_URL, **options}


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTH_TEST_SECRET", CANARY)


def assert_clean(exc: BaseException, caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    assert_no_leaks([str(exc), repr(exc), caplog.text], secrets or (CANARY,))


def form(request: requests.PreparedRequest) -> dict[str, list[str]]:
    assert isinstance(request.body, str)
    return parse_qs(request.body)


def token_answer(**fields: Any) -> dict[str, Any]:
    return {"access_token": TOKEN_CANARY, "token_type": "Bearer", "expires_in": 900,
            "scope": "default", **fields}


# -- fetching and applying ---------------------------------------------------------------


def test_session_sends_a_bearer_token_fetched_once(
        server: Server, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    client_id, secret = server.create()
    hub = load(unified_auth_clock, api=server.target(client_id, write_secret(secret)))
    session = hub.session()

    first = session.get(server.api)
    second = session.get(server.api)

    assert first.status_code == second.status_code == 200
    assert server.emulator.counters.token_requests == 1
    token = hub.credentials("api").value.reveal()
    assert second.request.headers["Authorization"] == f"Bearer {token}"
    assert_no_leaks([logs.text, repr(hub.credentials("api")), repr(hub.targets)],
                    [secret, token])


@pytest.mark.usefixtures("canary_env")
def test_expires_at_counts_from_when_the_request_was_sent(unified_auth_clock: ManualClock,
                                                          provider: str) -> None:
    def slow_token_endpoint(request: requests.PreparedRequest) -> tuple[int, dict[str, str],
                                                                          str]:
        unified_auth_clock.advance(5)  # the answer arrives 5 s after the request left
        return 200, {}, json.dumps(token_answer(expires_in=600))

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, TOKEN_URL, callback=slow_token_endpoint)
        credentials = load(unified_auth_clock, api=mocked(provider)).credentials("api")

    assert credentials.expires_at == START + timedelta(seconds=600)
    assert credentials.token_type == "Bearer"
    assert credentials.scope == "default"


@pytest.mark.usefixtures("canary_env")
def test_token_request_is_a_form_post_of_the_client_credentials(
        unified_auth_clock: ManualClock, provider: str) -> None:
    target = mocked(provider)
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer())
        load(unified_auth_clock, api=target).credentials("api")
        sent = mock.calls[0].request

    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in sent.headers
    assert form(sent) == {"grant_type": ["client_credentials"],
                          "client_id": [target["client_id"]], "client_secret": [CANARY]}
    assert str(sent.body).startswith("grant_type=client_credentials&client_id=")


@pytest.mark.usefixtures("canary_env")
def test_scope_and_extra_params_are_sent_on_every_refetch(unified_auth_clock: ManualClock,
                                                          provider: str) -> None:
    hub = load(unified_auth_clock,
               api=mocked(provider, scope="lists:read", extra_params={"tenant": "mailer"}))
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer(expires_in=60))
        hub.credentials("api")
        unified_auth_clock.advance(61)
        hub.credentials("api")
        bodies = [form(call.request) for call in mock.calls]

    assert len(bodies) == 2
    for body in bodies:
        assert body["scope"] == ["lists:read"]
        assert body["tenant"] == ["mailer"]


def test_client_secret_basic_is_accepted_by_the_emulator(
        server: Server, unified_auth_clock: ManualClock, write_secret: Any) -> None:
    if isinstance(server.emulator, OAuth2Emulator):
        client_id, secret = server.emulator.create_client("client_secret_basic")
    else:
        client_id, secret = server.create()
    hub = load(unified_auth_clock, api=server.target(client_id, write_secret(secret),
                                                     **basic_keys(server.provider)))

    assert hub.session().get(server.api).status_code == 200


@pytest.mark.usefixtures("canary_env")
def test_client_secret_basic_keeps_the_secret_out_of_the_form(unified_auth_clock: ManualClock,
                                                              provider: str) -> None:
    target = mocked(provider, **basic_keys(provider))
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer())
        load(unified_auth_clock, api=target).credentials("api")
        sent = mock.calls[0].request

    assert sent.headers["Authorization"].startswith("Basic ")
    assert form(sent) == {"grant_type": ["client_credentials"]}


@pytest.mark.usefixtures("canary_env")
@pytest.mark.parametrize(("fields", "ttl"), [
    ({"token_type": "bearer"}, 900),  # token_type is case-insensitive
    ({"token_type": "BEARER"}, 900),
    ({"expires_in": "1200"}, 1200),  # some servers send the number as a string
    ({"expires_in": 1.5}, 1.5),
])
def test_lenient_but_valid_answers_are_accepted(unified_auth_clock: ManualClock, provider: str,
                                                fields: dict[str, Any], ttl: float) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer(**fields))
        credentials = load(unified_auth_clock, api=mocked(provider)).credentials("api")
    assert credentials.expires_at == START + timedelta(seconds=ttl)


@pytest.mark.usefixtures("canary_env")
def test_missing_expires_in_uses_default_ttl_with_one_warning(
        unified_auth_clock: ManualClock, provider: str,
        logs: pytest.LogCaptureFixture) -> None:
    answer = token_answer()
    del answer["expires_in"]
    hub = load(unified_auth_clock, api=mocked(provider, default_ttl=600))
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=answer)
        first = hub.credentials("api")
        unified_auth_clock.advance(601)
        second = hub.credentials("api")
        assert len(mock.calls) == 2

    assert first.expires_at == START + timedelta(seconds=600)
    assert second.expires_at == START + timedelta(seconds=1201)
    notes = [r for r in logs.records if "without expires_in" in r.getMessage()]
    assert len(notes) == 1
    assert notes[0].levelname == "WARNING"
    assert "default_ttl = 600" in notes[0].getMessage()


# -- malformed answers: retried, then a TokenEndpointError that says what was wrong ------


MALFORMED = [
    pytest.param("<html>Service Unavailable</html>", "is not JSON", id="not-json"),
    pytest.param("[1, 2]", "is JSON an array, not an object", id="json-array"),
    pytest.param({"token_type": "Bearer", "expires_in": 900}, "has no access_token",
                 id="no-access-token"),
    pytest.param(token_answer(access_token=""), "not a token", id="empty-access-token"),
    pytest.param(token_answer(access_token=12345), "an integer, not a token",
                 id="numeric-access-token"),
    pytest.param(token_answer(access_token=f"{TOKEN_CANARY}\r\nX-Evil: 1"),
                 "holds a line break", id="header-injection"),
    pytest.param(token_answer(token_type="mac"), "token_type 'mac'", id="token-type-mac"),
    pytest.param(token_answer(token_type=None), "token_type null", id="token-type-null"),
    pytest.param(token_answer(expires_in="soon"), "non-numeric expires_in (a string)",
                 id="expires-in-text"),
    pytest.param(token_answer(expires_in=True), "non-numeric expires_in (a boolean)",
                 id="expires-in-bool"),
    pytest.param(f'{{"access_token": "{TOKEN_CANARY}", "expires_in": NaN}}',
                 "non-numeric expires_in (not finite)", id="expires-in-nan"),
    pytest.param(token_answer(expires_in=-60), "expires_in -60", id="expires-in-negative"),
    pytest.param(token_answer(expires_in=0), "must be positive", id="expires-in-zero"),
    pytest.param(token_answer(expires_in=10**10), "not a plausible", id="expires-in-absurd"),
]


@pytest.mark.usefixtures("canary_env")
@pytest.mark.parametrize(("answer", "complaint"), MALFORMED)
def test_malformed_answer_is_retried_then_explained(
        unified_auth_clock: ManualClock, provider: str, logs: pytest.LogCaptureFixture,
        answer: Any, complaint: str) -> None:
    body = answer if isinstance(answer, str) else json.dumps(answer)
    hub = load(unified_auth_clock, api=mocked(provider))
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, body=body, content_type="application/json")
        with pytest.raises(TokenEndpointError) as caught:
            hub.credentials("api")
        assert len(mock.calls) == 3  # the core's bounded retries

    message = str(caught.value)
    assert complaint in message
    assert "target api" in message
    assert "giving up after 3 attempts" in message
    if "line break" not in complaint:  # the core's own check of every credential value
        assert "check that token_url points at" in message
    assert_clean(caught.value, logs, CANARY, TOKEN_CANARY)


def test_one_malformed_answer_is_survived(server: Server, unified_auth_clock: ManualClock,
                                          write_secret: Any) -> None:
    client_id, secret = server.create()
    server.emulator.inject_fault("malformed")
    hub = load(unified_auth_clock, api=server.target(client_id, write_secret(secret)))

    assert hub.session().get(server.api).status_code == 200
    assert server.emulator.counters.token_requests == 2


@pytest.mark.usefixtures("canary_env")
@pytest.mark.parametrize("status", [429, 408])
def test_throttling_is_retried_not_rejected(unified_auth_clock: ManualClock, provider: str,
                                            status: int) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=status, json={"error": "slow_down"})
        with pytest.raises(TokenEndpointError, match=f"answered {status}"):
            load(unified_auth_clock, api=mocked(provider)).credentials("api")
        assert len(mock.calls) == 3


# -- refusals from the token endpoint ----------------------------------------------------


def test_wrong_secret_is_rejected_with_every_cause_and_fix(
        server: Server, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    client_id, _ = server.create()
    hub = load(unified_auth_clock, api=server.target(client_id, write_secret(CANARY)))

    with pytest.raises(CredentialsRejected) as caught:
        hub.session().get(server.api)

    message = str(caught.value)
    assert caught.value.target == "api"
    for needed in (client_id, "invalid_client", "client id or secret is wrong", "rotated",
                   "client_secret points to", "read again without a restart", "deleted"):
        assert needed in message
    assert server.emulator.counters.token_requests == 1  # the unchanged secret: tried once
    assert_clean(caught.value, logs)


@pytest.mark.usefixtures("canary_env")
def test_a_bare_401_is_rejected_as_a_wrong_client(unified_auth_clock: ManualClock,
                                                  provider: str) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=401, body="Unauthorized")
        with pytest.raises(CredentialsRejected, match=r"401 Unauthorized\)\. Either the "):
            load(unified_auth_clock, api=mocked(provider)).credentials("api")


@pytest.mark.usefixtures("canary_env")
@pytest.mark.parametrize(("status", "answer", "expected"), [
    (400, {"error": "invalid_scope", "error_description": "scope 'x' not granted"},
     "(400 invalid_scope: scope 'x' not granted); check "),
    (400, {"error": "unauthorized_client"}, "(400 unauthorized_client); this "),
    (400, {"error": "invalid_request", "error_description": f"bad secret {CANARY}\n!"},
     "(400 invalid_request: bad secret ******** !); check token_url"),
    (400, {"error": "invalid_request", "error_description": f"got {TOKEN_CANARY}x9"},
     "(400 invalid_request: got ********); check token_url"),
    (400, {"error": "<script>"}, "(400 an error code that is not shown); check "),
    (403, {"message": "nope"}, "(403 Forbidden); check the target's options"),
])
def test_other_refusals_quote_the_oauth_error_without_the_secret(
        unified_auth_clock: ManualClock, provider: str, logs: pytest.LogCaptureFixture,
        status: int, answer: dict[str, str], expected: str) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=status, json=answer)
        with pytest.raises(CredentialsRejected) as caught:
            load(unified_auth_clock, api=mocked(provider)).credentials("api")
        assert len(mock.calls) == 1

    assert expected in str(caught.value)
    if answer.get("error") == "invalid_scope":
        assert "scope" in str(caught.value).partition("); ")[2]  # names the key at fault
    assert_clean(caught.value, logs)


def test_rotated_secret_is_picked_up_from_the_rewritten_file(
        server: Server, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    client_id, old = server.create()
    hub = load(unified_auth_clock, api=server.target(client_id, write_secret(old)))
    session = hub.session()
    assert session.get(server.api).status_code == 200

    new = server.emulator.rotate_secret(client_id)
    write_secret(new)
    unified_auth_clock.advance(server.lifetime + 1)  # expired: the next fetch tries the old one

    assert session.get(server.api).status_code == 200
    assert server.emulator.counters.token_requests == 3  # issued, refused (old secret), issued
    assert "the secret has changed at its source" in logs.text
    assert_no_leaks([logs.text], [old, new])


def test_rotation_with_revoked_tokens_recovers_through_the_401(
        server: Server, unified_auth_clock: ManualClock, write_secret: Any) -> None:
    client_id, old = server.create()
    hub = load(unified_auth_clock, api=server.target(client_id, write_secret(old)))
    session = hub.session()
    assert session.get(server.api).status_code == 200

    write_secret(server.emulator.rotate_secret(client_id))
    server.emulator.revoke_tokens(client_id)
    response = session.get(server.api)

    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert server.emulator.counters.token_requests == 2


def test_deleted_client_is_rejected(server: Server, unified_auth_clock: ManualClock,
                                    write_secret: Any) -> None:
    client_id, secret = server.create()
    hub = load(unified_auth_clock, api=server.target(client_id, write_secret(secret)))
    hub.credentials("api")
    server.delete(client_id)
    unified_auth_clock.advance(server.lifetime + 1)

    with pytest.raises(CredentialsRejected, match="deleted"):
        hub.credentials("api")


def test_the_token_is_renewed_before_it_expires_and_never_sent_expired(
        server: Server, unified_auth_clock: ManualClock, write_secret: Any) -> None:
    client_id, secret = server.create()
    hub = load(unified_auth_clock, api=server.target(client_id, write_secret(secret)))
    session = hub.session()
    for _ in range(120):  # an hour in 30-second steps: four token lifetimes
        assert session.get(server.api).status_code == 200
        unified_auth_clock.advance(30)

    assert server.emulator.counters.expired_token_requests == 0
    assert server.emulator.counters.rejected_requests == 0
    assert 4 <= server.emulator.counters.tokens_issued <= 7


@pytest.mark.usefixtures("canary_env")
def test_a_401_that_survives_the_retry_carries_the_providers_explanation(
        unified_auth_clock: ManualClock, provider: str, logs: pytest.LogCaptureFixture) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer())
        mock.get(f"{API}lists", status=401, json={"error": "invalid_token"})
        with pytest.raises(AuthFailed) as caught:
            load(unified_auth_clock, api=mocked(provider)).session().get(f"{API}lists")
        assert len(mock.calls) == 4  # token, 401, token again, 401: never a loop

    assert "refused a freshly issued access token" in str(caught.value)
    assert_clean(caught.value, logs, CANARY, TOKEN_CANARY)


# -- config shared by both -----------------------------------------------------------------


@pytest.mark.parametrize(("options", "key", "complaint"), [
    ({"token_url": "http://tokens.example.test/token"}, "token_url", "must use https"),
    ({"token_url": "ftp://tokens.example.test/token"}, "token_url", "absolute https://"),
    ({"token_url": "https://me:pw@tokens.example.test/token"}, "token_url", "credentials"),
    ({"extra_params": {"client_secret": "oops"}}, "extra_params", "cannot set 1 form"),
    ({"extra_params": {"client_assertion": "x"}}, "extra_params", "cannot set 1 form"),
    ({"extra_params": {"tenant": 1}}, "extra_params", "expected a string"),
    ({"default_ttl": 0}, "default_ttl", "must be > 0"),
    ({"client_id": ""}, "client_id", "Length of 'client_id'"),
])
def test_config_errors_name_the_key(unified_auth_clock: ManualClock, provider: str,
                                    options: dict[str, Any], key: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(unified_auth_clock, api=mocked(provider, **options))
    assert f"targets.api.{key}" in str(caught.value)
    assert complaint in str(caught.value)


def test_loopback_token_url_may_use_plain_http(unified_auth_clock: ManualClock,
                                               provider: str) -> None:
    for url in ("http://127.0.0.1:8080/token", "http://localhost/token", "http://[::1]/t"):
        target = load(unified_auth_clock, api=mocked(provider, token_url=url)).targets["api"]
        assert target.options.token_url == url


def test_16_threads_share_one_token_fetch(server: Server, unified_auth_clock: ManualClock,
                                          write_secret: Any) -> None:
    client_id, secret = server.create()
    hub = load(unified_auth_clock, api=server.target(client_id, write_secret(secret)))
    session = hub.session()
    barrier = threading.Barrier(16)

    def call(_: int) -> int:
        barrier.wait(timeout=10)
        return session.get(server.api, timeout=10).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(call, range(16)))

    assert statuses == [200] * 16
    assert server.emulator.counters.token_requests == 1
    assert server.emulator.max_token_requests_in_flight == 1


def test_two_hubs_sharing_a_file_cache_fetch_once(server: Server, unified_auth_clock: ManualClock,
                                                  write_secret: Any, tmp_path: Path) -> None:
    client_id, secret = server.create()
    config = {"cache": {"backend": "file", "path": str(tmp_path / "cache")},
              "targets": {"api": server.target(client_id, write_secret(secret))}}
    tokens = []
    for _ in range(2):
        with unified_auth.load(config, clock=unified_auth_clock) as hub:
            assert hub.session().get(server.api, timeout=10).status_code == 200
            tokens.append(hub.credentials("api").value.reveal())

    assert tokens[0] == tokens[1]
    assert server.emulator.counters.token_requests == 1
