"""The Liana emulator, driven over real HTTP on loopback, with time moved by a ManualClock."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import requests

from unified_auth.testing import LianaEmulator, ManualClock

TIMEOUT = 5


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def liana(clock: ManualClock) -> Iterator[LianaEmulator]:
    with LianaEmulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def credential(liana: LianaEmulator) -> tuple[str, str]:
    return liana.create_credential("tests")


def request_token(
    liana: LianaEmulator, client_id: str, secret: str, **form: str
) -> requests.Response:
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return requests.post(liana.token_url, data=data | form, timeout=TIMEOUT)


def get_token(liana: LianaEmulator, credential: tuple[str, str]) -> str:
    response = request_token(liana, *credential)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def get_lists(liana: LianaEmulator, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{liana.url}/v1/lists", headers=headers, timeout=TIMEOUT)


# -- OAuth 2.0 token endpoint ----------------------------------------------------------


def test_token_answer_has_the_rfc6749_fields(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    response = request_token(liana, *credential)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "default"
    assert len(body["access_token"]) >= 32
    assert get_lists(liana, body["access_token"]).status_code == 200


def test_requested_scope_is_echoed(liana: LianaEmulator, credential: tuple[str, str]) -> None:
    assert request_token(liana, *credential, scope="lists").json()["scope"] == "lists"


def test_token_expires_after_expires_in_seconds(
    liana: LianaEmulator, credential: tuple[str, str], clock: ManualClock
) -> None:
    token = get_token(liana, credential)

    clock.advance(899)
    assert get_lists(liana, token).status_code == 200
    clock.advance(1)
    response = get_lists(liana, token)

    assert response.status_code == 401
    assert response.json() == {"succeed": False, "message": "Unauthorized"}
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert liana.counters.expired_token_requests == 1
    assert liana.last_rejection == "expired token"


def test_new_expires_in_applies_to_tokens_issued_afterwards(
    liana: LianaEmulator, credential: tuple[str, str], clock: ManualClock
) -> None:
    old = get_token(liana, credential)
    liana.expires_in = 60
    new_answer = request_token(liana, *credential).json()

    clock.advance(61)

    assert new_answer["expires_in"] == 60
    assert get_lists(liana, new_answer["access_token"]).status_code == 401
    assert get_lists(liana, old).status_code == 200


def test_client_secret_basic_is_accepted(liana: LianaEmulator, credential: tuple[str, str]) -> None:
    response = requests.post(
        liana.token_url,
        data={"grant_type": "client_credentials"},
        auth=credential,
        timeout=TIMEOUT,
    )

    assert response.status_code == 200
    assert get_lists(liana, response.json()["access_token"]).status_code == 200


def test_basic_with_wrong_secret_is_invalid_client(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    response = requests.post(
        liana.token_url,
        data={"grant_type": "client_credentials"},
        auth=(credential[0], "not-the-secret"),
        timeout=TIMEOUT,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_two_client_authentication_methods_are_refused(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    response = requests.post(
        liana.token_url,
        data={"grant_type": "client_credentials", "client_secret": credential[1]},
        auth=credential,
        timeout=TIMEOUT,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "client",
    [
        pytest.param(("unknown-client", "whatever-secret"), id="unknown client"),
        pytest.param(None, id="wrong secret"),
    ],
)
def test_bad_client_is_invalid_client_with_a_basic_challenge(
    liana: LianaEmulator, credential: tuple[str, str], client: tuple[str, str] | None
) -> None:
    client_id, secret = client or (credential[0], credential[1] + "x")

    response = request_token(liana, client_id, secret)

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed",
    }
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_missing_client_credentials_is_invalid_client(liana: LianaEmulator) -> None:
    response = requests.post(
        liana.token_url, data={"grant_type": "client_credentials"}, timeout=TIMEOUT
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": ""}, "unsupported_grant_type"),
        ({}, "invalid_request"),
    ],
)
def test_grant_type_errors(
    liana: LianaEmulator, credential: tuple[str, str], form: dict[str, str], error: str
) -> None:
    data = {"client_id": credential[0], "client_secret": credential[1]} | form

    response = requests.post(liana.token_url, data=data, timeout=TIMEOUT)

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_json_token_request_is_invalid_request(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    body = {"grant_type": "client_credentials", "client_id": credential[0]}

    response = requests.post(liana.token_url, json=body, timeout=TIMEOUT)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_get_on_token_endpoint_is_refused(liana: LianaEmulator) -> None:
    assert requests.get(liana.token_url, timeout=TIMEOUT).status_code == 405


# -- admin: credentials ----------------------------------------------------------------


def test_rotation_kills_the_old_secret_at_once_but_not_issued_tokens(
    liana: LianaEmulator, credential: tuple[str, str], clock: ManualClock
) -> None:
    client_id, old_secret = credential
    token = get_token(liana, credential)

    new_secret = liana.rotate_secret(client_id)

    assert new_secret != old_secret
    assert request_token(liana, client_id, old_secret).status_code == 401
    assert request_token(liana, client_id, new_secret).status_code == 200
    assert get_lists(liana, token).status_code == 200
    clock.advance(900)
    assert get_lists(liana, token).status_code == 401


def test_deletion_kills_the_credential_and_its_tokens(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    other = liana.create_credential("other")
    token, other_token = get_token(liana, credential), get_token(liana, other)

    liana.delete_credential(credential[0])

    assert request_token(liana, *credential).json()["error"] == "invalid_client"
    assert get_lists(liana, token).status_code == 401
    assert get_lists(liana, other_token).status_code == 200
    assert [c.client_id for c in liana.credentials()] == [other[0]]
    with pytest.raises(KeyError):
        liana.rotate_secret(credential[0])


def test_the_old_admin_names_still_work_and_say_they_are_deprecated(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    with pytest.warns(DeprecationWarning, match="use rotate_secret"):
        new_secret = liana.rotate(credential[0])
    assert request_token(liana, credential[0], new_secret).status_code == 200
    with pytest.warns(DeprecationWarning, match="use delete_credential"):
        liana.delete(credential[0])
    assert liana.credentials() == []


def test_credential_works_through_its_expiration_date(
    liana: LianaEmulator, clock: ManualClock
) -> None:
    credential = liana.create_credential("short-lived", expires_on=date(2024, 5, 1))
    assert request_token(liana, *credential).status_code == 200

    clock.set(datetime(2024, 5, 2, 0, 0, tzinfo=UTC))

    assert request_token(liana, *credential).json()["error"] == "invalid_client"
    assert liana.last_rejection == "credential past its expiration date"


def test_revoke_tokens_of_one_client_or_all(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    other = liana.create_credential("other")
    token, other_token = get_token(liana, credential), get_token(liana, other)

    assert liana.revoke_tokens(credential[0]) == 1
    assert get_lists(liana, token).status_code == 401
    assert get_lists(liana, other_token).status_code == 200

    liana.revoke_tokens()
    assert get_lists(liana, other_token).status_code == 401
    assert liana.counters.expired_token_requests == 0


def test_credentials_list_shows_activity_and_never_the_secret(
    liana: LianaEmulator, credential: tuple[str, str], clock: ManualClock
) -> None:
    client_id, secret = credential
    (before,) = liana.credentials()
    token = get_token(liana, credential)
    clock.advance(30)
    get_lists(liana, token)

    (info,) = liana.credentials()

    assert before.last_active is None
    assert info.client_id == client_id
    assert info.name == "tests"
    assert info.created_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert info.last_active == datetime(2024, 5, 1, 12, 0, 30, tzinfo=UTC)
    assert secret not in repr(liana.credentials()) + repr(liana.__dict__)


# -- the API ---------------------------------------------------------------------------


def test_license_flag_off_gives_403_that_names_the_license(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    token = get_token(liana, credential)
    liana.api_enabled = False

    response = get_lists(liana, token)

    assert response.status_code == 403
    assert response.json()["succeed"] is False
    assert "separate API license" in response.json()["message"]
    assert liana.counters.rejected_requests == 1


def test_unknown_path_is_404(liana: LianaEmulator, credential: tuple[str, str]) -> None:
    token = get_token(liana, credential)

    response = requests.get(
        f"{liana.url}/v1/nope", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )

    assert response.status_code == 404
    assert response.json() == {"succeed": False, "message": "Not found"}


def test_request_without_auth_is_401(liana: LianaEmulator) -> None:
    response = requests.get(f"{liana.url}/v1/lists", timeout=TIMEOUT)

    assert response.status_code == 401
    assert response.json() == {"succeed": False, "message": "Unauthorized"}


def test_unknown_bearer_token_is_401_invalid_token(liana: LianaEmulator) -> None:
    response = get_lists(liana, "made-up-token")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_echo_message_returns_the_parsed_body(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    token = get_token(liana, credential)

    response = requests.post(
        f"{liana.url}/api/v1/echoMessage",
        json={"hello": ["wörld", 1]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )

    assert response.json() == {"succeed": True, "result": {"hello": ["wörld", 1]}}


def test_counters_count_and_reset(liana: LianaEmulator, credential: tuple[str, str]) -> None:
    token = get_token(liana, credential)
    get_lists(liana, token)
    get_lists(liana, "bad")
    request_token(liana, credential[0], "bad")

    assert liana.stats() == {
        "token_requests": 2,
        "tokens_issued": 1,
        "api_requests": 2,
        "rejected_requests": 2,
        "expired_token_requests": 0,
        "faults_injected": 0,
    }
    liana.reset_counters()
    assert liana.counters.token_requests == 0


# -- fault injection -------------------------------------------------------------------


def test_status_fault_answers_that_status_then_recovers(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    liana.inject_fault("status", status=503, times=2)

    statuses = [request_token(liana, *credential).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert liana.counters.faults_injected == 2


def test_malformed_fault_answers_200_with_a_body_that_is_not_json(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    liana.inject_fault("malformed")

    response = request_token(liana, *credential)

    assert response.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_drop_fault_closes_the_connection(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    liana.inject_fault("drop")

    with pytest.raises(requests.ConnectionError):
        request_token(liana, *credential)
    assert request_token(liana, *credential).status_code == 200


def test_delay_fault_answers_late_without_blocking_other_requests(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    token = get_token(liana, credential)
    liana.inject_fault("delay", seconds=0.5)
    slow: list[requests.Response] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: slow.append(request_token(liana, *credential)))
    thread.start()
    time.sleep(0.05)

    assert get_lists(liana, token).status_code == 200
    assert time.monotonic() - started < 0.4
    thread.join()
    assert slow[0].status_code == 200
    assert time.monotonic() - started >= 0.5


def test_delay_fault_trips_a_client_timeout(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    liana.inject_fault("delay", seconds=0.4)
    data = {"grant_type": "client_credentials", "client_id": credential[0]}

    with pytest.raises(requests.Timeout):
        requests.post(liana.token_url, data=data, timeout=0.1)


def test_clear_faults_forgets_pending_faults(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    liana.inject_fault("status", times=5)
    liana.clear_faults()

    assert request_token(liana, *credential).status_code == 200


# -- legacy signed requests ------------------------------------------------------------

VECTOR_SECRET = "0123456789abcdef0123456789abcdef"
VECTOR_DATE = "2020-01-15T12:00:00+03:00"


def sign(
    secret: str, method: str, target: str, body: bytes, date_header: str, realm: str, user: str
) -> dict[str, str]:
    """Liana's legacy signature, written here from the spec as an oracle for the emulator."""
    content_md5 = hashlib.md5(body).hexdigest()
    string_to_sign = "\n".join(
        [method, content_md5, "application/json", date_header, body.decode("utf-8"), target]
    )
    signature = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "Content-MD5": content_md5,
        "Date": date_header,
        "Authorization": f"{realm} {user}:{signature}",
    }


@pytest.fixture
def legacy(liana: LianaEmulator, clock: ManualClock) -> LianaEmulator:
    clock.set(datetime.fromisoformat(VECTOR_DATE))
    liana.add_legacy_user("123", VECTOR_SECRET, realm="EUR")
    return liana


def post_signed(liana: LianaEmulator, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        f"{liana.url}/api/v1/echoMessage", data=body, headers=headers, timeout=TIMEOUT
    )


def test_published_signature_vector_is_accepted(legacy: LianaEmulator) -> None:
    headers = sign(
        VECTOR_SECRET, "POST", "/api/v1/echoMessage", b'["hello"]', VECTOR_DATE, "EUR", "123"
    )

    response = post_signed(legacy, b'["hello"]', headers)

    assert headers["Content-MD5"] == "1f0bf5038e61951a95c4a2a9db7c400a"
    assert headers["Authorization"] == (
        "EUR 123:89b60df150aad61e42fef7d6a43883c83e642aef2f7f2338b971c681f9992c26"
    )
    assert response.status_code == 200, legacy.last_rejection
    assert response.json() == {"succeed": True, "result": ["hello"]}


def vector_headers() -> dict[str, str]:
    return sign(
        VECTOR_SECRET, "POST", "/api/v1/echoMessage", b'["hello"]', VECTOR_DATE, "EUR", "123"
    )


@pytest.mark.parametrize(
    ("body", "changes", "reason"),
    [
        pytest.param(
            b'["hellO"]',
            {"Content-MD5": hashlib.md5(b'["hellO"]').hexdigest()},
            "signature mismatch",
            id="tampered body with matching MD5",
        ),
        pytest.param(b'["hellO"]', {}, "Content-MD5 does not match the body", id="tampered body"),
        pytest.param(
            b'["hello"]',
            {"Content-MD5": "0" * 32},
            "Content-MD5 does not match the body",
            id="wrong MD5",
        ),
        pytest.param(
            b'["hello"]',
            {"Authorization": "LianaMailer 123:" + "0" * 64},
            "unknown legacy user '123' in realm 'LianaMailer'",
            id="wrong realm",
        ),
        pytest.param(
            b'["hello"]', {"Date": "yesterday"}, "Date is not an ISO 8601 timestamp", id="bad Date"
        ),
        pytest.param(
            b'["hello"]',
            {"Content-Type": "text/plain"},
            "Content-Type must be application/json",
            id="content type",
        ),
    ],
)
def test_tampered_signed_request_is_refused(
    legacy: LianaEmulator, body: bytes, changes: dict[str, str], reason: str
) -> None:
    response = post_signed(legacy, body, vector_headers() | changes)

    assert response.status_code == 401
    assert response.json() == {"succeed": False, "message": "Unauthorized"}
    assert legacy.last_rejection == reason


@pytest.mark.parametrize("skew", [-15 * 60, 15 * 60])
def test_date_up_to_15_minutes_off_is_accepted(
    legacy: LianaEmulator, clock: ManualClock, skew: int
) -> None:
    clock.set(datetime.fromisoformat(VECTOR_DATE) + timedelta(seconds=skew))

    assert post_signed(legacy, b'["hello"]', vector_headers()).status_code == 200


@pytest.mark.parametrize("skew", [-15 * 60 - 1, 15 * 60 + 1])
def test_stale_or_future_date_is_refused(
    legacy: LianaEmulator, clock: ManualClock, skew: int
) -> None:
    clock.set(datetime.fromisoformat(VECTOR_DATE) + timedelta(seconds=skew))

    assert post_signed(legacy, b'["hello"]', vector_headers()).status_code == 401
    assert legacy.last_rejection == "Date is more than 15 minutes away from the server clock"


def now_header(clock: ManualClock) -> str:
    helsinki = timezone(timedelta(hours=2))
    return datetime.fromtimestamp(clock(), helsinki).isoformat(timespec="seconds")


def test_signed_get_covers_the_query_string(liana: LianaEmulator, clock: ManualClock) -> None:
    user, secret = liana.create_legacy_user()
    target = "/api/v1/lists?limit=10&offset=0"
    headers = sign(secret, "GET", target, b"", now_header(clock), "LianaMailer", user)

    response = requests.get(f"{liana.url}{target}", headers=headers, timeout=TIMEOUT)
    other_query = requests.get(
        f"{liana.url}/api/v1/lists?limit=11&offset=0", headers=headers, timeout=TIMEOUT
    )

    assert response.status_code == 200, liana.last_rejection
    assert response.json()["query"] == {"limit": ["10"], "offset": ["0"]}
    assert other_query.status_code == 401


def test_signed_non_ascii_body_is_accepted(liana: LianaEmulator, clock: ManualClock) -> None:
    user, secret = liana.create_legacy_user()
    body = '{"name": "Päivi Äänekoski ☃"}'.encode()
    headers = sign(
        secret, "POST", "/api/v1/echoMessage", body, now_header(clock), "LianaMailer", user
    )

    response = post_signed(liana, body, headers)

    assert response.status_code == 200, liana.last_rejection
    assert response.json()["result"] == {"name": "Päivi Äänekoski ☃"}


def test_signed_request_without_license_is_403(legacy: LianaEmulator) -> None:
    legacy.api_enabled = False

    assert post_signed(legacy, b'["hello"]', vector_headers()).status_code == 403


# -- the server itself -----------------------------------------------------------------


def test_url_has_no_trailing_slash_and_needs_a_running_server(clock: ManualClock) -> None:
    liana = LianaEmulator(clock=clock)
    with pytest.raises(RuntimeError, match="not running"):
        _ = liana.url

    with liana:
        assert liana.url.startswith("http://127.0.0.1:")
        assert not liana.url.endswith("/")
        assert liana.token_url == f"{liana.url}/token"


def test_keep_alive_serves_many_requests_on_one_connection(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    token = get_token(liana, credential)
    port = int(liana.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    connection.connect()
    first_socket = connection.sock

    for _ in range(3):
        connection.request("GET", "/v1/lists", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        assert response.status == 200
        assert int(response.headers["Content-Length"]) == len(response.read())

    assert connection.sock is first_socket
    connection.close()


def test_stop_is_idempotent_and_closes_the_socket(clock: ManualClock) -> None:
    liana = LianaEmulator(clock=clock).start()
    port = int(liana.url.rsplit(":", 1)[1])

    liana.stop()
    liana.stop()

    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass


def test_stop_cuts_open_keep_alive_connections(
    liana: LianaEmulator, credential: tuple[str, str]
) -> None:
    session = requests.Session()
    token = session.post(
        liana.token_url,
        data={"grant_type": "client_credentials"},
        auth=credential,
        timeout=TIMEOUT,
    ).json()["access_token"]
    url = f"{liana.url}/v1/lists"

    liana.stop()

    with pytest.raises(requests.ConnectionError):
        session.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)


def test_server_prints_nothing(
    liana: LianaEmulator, credential: tuple[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    get_lists(liana, get_token(liana, credential))
    get_lists(liana, "bad")
    liana.inject_fault("drop")
    with pytest.raises(requests.ConnectionError):
        request_token(liana, *credential)

    assert capfd.readouterr() == ("", "")
