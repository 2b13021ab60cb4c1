"""The ``liana`` provider in Liana's terms: its wording, expiration dates, license and keys.

What it shares with ``oauth2`` (the token request, the answers, refusals, rotation) runs
over both providers in test_client_credentials.py.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
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


def token_answer(**fields: Any) -> dict[str, Any]:
    return {"access_token": TOKEN_CANARY, "token_type": "Bearer", "expires_in": 900,
            "scope": "default", **fields}


# -- refusals from the token endpoint ----------------------------------------------------


def test_wrong_secret_is_rejected_with_every_cause_and_fix_in_lianaaccount(
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
