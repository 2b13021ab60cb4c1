"""The ``liana-legacy``, ``basic`` and ``api-key`` providers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import unified_auth_legacy
from recorder import Recorder, always, echo_server, recording_server
from toy_provider import assert_never_offered_a_foreign_target
from unified_auth_legacy.options import LianaLegacyOptions
from unified_auth_legacy.signature import sign, string_to_sign

import unified_auth
from unified_auth import Credentials, RetryPolicy, Secret, Target, testing
from unified_auth.errors import (
    AuthFailed,
    ConfigError,
    PluginError,
    TokenEndpointError,
)
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CANARY = "canary-9f8e7d6c5b4a"
VECTOR_SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def unified_auth_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def echo() -> Iterator[str]:
    with echo_server() as url:
        yield url


@pytest.fixture
def refusing() -> Iterator[Recorder]:
    with recording_server(always(401)) as server:
        yield server


@pytest.fixture
def write_secret(tmp_path: Path) -> Callable[[str], dict[str, str]]:
    path = tmp_path / "legacy.secret"

    def write(secret: str) -> dict[str, str]:
        return {"file": str(testing.write_secret(path, secret))}

    return write


def load(clock: ManualClock, **targets: dict[str, Any]) -> unified_auth.UnifiedAuth:
    return unified_auth.load({"targets": targets}, clock=clock,
                             retry=RetryPolicy(sleep=lambda s: None))


def signed_hub(liana: LianaEmulator, clock: ManualClock, write_secret: Any,
               realm: str = "LianaMailer") -> tuple[unified_auth.UnifiedAuth, str]:
    user_id, secret = liana.create_legacy_user(realm)
    target = {"provider": "liana-legacy", "hosts": [f"{liana.url}/api/"], "realm": realm,
              "user_id": user_id, "secret": write_secret(secret)}
    return load(clock, legacy=target), secret


# -- the signature as a pure function -----------------------------------------------------


def test_published_vector() -> None:
    signature = sign(secret=VECTOR_SECRET, method="POST", body=b'["hello"]',
                     date="2020-01-15T12:00:00+03:00", path="/api/v1/echoMessage")

    assert signature.content_md5 == "1f0bf5038e61951a95c4a2a9db7c400a"
    assert signature.signature == \
        "89b60df150aad61e42fef7d6a43883c83e642aef2f7f2338b971c681f9992c26"
    assert signature.authorization("EUR", "123") == \
        "EUR 123:89b60df150aad61e42fef7d6a43883c83e642aef2f7f2338b971c681f9992c26"
    assert signature.signature not in repr(signature)


def test_string_to_sign_is_six_lines_without_a_trailing_newline() -> None:
    message = string_to_sign(method="get", content_md5="d41d8cd98f00b204e9800998ecf8427e",
                             date="2020-01-15T12:00:00+03:00", body=b"",
                             path="/api/v1/lists?limit=5")
    assert message == (b"GET\nd41d8cd98f00b204e9800998ecf8427e\napplication/json\n"
                       b"2020-01-15T12:00:00+03:00\n\n/api/v1/lists?limit=5")


def independent_signature(method: str, body: bytes, date: str, path: str) -> str:
    md5 = hashlib.md5(body).hexdigest()
    text = "\n".join([method, md5, "application/json", date, body.decode(), path])
    return hmac.new(VECTOR_SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("method", "body", "path"), [
    ("GET", b"", "/api/v1/lists?limit=5&q=a%20b"),
    ("POST", json.dumps(["hyvää päivää", "日本"], ensure_ascii=False).encode(),
     "/api/v1/echoMessage"),
])
def test_signature_matches_the_spec_for_queries_and_non_ascii(method: str, body: bytes,
                                                              path: str) -> None:
    date = "2020-01-15T12:00:00+03:00"
    signature = sign(secret=VECTOR_SECRET, method=method, body=body, date=date, path=path)
    assert signature.content_md5 == hashlib.md5(body).hexdigest()
    assert signature.signature == independent_signature(method, body, date, path)


def apply(body: Any, *, method: str = "POST", now: datetime = START,
          url: str = "https://legacy.test/api/v1/echoMessage?x=1") -> requests.PreparedRequest:
    request = requests.Request(method, url, data=body).prepare()
    target = Target(name="legacy", provider="liana-legacy", hosts=("legacy.test",),
                    options=LianaLegacyOptions(realm="EUR", user_id=123,
                                               secret=Secret(VECTOR_SECRET)))
    credentials = Credentials(value=Secret(VECTOR_SECRET), expires_at=None)
    assert unified_auth_legacy.apply_auth(target=target, credentials=credentials,
                                          request=request, now=now) is True
    return request


def test_apply_auth_sets_the_signed_headers() -> None:
    now = datetime(2020, 1, 15, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    request = apply(b'["hello"]', now=now, url="https://legacy.test/api/v1/echoMessage")

    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Content-MD5"] == "1f0bf5038e61951a95c4a2a9db7c400a"
    assert request.headers["Date"] == "2020-01-15T12:00:00+03:00"
    assert request.headers["Authorization"] == \
        "EUR 123:89b60df150aad61e42fef7d6a43883c83e642aef2f7f2338b971c681f9992c26"


def test_a_str_body_is_signed_and_sent_as_the_same_utf8_bytes() -> None:
    text = '["hyvää päivää"]'
    request = apply(text)

    assert request.body == text.encode("utf-8")
    assert request.headers["Content-Length"] == str(len(text.encode("utf-8")))
    assert request.headers["Content-MD5"] == hashlib.md5(text.encode()).hexdigest()


def test_a_seekable_file_is_read_signed_and_replaced_by_its_bytes() -> None:
    stream = io.BytesIO(b'xx["from a file"]')
    stream.seek(2)
    request = apply(stream)

    assert request.body == b'["from a file"]'
    assert request.headers["Content-Length"] == "15"
    assert "Transfer-Encoding" not in request.headers
    assert stream.tell() == 2  # the caller's file is left where it was


def test_a_text_file_is_signed_as_utf8() -> None:
    request = apply(io.StringIO('["ä"]'))
    assert request.body == '["ä"]'.encode()


class _Unseekable(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return 0


@pytest.mark.parametrize("body", [
    pytest.param((chunk for chunk in [b"[", b"]"]), id="generator"),
    pytest.param(iter([b"[]"]), id="iterator"),
    pytest.param(_Unseekable(), id="unseekable-stream"),
])
def test_a_body_that_can_be_read_only_once_is_refused(body: Any) -> None:
    with pytest.raises(PluginError) as caught:
        apply(body)

    message = str(caught.value)
    assert "target legacy: cannot sign this POST request to legacy.test" in message
    assert "read only once" in message
    assert "seekable file" in message
    assert isinstance(caught.value, requests.RequestException)
    assert VECTOR_SECRET not in message


# -- against the emulator, which verifies every signature -------------------------------


def test_signed_post_and_get_with_a_query_are_accepted(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    hub, secret = signed_hub(liana_emulator, unified_auth_clock, write_secret)
    session = hub.session()

    posted = session.post(f"{liana_emulator.url}/api/v1/echoMessage", json=["hello"])
    listed = session.get(f"{liana_emulator.url}/api/v1/lists", params={"limit": "5", "q": "a b"})

    assert posted.status_code == 200, liana_emulator.last_rejection
    assert posted.json()["result"] == ["hello"]
    assert listed.status_code == 200, liana_emulator.last_rejection
    assert listed.json()["query"] == {"limit": ["5"], "q": ["a b"]}
    assert listed.request.headers["Date"] == "2026-03-01T09:00:00+00:00"
    assert liana_emulator.counters.token_requests == 0
    assert_no_leaks([logs.text, repr(hub.credentials("legacy"))], [secret])


@pytest.mark.parametrize("make_body", [
    pytest.param(lambda text: text, id="str"),
    pytest.param(lambda text: text.encode(), id="bytes"),
    pytest.param(lambda text: io.BytesIO(text.encode()), id="file"),
])
def test_non_ascii_bodies_of_every_kind_are_accepted(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any,
        make_body: Callable[[str], Any]) -> None:
    hub, _ = signed_hub(liana_emulator, unified_auth_clock, write_secret)
    text = json.dumps(["hyvää päivää", "日本語"], ensure_ascii=False)

    response = hub.session().post(f"{liana_emulator.url}/api/v1/echoMessage", data=make_body(text))

    assert response.status_code == 200, liana_emulator.last_rejection
    assert response.json()["result"] == ["hyvää päivää", "日本語"]


def test_signing_works_through_a_per_target_auth_too(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any) -> None:
    hub, _ = signed_hub(liana_emulator, unified_auth_clock, write_secret)

    response = requests.post(f"{liana_emulator.url}/api/v1/echoMessage", data='["hyvää"]',
                             auth=hub.auth("legacy"), timeout=5)

    assert response.status_code == 200, liana_emulator.last_rejection
    assert response.json()["result"] == ["hyvää"]


def test_a_generator_body_is_refused_before_anything_is_sent(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any) -> None:
    hub, _ = signed_hub(liana_emulator, unified_auth_clock, write_secret)

    with pytest.raises(PluginError, match="read only once"):
        hub.session().post(f"{liana_emulator.url}/api/v1/echoMessage",
                           data=(chunk for chunk in [b'["hel', b'lo"]']))
    assert liana_emulator.counters.api_requests == 0


def test_a_wrong_secret_fails_with_the_legacy_explanation(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, write_secret: Any,
        logs: pytest.LogCaptureFixture) -> None:
    user_id, _ = liana_emulator.create_legacy_user("LianaMailer")
    hub = load(unified_auth_clock,
               legacy={"provider": "liana-legacy", "hosts": [f"{liana_emulator.url}/api/"],
                              "realm": "LianaMailer", "user_id": int(user_id),
                              "secret": write_secret(CANARY)})

    with pytest.raises(AuthFailed) as caught:
        hub.session().get(f"{liana_emulator.url}/api/v1/lists")

    assert "Liana refused the request signature" in str(caught.value)
    assert "clock" in str(caught.value)
    assert_no_leaks([str(caught.value), repr(caught.value), logs.text], [CANARY])


# -- basic and api-key, against a loopback echo server ----------------------------------


def test_basic_sends_utf8_credentials(echo: str, unified_auth_clock: ManualClock,
                                      monkeypatch: pytest.MonkeyPatch,
                                      logs: pytest.LogCaptureFixture) -> None:
    password = f"pässwörd-{CANARY}"
    monkeypatch.setenv("CLASSIC_PASSWORD", password)
    hub = load(unified_auth_clock, classic={"provider": "basic", "hosts": [f"{echo}/"],
                                            "username": "me@example.com",
                                            "password": {"env": "CLASSIC_PASSWORD"}})

    seen = hub.session().get(f"{echo}/api/v1/me").json()

    expected = base64.b64encode(f"me@example.com:{password}".encode()).decode()
    assert seen["headers"]["authorization"] == f"Basic {expected}"
    assert hub.credentials("classic").expires_at is None
    assert_no_leaks([logs.text, repr(hub.credentials("classic"))], [password, CANARY])


def test_basic_401_is_explained(refusing: Recorder, unified_auth_clock: ManualClock,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLASSIC_PASSWORD", CANARY)
    hub = load(unified_auth_clock, classic={
        "provider": "basic", "hosts": [f"{refusing.url}/"], "username": "me",
        "password": {"env": "CLASSIC_PASSWORD"}})

    with pytest.raises(AuthFailed, match="refused the username and password") as caught:
        hub.session().get(f"{refusing.url}/")
    assert_no_leaks([str(caught.value), repr(caught.value)], [CANARY])


@pytest.mark.parametrize(("options", "header", "value"), [
    ({}, "X-API-Key", CANARY),
    ({"header": "Authorization", "prefix": "Token"}, "Authorization", f"Token {CANARY}"),
])
def test_api_key_goes_in_its_header(echo: str, unified_auth_clock: ManualClock,
                                    monkeypatch: pytest.MonkeyPatch,
                                    logs: pytest.LogCaptureFixture, options: dict[str, str],
                                    header: str, value: str) -> None:
    monkeypatch.setenv("API_KEY", CANARY)
    hub = load(unified_auth_clock, tool={"provider": "api-key", "hosts": [f"{echo}/"],
                                         "key": {"env": "API_KEY"}, **options})

    seen = hub.session().get(f"{echo}/v1/things").json()

    assert seen["headers"][header.lower()] == value
    assert_no_leaks([logs.text, repr(hub.credentials("tool"))], [CANARY])


def test_api_key_that_cannot_go_in_a_header_is_refused_without_showing_it(
        echo: str, unified_auth_clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
        logs: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("API_KEY", f"{CANARY}\r\nX-Evil: 1")
    hub = load(unified_auth_clock, tool={"provider": "api-key", "hosts": [f"{echo}/"],
                                         "key": {"env": "API_KEY"}})

    # The core's check of every provider's credentials, naming the key to copy again.
    with pytest.raises(TokenEndpointError, match=r"targets\.tool\.key") as caught:
        hub.session().get(f"{echo}/")
    assert "a line break" in str(caught.value)
    assert_no_leaks([str(caught.value), repr(caught.value), logs.text], [CANARY])


# -- config --------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "key"), [
    ({"provider": "liana-legacy", "realm": "Liana Mailer", "user_id": "1", "secret": "x"},
     "realm"),
    ({"provider": "liana-legacy", "realm": "Bearer", "user_id": "1", "secret": "x"}, "realm"),
    ({"provider": "liana-legacy", "realm": "EUR", "user_id": "a:b", "secret": "x"},
     "user_id"),
    ({"provider": "liana-legacy", "realm": "EUR", "user_id": True, "secret": "x"},
     "user_id"),
    ({"provider": "liana-legacy", "realm": "EUR", "user_id": "1"}, "secret"),
    ({"provider": "basic", "username": "me:you", "password": "x"}, "username"),
    ({"provider": "api-key", "header": "X API Key", "key": "x"}, "header"),
    ({"provider": "api-key", "prefix": "To ken", "key": "x"}, "prefix"),
])
def test_config_errors_name_the_key(unified_auth_clock: ManualClock, target: dict[str, Any],
                                    key: str) -> None:
    with pytest.raises(ConfigError, match=rf"targets\.t\.{key}:"):
        load(unified_auth_clock, t={"hosts": ["api.example.com"], **target})


def test_the_core_never_offers_it_another_providers_target() -> None:
    assert_never_offered_a_foreign_target(unified_auth_legacy)
