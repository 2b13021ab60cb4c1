"""The adapter: per-host credentials, 401 handling, and nothing sent where it doesn't belong."""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses
from recorder import Answer, Script, Seen, always, echo_server, recording_server
from toy_provider import body, load, toy_target, write_secret

from unified_auth.errors import AuthFailed
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks


@pytest.fixture
def echo() -> Iterator[str]:
    with echo_server() as url:
        yield url


@pytest.fixture
def other_echo() -> Iterator[str]:
    with echo_server() as url:
        yield url


def toy_hub(liana: LianaEmulator, clock: ManualClock, tmp_path: Path):  # type: ignore[no-untyped-def]
    client_id, secret = liana.create_credential("adapter")
    secret_file = write_secret(tmp_path / "toy.secret", secret)
    return load({"targets": {"api": toy_target(liana.url, client_id, secret_file)}},
                clock=clock)


def mocked_toy_hub(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A toy target on api.example.com, its tokens from auth.example.com (mock them)."""
    secret = write_secret(tmp_path / "s", "secret-canary-value")
    return load({"targets": {"api": {
        "provider": "toy", "hosts": ["api.example.com"], "client_id": "c",
        "client_secret": {"file": str(secret)},
        "token_url": "https://auth.example.com/token"}}})


def key_hub(echo: str, tmp_path: Path, **extra: object):  # type: ignore[no-untyped-def]
    key = write_secret(tmp_path / "key", "key-canary-1234567890")
    return load({"targets": {"keyed": {"provider": "toy-key", "hosts": [f"{echo}/"],
                                       "key": {"file": str(key)}, **extra}}})


def test_each_request_gets_the_credentials_of_its_own_host(echo: str, other_echo: str,
                                                           tmp_path: Path) -> None:
    session = key_hub(echo, tmp_path).session()
    assert body(session.get(f"{echo}/x"))["headers"]["x-toy-key"] == "key-canary-1234567890"
    assert "x-toy-key" not in body(session.get(f"{other_echo}/x"))["headers"]


def test_the_callers_request_object_never_carries_credentials(echo: str,
                                                              tmp_path: Path) -> None:
    session = key_hub(echo, tmp_path).session()
    prepared = session.prepare_request(requests.Request("GET", f"{echo}/x"))
    response = session.send(prepared)
    assert "X-Toy-Key" not in prepared.headers
    assert response.request.headers["X-Toy-Key"]  # the copy that went out had them


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_is_sent_without_credentials(
        echo: str, other_echo: str, tmp_path: Path, status: int) -> None:
    session = key_hub(echo, tmp_path).session()
    response = session.get(f"{echo}/redirect/{status}?to={other_echo}/landed")
    landed = body(response)
    assert landed["path"] == "/landed"
    assert "x-toy-key" not in landed["headers"]
    assert "authorization" not in landed["headers"]


def test_a_redirect_within_the_target_keeps_its_credentials(echo: str,
                                                            tmp_path: Path) -> None:
    session = key_hub(echo, tmp_path).session()
    landed = body(session.get(f"{echo}/redirect/302?to={echo}/landed"))
    assert landed["headers"]["x-toy-key"] == "key-canary-1234567890"


@responses.activate
def test_a_redirect_to_plain_http_on_the_same_host_is_sent_without_credentials(
        tmp_path: Path) -> None:
    key = write_secret(tmp_path / "key", "key-canary-1234567890")
    hub = load({"targets": {"keyed": {"provider": "toy-key", "hosts": ["api.example.com"],
                                      "key": {"file": str(key)}}}})
    responses.get("https://api.example.com/start", status=302,
                  headers={"Location": "http://api.example.com/landed"})
    responses.get("http://api.example.com/landed", json={})
    hub.session().get("https://api.example.com/start")
    first, second = (call.request for call in responses.calls)
    assert first.headers["X-Toy-Key"] == "key-canary-1234567890"
    assert "X-Toy-Key" not in second.headers


def test_a_401_drops_the_token_fetches_once_and_retries_once(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    hub = toy_hub(liana_emulator, unified_auth_clock, tmp_path)
    session = hub.session()
    assert session.get(f"{liana_emulator.url}/v1/lists").status_code == 200
    liana_emulator.revoke_tokens()
    response = session.get(f"{liana_emulator.url}/v1/lists")
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    counters = liana_emulator.counters
    assert counters.tokens_issued == 2
    assert counters.api_requests == 3


def test_a_post_with_a_replayable_body_is_retried_with_the_same_body(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    hub = toy_hub(liana_emulator, unified_auth_clock, tmp_path)
    session = hub.session()
    hub.credentials("api")
    liana_emulator.revoke_tokens()
    response = session.post(f"{liana_emulator.url}/v1/echoMessage", json={"a": [1, "ä"]})
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert response.json()["result"] == {"a": [1, "ä"]}  # the body went out again, intact
    assert liana_emulator.counters.tokens_issued == 2


@responses.activate
def test_a_second_401_raises_auth_failed_with_the_providers_explanation(
        tmp_path: Path) -> None:
    issued = iter(range(100))
    responses.add_callback(
        responses.POST, "https://auth.example.com/token",
        callback=lambda r: (200, {}, f'{{"access_token": "t{next(issued)}", '
                                     f'"expires_in": 900}}'))
    responses.get("https://api.example.com/v1/x", status=401)
    hub = mocked_toy_hub(tmp_path)
    with pytest.raises(AuthFailed) as failure:
        hub.session().get("https://api.example.com/v1/x")
    message = str(failure.value)
    assert "target api" in message and "401" in message and "retried once" in message
    assert "rotate the toy secret" in message
    assert isinstance(failure.value, requests.RequestException)
    assert failure.value.response is not None and failure.value.response.status_code == 401
    api_calls = [c for c in responses.calls if "api.example.com" in c.request.url]
    token_calls = [c for c in responses.calls if "auth.example.com" in c.request.url]
    assert len(api_calls) == 2 and len(token_calls) == 2
    assert api_calls[0].request.headers["Authorization"] == "Bearer t0"
    assert api_calls[1].request.headers["Authorization"] == "Bearer t1"


@responses.activate
def test_a_streamed_body_is_not_retried(tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    responses.post("https://auth.example.com/token",
                   json={"access_token": "t", "expires_in": 900})
    responses.post("https://api.example.com/upload", status=401)
    hub = mocked_toy_hub(tmp_path)

    def stream() -> Iterator[bytes]:
        yield b'["hello"]'

    with caplog.at_level(logging.INFO, logger="unified_auth"):
        response = hub.session().post("https://api.example.com/upload", data=stream())
    assert response.status_code == 401
    assert "not retried" in caplog.text
    assert len([c for c in responses.calls if "upload" in c.request.url]) == 1


def test_a_file_body_is_not_retried_either(liana_emulator: LianaEmulator,
                                           unified_auth_clock: ManualClock,
                                           tmp_path: Path) -> None:
    hub = toy_hub(liana_emulator, unified_auth_clock, tmp_path)
    hub.credentials("api")
    liana_emulator.revoke_tokens()
    session = hub.session()
    response = session.post(f"{liana_emulator.url}/v1/lists", data=io.BytesIO(b"x"))
    assert response.status_code == 401
    assert liana_emulator.counters.api_requests == 1
    assert session.get(f"{liana_emulator.url}/v1/lists").status_code == 200  # fresh token next time
    assert liana_emulator.counters.tokens_issued == 2


def test_a_request_to_an_unclaimed_host_goes_out_untouched(echo: str, other_echo: str,
                                                           tmp_path: Path) -> None:
    session = key_hub(echo, tmp_path).session()
    headers = body(session.get(f"{other_echo}/x", headers={"X-Mine": "1"}))["headers"]
    assert headers["x-mine"] == "1"
    assert "x-toy-key" not in headers


def test_target_auth_authenticates_only_its_hosts(echo: str, other_echo: str,
                                                  tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    auth = key_hub(echo, tmp_path).auth("keyed")
    assert body(requests.get(f"{echo}/x", auth=auth, timeout=5))["headers"]["x-toy-key"]
    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        elsewhere = body(requests.get(f"{other_echo}/x", auth=auth, timeout=5))
    assert "x-toy-key" not in elsewhere["headers"]
    assert "not one of its hosts" in caplog.text


def test_target_auth_takes_its_headers_off_a_redirect_to_another_host(
        echo: str, other_echo: str, tmp_path: Path) -> None:
    auth = key_hub(echo, tmp_path).auth("keyed")
    response = requests.get(f"{echo}/redirect/307?to={other_echo}/landed", auth=auth,
                            timeout=5)
    assert body(response)["path"] == "/landed"
    assert "x-toy-key" not in body(response)["headers"]


def test_target_auth_retries_a_401_once(liana_emulator: LianaEmulator,
                                        unified_auth_clock: ManualClock,
                                        tmp_path: Path) -> None:
    hub = toy_hub(liana_emulator, unified_auth_clock, tmp_path)
    auth = hub.auth("api")
    hub.credentials("api")
    liana_emulator.revoke_tokens()
    response = requests.get(f"{liana_emulator.url}/v1/lists", auth=auth, timeout=5)
    assert response.status_code == 200
    assert liana_emulator.counters.tokens_issued == 2


def test_hub_headers_shows_what_a_target_adds(echo: str, tmp_path: Path) -> None:
    hub = key_hub(echo, tmp_path)
    assert hub.headers("keyed") == {"X-Toy-Key": "key-canary-1234567890"}


@pytest.mark.parametrize("via", ["session", "auth"])
def test_a_403_is_explained_once_per_target(liana_emulator: LianaEmulator,
                                            unified_auth_clock: ManualClock,
                                            tmp_path: Path, via: str,
                                            caplog: pytest.LogCaptureFixture) -> None:
    hub = toy_hub(liana_emulator, unified_auth_clock, tmp_path)
    liana_emulator.api_enabled = False
    url = f"{liana_emulator.url}/v1/lists"
    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        for _ in range(3):
            if via == "session":
                response = hub.session().get(url)
            else:
                response = requests.get(url, auth=hub.auth("api"), timeout=5)
            assert response.status_code == 403
    explained = [r for r in caplog.records if "needs a toy license" in r.getMessage()]
    assert len(explained) == 1


def test_target_for_names_the_owner_of_a_url(echo: str, tmp_path: Path) -> None:
    hub = key_hub(echo, tmp_path)
    assert hub.target_for(f"{echo}/anything") is hub.target("keyed")
    assert hub.target_for("https://elsewhere.example/") is None


def test_api_requests_without_a_timeout_get_the_default(echo: str, tmp_path: Path) -> None:
    hub = key_hub(echo, tmp_path)
    session = requests.Session()
    session.mount("http://", hub.adapter(default_timeout=(0.2, 0.2)))
    assert session.get(f"{echo}/slow?seconds=0.05").status_code == 200
    with pytest.raises(requests.Timeout):
        session.get(f"{echo}/slow?seconds=0.6")  # claimed host
    with echo_server() as unclaimed, pytest.raises(requests.Timeout):
        session.get(f"{unclaimed}/slow?seconds=0.6")  # and any other host
    assert session.get(f"{echo}/slow?seconds=0.3", timeout=2).status_code == 200


# -- issue 8: every entry point keeps the promise ------------------------------------------

KEY = "key-canary-1234567890"


def _first_401_then_redirect(to: str) -> Script:
    """An API that refuses the first request (401) and redirects every later one to ``to``."""
    hits = iter(range(1 << 30))
    return lambda seen: (Answer(401) if next(hits) == 0 else
                         Answer(302, (("Location", to),)))


@pytest.mark.parametrize("via", ["session", "auth"])
def test_a_401_from_a_foreign_redirect_target_is_not_handled_for_the_target(
        echo: str, tmp_path: Path, via: str) -> None:
    # Finding 1: auth= handled the foreign 401 and sent the target's key there.
    hub = key_hub(echo, tmp_path)
    with recording_server(always(401), host="127.0.0.2") as foreign:
        url = f"{echo}/redirect/302?to={foreign.url}/landed"
        if via == "session":
            response = hub.session().get(url)
        else:
            response = requests.get(url, auth=hub.auth("keyed"), timeout=5)
        assert response.status_code == 401  # the foreign answer, handed back as it is
        assert [seen.target for seen in foreign.seen] == ["/landed"]
        assert "X-Toy-Key" not in foreign.seen[0].headers
        assert_no_leaks(foreign.text(), [KEY])


@pytest.mark.parametrize("via", ["session", "auth"])
def test_a_redirect_after_a_401_retry_does_not_resend_the_credentials(
        tmp_path: Path, via: str) -> None:
    # Finding 2: TargetAuth left the key on the caller's request, and requests copied it.
    with recording_server(always(200)) as other, \
            recording_server(_first_401_then_redirect(f"{other.url}/landed")) as api:
        hub = key_hub(api.url, tmp_path)
        if via == "session":
            response = hub.session().get(f"{api.url}/start")
        else:
            response = requests.get(f"{api.url}/start", auth=hub.auth("keyed"), timeout=5)
        assert response.status_code == 200
        assert [seen.headers.get("X-Toy-Key") for seen in api.seen] == [KEY, KEY]
        assert [seen.target for seen in other.seen] == ["/landed"]
        assert_no_leaks(other.text(), [KEY])


def test_target_auth_leaves_the_callers_request_as_it_was(echo: str, tmp_path: Path) -> None:
    hub = key_hub(echo, tmp_path)
    session = requests.Session()
    prepared = session.prepare_request(
        requests.Request("GET", f"{echo}/x", auth=hub.auth("keyed")))
    assert prepared.headers["X-Toy-Key"] == KEY  # an AuthBase can only mutate what is sent
    response = session.send(prepared, timeout=5)
    assert body(response)["headers"]["x-toy-key"] == KEY
    assert "X-Toy-Key" not in prepared.headers  # and it is taken off once the answer is in


def test_target_auth_resends_a_same_target_redirect_with_credentials_after_its_401(
        tmp_path: Path) -> None:
    def script(seen: Seen) -> Answer:
        if seen.target == "/start":
            return Answer(302, (("Location", "/landed"),))
        return Answer(200 if seen.headers.get("X-Toy-Key") == KEY else 401)

    with recording_server(script) as api:
        hub = key_hub(api.url, tmp_path)
        response = requests.get(f"{api.url}/start", auth=hub.auth("keyed"), timeout=5)
        assert response.status_code == 200
        assert [(s.target, s.headers.get("X-Toy-Key")) for s in api.seen] == [
            ("/start", KEY), ("/landed", None), ("/landed", KEY)]


def test_target_auth_names_the_url_and_its_patterns_when_it_declines(
        echo: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hub = key_hub(echo, tmp_path)
    other_port = "http://user:pw-canary-77@127.0.0.1:1/elsewhere?api_key=query-canary-77"
    with caplog.at_level(logging.WARNING, logger="unified_auth"), \
            pytest.raises(requests.ConnectionError):
        requests.get(other_port, auth=hub.auth("keyed"), timeout=5)
    message = caplog.records[-1].getMessage()
    assert "http://127.0.0.1:1/elsewhere" in message
    assert f"{echo}/" in message  # the target's patterns, so the mismatch is visible
    assert "pw-canary-77" not in message and "query-canary" not in message


def test_a_session_with_the_adapter_refuses_to_be_pickled(echo: str, tmp_path: Path) -> None:
    hub = key_hub(echo, tmp_path)
    with pytest.raises(TypeError, match=r"cannot be pickled.*unified_auth\.load"):
        pickle.dumps(hub.session())
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(hub.auth("keyed"))


def test_the_session_mounts_one_adapter_per_prefix(echo: str, tmp_path: Path) -> None:
    session = key_hub(echo, tmp_path).session()
    https, http = session.get_adapter("https://x.example/"), session.get_adapter(f"{echo}/")
    assert https is not http
    assert body(session.get(f"{echo}/x"))["headers"]["x-toy-key"] == KEY
    session.close()  # each adapter closed once


def test_a_redirect_to_a_dot_segment_path_gets_no_other_targets_key(tmp_path: Path) -> None:
    # Finding 11: routed on normpath ("/admin": the root target) but sent verbatim.
    root = write_secret(tmp_path / "root", "root-key-canary-111")
    api = write_secret(tmp_path / "api", "api-key-canary-222")
    with recording_server(always(200)) as server:
        hub = load({"targets": {
            "root": {"provider": "toy-key", "hosts": [f"{server.url}/"],
                     "key": {"file": str(root)}},
            "api": {"provider": "toy-key", "hosts": [f"{server.url}/api/"],
                    "key": {"file": str(api)}, "header": "X-Api-Key"}}})
        with recording_server(lambda seen: Answer(
                302, (("Location", f"{server.url}/api//../admin"),))) as start:
            hub.session().get(f"{start.url}/start")
            requests.get(f"{start.url}/start", auth=hub.auth("root"), timeout=5)
        assert [seen.target for seen in server.seen] == ["/api//../admin"] * 2
        assert_no_leaks(server.text(), ["root-key-canary-111", "api-key-canary-222"])


def test_the_copy_that_goes_out_owns_its_headers_and_shares_the_rest(echo: str,
                                                                     tmp_path: Path) -> None:
    session = key_hub(echo, tmp_path).session()
    session.cookies.set("sid", "cookie-1")
    prepared = session.prepare_request(requests.Request(
        "POST", f"{echo}/x", data=b"payload", headers={"X-Mine": "1"}))
    before = dict(prepared.headers)
    response = session.send(prepared)
    sent = response.request
    assert sent is not prepared and sent.headers is not prepared.headers
    assert dict(prepared.headers) == before  # the caller's object: untouched
    echoed = body(response)
    assert echoed["headers"]["x-toy-key"] == "key-canary-1234567890"
    assert echoed["headers"]["x-mine"] == "1" and echoed["headers"]["cookie"] == "sid=cookie-1"
    assert echoed["body"] == "payload"
    assert (sent.method, sent.url, sent.body) == (prepared.method, prepared.url, prepared.body)
    sent.headers["X-Later"] = "set on the copy"
    assert "X-Later" not in prepared.headers


def test_auth_request_headers_copy_is_case_insensitive_and_of_its_own() -> None:
    from unified_auth.core.messages import Headers

    headers = Headers({"Accept": "*/*", "X-One": "1"})
    copied = headers.copy()
    assert copied == headers and copied["x-one"] == "1" and list(copied) == ["Accept", "X-One"]
    copied["X-Two"] = "2"
    del copied["accept"]
    assert dict(headers) == {"Accept": "*/*", "X-One": "1"}
