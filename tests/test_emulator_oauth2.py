"""The generic OAuth 2.0 emulator, driven over real HTTP, its assertions made with PyJWT."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import requests

from unified_auth.testing import ManualClock, OAuth2Emulator

TIMEOUT = 5
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def server(clock: ManualClock) -> Iterator[OAuth2Emulator]:
    with OAuth2Emulator(clock=clock) as emulator:
        yield emulator


def post(server: OAuth2Emulator, **form: str) -> requests.Response:
    return requests.post(server.token_url, data={"grant_type": "client_credentials", **form},
                         timeout=TIMEOUT)


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def assertion(server: OAuth2Emulator, client_id: str, pem: str, *, alg: str = "RS256",
              **claims: Any) -> str:
    issued = int(NOW.timestamp())
    body = {"iss": client_id, "sub": client_id, "aud": server.token_url,
            "jti": uuid.uuid4().hex, "iat": issued, "exp": issued + 60, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, pem, algorithm=alg)


def with_assertion(server: OAuth2Emulator, signed: str) -> requests.Response:
    return post(server, client_assertion=signed, client_assertion_type=ASSERTION_TYPE)


def refusal(response: requests.Response) -> tuple[int, str, str]:
    document = response.json()
    return response.status_code, document["error"], document["error_description"]


# -- the two secret methods ------------------------------------------------------------------


def test_basic_client_gets_an_rfc6749_answer(server: OAuth2Emulator) -> None:
    client_id, secret = server.create_client(scopes={"read", "write"})
    response = requests.post(server.token_url, data={"grant_type": "client_credentials",
                                                     "scope": "read"},
                             headers=basic(client_id, secret), timeout=TIMEOUT)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.json()
    assert set(answer) == {"access_token", "token_type", "expires_in", "scope"}
    assert (answer["token_type"], answer["expires_in"], answer["scope"]) == ("Bearer", 3600,
                                                                            "read")
    whoami = requests.get(f"{server.url}/api/whoami", timeout=TIMEOUT,
                          headers={"Authorization": f"Bearer {answer['access_token']}"})
    assert whoami.json() == {"client_id": client_id, "scope": "read", "audience": None}


def test_a_client_may_use_only_its_registered_method(server: OAuth2Emulator) -> None:
    client_id, secret = server.create_client("client_secret_post")
    assert post(server, client_id=client_id, client_secret=secret).status_code == 200
    response = requests.post(server.token_url, data={"grant_type": "client_credentials"},
                             headers=basic(client_id, secret), timeout=TIMEOUT)
    assert refusal(response)[:2] == (401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_wrong_secret_unknown_client_and_two_methods_are_refused(server: OAuth2Emulator) -> None:
    client_id, secret = server.create_client("client_secret_post")
    assert refusal(post(server, client_id=client_id, client_secret="x" + secret))[:2] == \
        (401, "invalid_client")
    assert refusal(post(server, client_id="nobody", client_secret=secret))[:2] == \
        (401, "invalid_client")
    both = requests.post(server.token_url, headers=basic(client_id, secret), timeout=TIMEOUT,
                         data={"grant_type": "client_credentials", "client_secret": secret})
    assert refusal(both)[:2] == (400, "invalid_request")


@pytest.mark.parametrize(("form", "expected"), [
    ({"scope": "read admin"}, (400, "invalid_scope")),
    ({"audience": "https://other.test"}, (400, "invalid_target")),
    ({"resource": "https://other.test"}, (400, "invalid_target")),
    ({"grant_type": "password"}, (400, "unsupported_grant_type")),
])
def test_scopes_audiences_and_grants_are_checked(server: OAuth2Emulator, form: dict[str, str],
                                                  expected: tuple[int, str]) -> None:
    client_id, secret = server.create_client("client_secret_post", scopes={"read"},
                                             audiences={"https://api.test"})
    assert refusal(post(server, client_id=client_id, client_secret=secret, **form))[:2] == \
        expected
    assert server.counters.rejected_requests == 1


def test_audience_is_recorded_on_the_token(server: OAuth2Emulator) -> None:
    client_id, secret = server.create_client("client_secret_post", audiences={"https://api.test"})
    token = post(server, client_id=client_id, client_secret=secret,
                 resource="https://api.test").json()["access_token"]
    whoami = requests.get(f"{server.url}/api/whoami", timeout=TIMEOUT,
                          headers={"Authorization": f"Bearer {token}"})
    assert whoami.json()["audience"] == "https://api.test"


def test_without_expires_in_the_answer_leaves_it_out(clock: ManualClock) -> None:
    with OAuth2Emulator(clock=clock, expires_in=None) as server:
        client_id, secret = server.create_client("client_secret_post")
        answer = post(server, client_id=client_id, client_secret=secret).json()
    assert "expires_in" not in answer


def test_tokens_expire_and_are_counted(server: OAuth2Emulator, clock: ManualClock) -> None:
    client_id, secret = server.create_client("client_secret_post")
    token = post(server, client_id=client_id, client_secret=secret).json()["access_token"]
    clock.advance(3600)
    whoami = requests.get(f"{server.url}/api/whoami", timeout=TIMEOUT,
                          headers={"Authorization": f"Bearer {token}"})
    assert whoami.status_code == 401
    assert 'error="invalid_token"' in whoami.headers["WWW-Authenticate"]
    assert server.counters.expired_token_requests == 1


# -- private_key_jwt ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_pyjwt_assertion_is_accepted(server: OAuth2Emulator, alg: str) -> None:
    client_id, pem = server.create_key_client(alg)
    assert with_assertion(server, assertion(server, client_id, pem, alg=alg)).status_code == 200


@pytest.mark.parametrize(("claims", "problem"), [
    ({"exp": int(NOW.timestamp()) - 1}, "has expired"),
    ({"exp": int(NOW.timestamp()) + 301}, "valid for more than 300 s"),
    ({"iat": int(NOW.timestamp()) + 120, "exp": int(NOW.timestamp()) + 180}, "in the future"),
    ({"aud": "https://elsewhere.test/token"}, "aud is not this server's token endpoint"),
    ({"sub": "someone-else"}, "iss and sub must both be the client id"),
    ({"jti": None}, "has no jti"),
    ({"exp": None}, "has no exp"),
])
def test_a_bad_assertion_is_refused_saying_why(server: OAuth2Emulator, claims: dict[str, Any],
                                               problem: str) -> None:
    client_id, pem = server.create_key_client()
    status, error, description = refusal(with_assertion(
        server, assertion(server, client_id, pem, **claims)))
    assert (status, error) == (401, "invalid_client")
    assert problem in description


def test_an_assertion_is_accepted_once(server: OAuth2Emulator) -> None:
    client_id, pem = server.create_key_client()
    signed = assertion(server, client_id, pem)
    assert with_assertion(server, signed).status_code == 200
    assert "jti was used before" in refusal(with_assertion(server, signed))[2]


def test_an_assertion_signed_with_another_key_or_kid_is_refused(server: OAuth2Emulator) -> None:
    client_id, _ = server.create_key_client(key_id="k1")
    _, other = server.create_key_client()
    assert "signature does not verify" in refusal(with_assertion(
        server, assertion(server, client_id, other)))[2]


def test_the_expected_audience_can_be_changed(server: OAuth2Emulator) -> None:
    client_id, pem = server.create_key_client()
    server.expected_audience = "https://issuer.test"
    assert with_assertion(server, assertion(server, client_id, pem,
                                            aud=["https://issuer.test"])).status_code == 200


def test_a_wrong_assertion_type_is_invalid_request(server: OAuth2Emulator) -> None:
    client_id, pem = server.create_key_client()
    response = post(server, client_assertion=assertion(server, client_id, pem),
                    client_assertion_type="urn:other")
    assert refusal(response)[:2] == (400, "invalid_request")


# -- faults --------------------------------------------------------------------------------


def test_faults_answer_as_injected_then_recover(server: OAuth2Emulator) -> None:
    client_id, secret = server.create_client("client_secret_post")
    server.inject_fault("status", status=503)
    server.inject_fault("malformed")
    server.inject_fault("drop")
    assert refusal(post(server, client_id=client_id, client_secret=secret))[:2] == \
        (503, "temporarily_unavailable")
    malformed = post(server, client_id=client_id, client_secret=secret)
    assert malformed.status_code == 200
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        malformed.json()
    with pytest.raises(requests.ConnectionError):
        post(server, client_id=client_id, client_secret=secret)
    assert post(server, client_id=client_id, client_secret=secret).status_code == 200
    assert server.counters.faults_injected == 3


def test_a_delay_fault_answers_late(server: OAuth2Emulator) -> None:
    client_id, secret = server.create_client("client_secret_post")
    server.inject_fault("delay", seconds=0.3)
    started = time.monotonic()
    assert post(server, client_id=client_id, client_secret=secret).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_bad_fault_arguments_are_refused(server: OAuth2Emulator) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        server.inject_fault("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times must be"):
        server.inject_fault("status", status=42)
