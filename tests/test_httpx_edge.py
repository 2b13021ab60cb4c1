"""The httpx edge: plugins apply to an AuthRequest and what they change is exactly what
httpx sends; the caller's request is never touched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import attrs
import httpx
import pytest
from httpx_support import hop_server
from recorder import Recorder

import unified_auth
from unified_auth import AuthRequest, Credentials, Secret, Target, hookimpl
from unified_auth.clients.httpx_edge import is_replayable, to_auth_request
from unified_auth.testing import assert_no_leaks, load_isolated

KEY = "query-key-0123456789"


@attrs.frozen
class QueryKeyOptions:
    key: Secret


class QueryKeyPlugin:
    """A provider that puts its key in the query string, rewrites the body and changes
    headers: everything a signer may do to a request."""

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register("query-key", QueryKeyOptions)

    @hookimpl
    def get_credentials(self, target: Target) -> Credentials | None:
        if target.provider != "query-key":
            return None
        return Credentials(value=target.options.key, expires_at=None)

    @hookimpl
    def apply_auth(self, target: Target, credentials: Credentials,
                   request: AuthRequest) -> bool | None:
        if target.provider != "query-key":
            return None
        signed_path = request.path_url
        request.url += "&" + urlencode({"api_key": credentials.value.reveal()})
        if isinstance(request.body, bytes) and request.body:
            request.body = request.body + b"\n"  # a plugin may rewrite the body, too
            request.headers["Content-Length"] = str(len(request.body))
        request.headers["X-Signed-Path"] = signed_path
        if "x-gone" in request.headers:
            del request.headers["X-Gone"]
            request.headers["Authorization"] = "Bearer t\xe9"
        return True


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with hop_server() as server:
        yield server


@pytest.fixture
def hub(recorder: Recorder, tmp_path: Any) -> unified_auth.UnifiedAuth:
    (tmp_path / "key").write_text(KEY)
    config = {"targets": {"q": {"provider": "query-key", "hosts": [f"{recorder.url}/q/"],
                                "key": {"file": str(tmp_path / "key")}}}}
    return load_isolated(config, plugins=[QueryKeyPlugin()])


def test_a_key_put_in_the_query_string_is_sent_and_the_path_seen_includes_the_query(
        hub: unified_auth.UnifiedAuth, recorder: Recorder) -> None:
    with hub.httpx_client(timeout=5) as client:
        request = client.build_request("POST", f"{recorder.url}/q/items?page=2&q=a%20b",
                                       content=b'{"x": 1}')
        assert client.send(request).status_code == 200
    seen = recorder.matching("/q/items")[0]
    assert seen.target == f"/q/items?page=2&q=a%20b&api_key={KEY}"
    assert seen.headers["X-Signed-Path"] == "/q/items?page=2&q=a%20b"
    assert seen.body == b'{"x": 1}\n'
    assert seen.headers["Content-Length"] == "9"
    # The caller's request is as it was made.
    assert str(request.url) == f"{recorder.url}/q/items?page=2&q=a%20b"
    assert request.content == b'{"x": 1}'
    assert "x-signed-path" not in request.headers
    assert_no_leaks([str(request.url), repr(request), str(request.headers)], [KEY])


def test_method_url_headers_and_body_cross_to_the_plugin_exactly() -> None:
    source = httpx.Request("PUT", "http://127.0.0.1:9/p/a%2Fb?x=1&y=%C3%A4",
                           headers=[("X-Twice", "one"), ("X-Twice", "two"),
                                    ("X-Latin", "caf\xe9".encode("latin-1"))],
                           content=b"\x00\xffbody")
    seen = to_auth_request(source)
    assert seen.method == "PUT"
    assert seen.path_url == "/p/a%2Fb?x=1&y=%C3%A4"
    assert seen.body == b"\x00\xffbody"
    assert seen.headers["x-twice"] == "one, two"
    assert seen.headers["X-Latin"] == "caf\xe9"


def test_headers_the_plugin_did_not_touch_come_back_byte_for_byte(
        hub: unified_auth.UnifiedAuth, recorder: Recorder) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    source = httpx.Request("GET", f"{recorder.url}/q/p?a=1",
                           headers=[("X-Twice", "one"), ("X-Twice", "two"),
                                    ("X-Latin", "caf\xe9".encode("latin-1")),
                                    ("X-Gone", "bye")])
    with hub.httpx_client(transport=httpx.MockTransport(handler)) as client:
        client.send(source)
    assert sent[0].headers.get_list("X-Twice") == ["one", "two"]
    assert dict(sent[0].headers.raw)[b"X-Latin"] == "caf\xe9".encode("latin-1")
    assert dict(sent[0].headers.raw)[b"Authorization"] == "Bearer t\xe9".encode("latin-1")
    assert "x-gone" not in sent[0].headers
    assert "x-gone" in source.headers and "authorization" not in source.headers
    assert sent[0] is not source


def test_only_bodies_in_memory_are_replayable() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"x"

    assert is_replayable(httpx.Request("POST", "http://h/", json={"a": 1}))
    assert is_replayable(httpx.Request("POST", "http://h/", data={"a": "1"}))
    assert is_replayable(httpx.Request("GET", "http://h/"))
    assert not is_replayable(httpx.Request("POST", "http://h/", content=chunks()))
    seen = to_auth_request(httpx.Request("POST", "http://h/", content=chunks()))
    with pytest.raises(TypeError, match="read only once"):
        iter(seen.body)
