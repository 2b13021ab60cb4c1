"""The ``liana`` provider: client-credentials tokens, their refusals and Liana's answers."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
import unified_auth_liana
from toy_provider import assert_never_offered_a_foreign_target

import unified_auth
from unified_auth import RetryPolicy, testing
from unified_auth.errors import (
    AccessDenied,
    AuthFailed,
    ConfigError,
    CredentialsRejected,
    TokenEndpointError,
)
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks

CANARY = "canary-9f8e7d6c5b4a"
TOKEN_CANARY = "tok-canary-1a2b3c4d5e"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TOKEN_URL = "https://tokens.liana.test/token"
API = "https://rest.liana.test/v1/"


@pytest.fixture
def unified_auth_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def write_secret(tmp_path: Path) -> Callable[[str], dict[str, str]]:
    path = tmp_path / "liana.secret"

    def write(secret: str) -> dict[str, str]:
        return {"file": str(testing.write_secret(path, secret))}

    return write


def load(clock: ManualClock, **targets: dict[str, Any]) -> unified_auth.UnifiedAuth:
    return unified_auth.load({"targets": targets}, clock=clock,
                             retry=RetryPolicy(sleep=lambda s: None))


def emulated(liana: LianaEmulator, client_id: str, secret: Any, **options: Any) -> dict[str, Any]:
    return {"provider": "liana", "hosts": [f"{liana.url}/v1/"], "client_id": client_id,
            "client_secret": secret, "token_url": liana.token_url, **options}


def mocked(**options: Any) -> dict[str, Any]:
    return {"provider": "liana", "hosts": [API], "client_id": f"client-{uuid.uuid4().hex[:8]}",
            "client_secret": {"env": "LIANA_TEST_SECRET"}, "token_url": TOKEN_URL, **options}


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANA_TEST_SECRET", CANARY)


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
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(secret)))
    session = hub.session()

    first = session.get(f"{liana_emulator.url}/v1/lists")
    second = session.get(f"{liana_emulator.url}/v1/lists")

    assert first.status_code == second.status_code == 200
    assert first.json()["result"][0]["name"] == "Newsletter"
    assert liana_emulator.counters.token_requests == 1
    token = hub.credentials("mailer").value.reveal()
    assert second.request.headers["Authorization"] == f"Bearer {token}"
    assert_no_leaks([logs.text, repr(hub.credentials("mailer")), repr(hub.targets)],
                    [secret, token])


def test_expires_at_counts_from_when_the_request_was_sent(unified_auth_clock: ManualClock,
                                                          canary_env: None) -> None:
    def slow_token_endpoint(request: requests.PreparedRequest) -> tuple[int, dict[str, str],
                                                                          str]:
        unified_auth_clock.advance(5)  # the answer arrives 5 s after the request left
        return 200, {}, json.dumps(token_answer(expires_in=600))

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, TOKEN_URL, callback=slow_token_endpoint)
        credentials = load(unified_auth_clock, mailer=mocked()).credentials("mailer")

    assert credentials.expires_at == START + timedelta(seconds=600)
    assert credentials.token_type == "Bearer"
    assert credentials.scope == "default"


def test_token_request_is_a_form_post_of_the_client_credentials(unified_auth_clock: ManualClock,
                                                                 canary_env: None) -> None:
    target = mocked()
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer())
        load(unified_auth_clock, mailer=target).credentials("mailer")
        sent = mock.calls[0].request

    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in sent.headers
    assert form(sent) == {"grant_type": ["client_credentials"],
                          "client_id": [target["client_id"]], "client_secret": [CANARY]}
    assert str(sent.body).startswith("grant_type=client_credentials&client_id=")


def test_scope_and_extra_params_are_sent_on_every_refetch(unified_auth_clock: ManualClock,
                                                          canary_env: None) -> None:
    hub = load(unified_auth_clock,
               mailer=mocked(scope="lists:read", extra_params={"audience": "mailer"}))
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer(expires_in=60))
        hub.credentials("mailer")
        unified_auth_clock.advance(61)
        hub.credentials("mailer")
        bodies = [form(call.request) for call in mock.calls]

    assert len(bodies) == 2
    for body in bodies:
        assert body["scope"] == ["lists:read"]
        assert body["audience"] == ["mailer"]


def test_client_auth_basic_sends_the_secret_in_a_basic_header(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(secret),
                                                   client_auth="basic"))

    assert hub.session().get(f"{liana_emulator.url}/v1/lists").status_code == 200


def test_client_auth_basic_keeps_the_secret_out_of_the_form(unified_auth_clock: ManualClock,
                                                            canary_env: None) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer())
        load(unified_auth_clock, mailer=mocked(client_auth="basic")).credentials("mailer")
        sent = mock.calls[0].request

    assert sent.headers["Authorization"].startswith("Basic ")
    assert form(sent) == {"grant_type": ["client_credentials"]}


@pytest.mark.usefixtures("canary_env")
@pytest.mark.parametrize(("fields", "ttl"), [
    ({"token_type": "bearer"}, 900),  # token_type is case-insensitive
    ({"expires_in": "1200"}, 1200),  # some servers send the number as a string
    ({"expires_in": 1.5}, 1.5),
])
def test_lenient_but_valid_answers_are_accepted(unified_auth_clock: ManualClock,
                                                fields: dict[str, Any],
                                                ttl: float) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer(**fields))
        credentials = load(unified_auth_clock, mailer=mocked()).credentials("mailer")
    assert credentials.expires_at == START + timedelta(seconds=ttl)


def test_missing_expires_in_uses_default_ttl_with_one_note(
        unified_auth_clock: ManualClock, canary_env: None, logs: pytest.LogCaptureFixture) -> None:
    answer = token_answer()
    del answer["expires_in"]
    hub = load(unified_auth_clock, mailer=mocked(default_ttl=600))
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=answer)
        first = hub.credentials("mailer")
        unified_auth_clock.advance(601)
        second = hub.credentials("mailer")
        assert len(mock.calls) == 2

    assert first.expires_at == START + timedelta(seconds=600)
    assert second.expires_at == START + timedelta(seconds=1201)
    notes = [r for r in logs.records if "without expires_in" in r.getMessage()]
    assert len(notes) == 1
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
        unified_auth_clock: ManualClock, logs: pytest.LogCaptureFixture, answer: Any,
        complaint: str) -> None:
    body = answer if isinstance(answer, str) else json.dumps(answer)
    hub = load(unified_auth_clock, mailer=mocked())
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, body=body, content_type="application/json")
        with pytest.raises(TokenEndpointError) as caught:
            hub.credentials("mailer")
        assert len(mock.calls) == 3  # the core's bounded retries

    message = str(caught.value)
    assert complaint in message
    assert "target mailer" in message
    assert "giving up after 3 attempts" in message
    assert_clean(caught.value, logs, CANARY, TOKEN_CANARY)


def test_one_malformed_answer_is_survived(liana_emulator: LianaEmulator,
                                          unified_auth_clock: ManualClock,
                                          write_secret: Any) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    liana_emulator.inject_fault("malformed")
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(secret)))

    assert hub.session().get(f"{liana_emulator.url}/v1/lists").status_code == 200
    assert liana_emulator.counters.token_requests == 2


@pytest.mark.usefixtures("canary_env")
@pytest.mark.parametrize("status", [429, 408])
def test_throttling_is_retried_not_rejected(unified_auth_clock: ManualClock, status: int) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=status, json={"error": "slow_down"})
        with pytest.raises(TokenEndpointError, match=f"answered {status}"):
            load(unified_auth_clock, mailer=mocked()).credentials("mailer")
        assert len(mock.calls) == 3


# -- refusals from the token endpoint ----------------------------------------------------


def test_wrong_secret_is_rejected_with_every_cause_and_fix(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    client_id, _ = liana_emulator.create_credential("tests")
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(CANARY)))

    with pytest.raises(CredentialsRejected) as caught:
        hub.session().get(f"{liana_emulator.url}/v1/lists")

    message = str(caught.value)
    assert caught.value.target == "mailer"
    for needed in (client_id, "invalid_client", "client id or secret is wrong", "rotated",
                   "stops the old one at once", "deleted", "expiration date", "LianaAccount",
                   "read again without a restart"):
        assert needed in message
    assert liana_emulator.counters.token_requests == 1  # the unchanged secret is not tried twice
    assert_clean(caught.value, logs)


@pytest.mark.usefixtures("canary_env")
def test_a_bare_401_is_rejected_as_a_wrong_client(unified_auth_clock: ManualClock) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=401, body="Unauthorized")
        with pytest.raises(CredentialsRejected, match=r"401 Unauthorized\)\. Either the "):
            load(unified_auth_clock, mailer=mocked()).credentials("mailer")


@pytest.mark.usefixtures("canary_env")
@pytest.mark.parametrize(("status", "answer", "expected"), [
    (400, {"error": "invalid_scope", "error_description": "scope 'x' not granted"},
     "(400 invalid_scope: scope 'x' not granted); check the target's scope"),
    (400, {"error": "unauthorized_client"}, "(400 unauthorized_client); this credential"),
    (400, {"error": "invalid_request", "error_description": f"bad secret {CANARY}\n!"},
     "(400 invalid_request: bad secret ******** !); check token_url and extra_params"),
    (403, {"message": "nope"}, "(403 Forbidden); check the target's options"),
])
def test_other_refusals_quote_the_oauth_error_without_the_secret(
        unified_auth_clock: ManualClock, logs: pytest.LogCaptureFixture, status: int,
        answer: dict[str, str], expected: str) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=status, json=answer)
        with pytest.raises(CredentialsRejected) as caught:
            load(unified_auth_clock, mailer=mocked()).credentials("mailer")
        assert len(mock.calls) == 1

    assert expected in str(caught.value)
    assert_clean(caught.value, logs)


def test_rotated_secret_is_picked_up_from_the_rewritten_file(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    client_id, old = liana_emulator.create_credential("tests")
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(old)))
    session = hub.session()
    assert session.get(f"{liana_emulator.url}/v1/lists").status_code == 200

    new = liana_emulator.rotate_secret(client_id)
    write_secret(new)
    unified_auth_clock.advance(901)  # the token expired: the next fetch uses the old secret first

    assert session.get(f"{liana_emulator.url}/v1/lists").status_code == 200
    assert liana_emulator.counters.token_requests == 3  # issued, refused (old secret), issued
    assert "the secret has changed at its source" in logs.text
    assert_no_leaks([logs.text], [old, new])


def test_rotation_with_revoked_tokens_recovers_through_the_401(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any) -> None:
    client_id, old = liana_emulator.create_credential("tests")
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(old)))
    session = hub.session()
    assert session.get(f"{liana_emulator.url}/v1/lists").status_code == 200

    write_secret(liana_emulator.rotate_secret(client_id))
    liana_emulator.revoke_tokens(client_id)
    response = session.get(f"{liana_emulator.url}/v1/lists")

    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert liana_emulator.counters.token_requests == 2


def test_deleted_credential_is_rejected(liana_emulator: LianaEmulator,
                                        unified_auth_clock: ManualClock,
                                        write_secret: Any) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(secret)))
    hub.credentials("mailer")
    liana_emulator.delete_credential(client_id)
    unified_auth_clock.advance(901)

    with pytest.raises(CredentialsRejected, match="deleted"):
        hub.credentials("mailer")


# -- the credential's own expiration date -------------------------------------------------


@pytest.mark.parametrize(("days", "expected"), [
    (0, "expires today"), (1, "expires tomorrow"), (10, "expires in 10 days"),
    (14, "expires in 14 days"),
])
def test_expiration_date_within_14_days_warns(unified_auth_clock: ManualClock, canary_env: None,
                                              days: int, expected: str) -> None:
    expires_on = START.date() + timedelta(days=days)
    hub = load(unified_auth_clock, mailer=mocked(expires_on=expires_on.isoformat()))

    warnings = hub.warnings("mailer")

    assert len(warnings) == 1
    assert expected in warnings[0]
    assert str(expires_on) in warnings[0]
    assert "LianaAccount" in warnings[0]


def test_expiration_date_further_away_does_not_warn(unified_auth_clock: ManualClock,
                                                    canary_env: None) -> None:
    hub = load(unified_auth_clock, mailer=mocked(expires_on=START.date() + timedelta(days=15)))
    assert hub.warnings("mailer") == []


def test_expiration_warning_is_logged_once_after_the_first_fetch(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    expires_on = START.date() + timedelta(days=3)
    client_id, secret = liana_emulator.create_credential("tests", expires_on=expires_on)
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(secret),
                                                   expires_on=expires_on))
    hub.credentials("mailer")
    unified_auth_clock.advance(901)
    hub.credentials("mailer")

    logged = [r for r in logs.records if "expires in 3 days" in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].levelno == logging.WARNING


def test_past_expiration_date_is_rejected_without_a_network_call(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    expires_on = START.date() + timedelta(days=1)
    client_id, secret = liana_emulator.create_credential("tests", expires_on=expires_on)
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(secret),
                                                   expires_on=expires_on))
    unified_auth_clock.advance(2 * 24 * 3600)

    with pytest.raises(CredentialsRejected) as caught:
        hub.session().get(f"{liana_emulator.url}/v1/lists")

    assert "passed its expiration date" in str(caught.value)
    assert str(expires_on) in str(caught.value)
    assert liana_emulator.counters.token_requests == 0
    assert liana_emulator.counters.api_requests == 0
    assert any("passed its expiration date" in w for w in hub.warnings("mailer"))
    assert_clean(caught.value, logs, secret)


# -- what Liana's API answers ------------------------------------------------------------


def test_api_not_enabled_raises_access_denied_about_the_license(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    liana_emulator.api_enabled = False
    hub = load(unified_auth_clock, mailer=emulated(liana_emulator, client_id, write_secret(secret)))

    with pytest.raises(AccessDenied) as caught:
        hub.session().get(f"{liana_emulator.url}/v1/lists")

    message = str(caught.value)
    assert "not enabled" in message
    assert "separate API license" in message
    assert "LianaMonitor" in message
    assert caught.value.response is not None
    assert caught.value.response.status_code == 403
    assert_clean(caught.value, logs, secret, hub.credentials("mailer").value.reveal())


@pytest.mark.usefixtures("canary_env")
@pytest.mark.parametrize("body", [
    "API NOT ENABLED for this account",
    json.dumps({"succeed": False, "message": "The API is not   Enabled."}),
])
def test_not_enabled_is_matched_case_insensitively(unified_auth_clock: ManualClock,
                                                   body: str) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer())
        mock.get(f"{API}lists", status=403, body=body)
        with pytest.raises(AccessDenied, match="separate API license"):
            load(unified_auth_clock, mailer=mocked()).session().get(f"{API}lists")


@pytest.mark.usefixtures("canary_env")
def test_other_403_is_returned_and_explained_in_the_log(
        unified_auth_clock: ManualClock, logs: pytest.LogCaptureFixture) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer())
        mock.get(f"{API}lists", status=403, json={"succeed": False, "message": "Forbidden"})
        response = load(unified_auth_clock, mailer=mocked()).session().get(f"{API}lists")

    assert response.status_code == 403
    assert "may use this API and scope" in logs.text


@pytest.mark.usefixtures("canary_env")
def test_a_401_that_survives_the_retry_carries_the_liana_explanation(
        unified_auth_clock: ManualClock, logs: pytest.LogCaptureFixture) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json=token_answer())
        mock.get(f"{API}lists", status=401, json={"succeed": False, "message": "Unauthorized"})
        with pytest.raises(AuthFailed) as caught:
            load(unified_auth_clock, mailer=mocked()).session().get(f"{API}lists")

    assert "Liana refused a freshly issued access token" in str(caught.value)
    assert_clean(caught.value, logs, CANARY, TOKEN_CANARY)


# -- config --------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "key", "complaint"), [
    ({"token_url": "http://tokens.liana.test/token"}, "token_url", "must use https"),
    ({"token_url": "ftp://tokens.liana.test/token"}, "token_url", "absolute https://"),
    ({"token_url": "https://me:pw@tokens.liana.test/token"}, "token_url", "credentials"),
    ({"client_auth": "jwt"}, "client_auth", "expected one of 'post', 'basic'"),
    ({"extra_params": {"client_secret": "oops"}}, "extra_params", "cannot set 1 form"),
    ({"extra_params": {"audience": 1}}, "extra_params", "expected a string"),
    ({"default_ttl": 0}, "default_ttl", "must be > 0"),
    ({"expires_on": "soon"}, "expires_on", "expected a date"),
    ({"client_id": ""}, "client_id", "Length of 'client_id'"),
])
def test_config_errors_name_the_key(unified_auth_clock: ManualClock, options: dict[str, Any],
                                    key: str,
                                    complaint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(unified_auth_clock, mailer=mocked(**options))
    assert f"targets.mailer.{key}" in str(caught.value)
    assert complaint in str(caught.value)


def test_loopback_token_url_may_use_plain_http(unified_auth_clock: ManualClock) -> None:
    for url in ("http://127.0.0.1:8080/token", "http://localhost/token", "http://[::1]/t"):
        assert load(unified_auth_clock,
                    mailer=mocked(token_url=url)).targets["mailer"].options.token_url \
            == url


def test_defaults_and_toml_values(unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    config = tmp_path / "unified-auth.toml"
    config.write_text(
        '[targets.mailer]\nprovider = "liana"\nhosts = ["rest.lianamailer.com"]\n'
        'client_id = "0f6b"\nclient_secret = { env = "LIANA_CLIENT_SECRET" }\n'
        'expires_on = 2027-05-31\n[targets.mailer.extra_params]\naudience = "mailer"\n',
        encoding="utf-8")
    options = unified_auth.load(config, clock=unified_auth_clock).targets["mailer"].options

    assert options.token_url == "https://tokens.lianacloud.com/token"
    assert options.client_auth == "post"
    assert options.default_ttl == 900
    assert options.scope is None
    assert options.expires_on == date(2027, 5, 31)
    assert dict(options.extra_params) == {"audience": "mailer"}
    hash(unified_auth.load(config,
                           clock=unified_auth_clock).targets["mailer"])  # targets stay hashable


def test_the_core_never_offers_it_another_providers_target() -> None:
    assert_never_offered_a_foreign_target(unified_auth_liana)
