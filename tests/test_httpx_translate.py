"""httpx <-> requests translation: plugins apply to a PreparedRequest and what they change
is exactly what httpx sends; the caller's request is never touched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
import requests
from httpx_support import hop_server
from recorder import Recorder

import unified_auth
from unified_auth import Credentials, Secret, Target, hookimpl
from unified_auth.clients.httpx_translate import is_replayable, to_prepared, with_changes
from unified_auth.testing import assert_no_leaks, load_isolated

KEY = "query-key-0123456789"


@attrs.frozen
class QueryKeyOptions:
    key: Secret


class QueryKeyPlugin:
    """A provider that puts its key in the query string and rewrites the body, as a
    third-party plugin written for requests would."""

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
                   request: requests.PreparedRequest) -> bool | None:
        if target.provider != "query-key":
            return None
        request.prepare_url(request.url, {"api_key": credentials.value.reveal()})
        if isinstance(request.body, bytes) and request.body:
            request.body = request.body + b"\n"  # a plugin may rewrite the body, too
            request.prepare_content_length(request.body)
        request.headers["X-Signed-Path"] = request.path_url.split("&api_key")[0]
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


def test_method_url_headers_and_body_cross_to_requests_exactly() -> None:
    source = httpx.Request("PUT", "http://127.0.0.1:9/p/a%2Fb?x=1&y=%C3%A4",
                           headers=[("X-Twice", "one"), ("X-Twice", "two"),
                                    ("X-Latin", "caf\xe9".encode("latin-1"))],
                           content=b"\x00\xffbody")
    prepared = to_prepared(source).prepared
    assert prepared.method == "PUT"
    assert prepared.path_url == "/p/a%2Fb?x=1&y=%C3%A4"
    assert prepared.body == b"\x00\xffbody"
    assert prepared.headers["X-Twice"] == "one, two"
    assert prepared.headers["X-Latin"] == "caf\xe9"


def test_headers_the_plugin_did_not_touch_come_back_byte_for_byte() -> None:
    source = httpx.Request("GET", "http://127.0.0.1:9/p",
                           headers=[("X-Twice", "one"), ("X-Twice", "two"),
                                    ("X-Latin", "caf\xe9".encode("latin-1")),
                                    ("X-Gone", "bye")])
    translated = to_prepared(source)
    translated.prepared.headers["Authorization"] = "Bearer t\xe9"
    del translated.prepared.headers["X-Gone"]
    sent = with_changes(translated)
    assert sent.headers.get_list("X-Twice") == ["one", "two"]
    assert dict(sent.headers.raw)[b"X-Latin"] == "caf\xe9".encode("latin-1")
    assert dict(sent.headers.raw)[b"Authorization"] == "Bearer t\xe9".encode("latin-1")
    assert "x-gone" not in sent.headers
    assert "x-gone" in source.headers and "authorization" not in source.headers
    assert sent is not source and sent.extensions == source.extensions


def test_only_bodies_in_memory_are_replayable() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"x"

    assert is_replayable(httpx.Request("POST", "http://h/", json={"a": 1}))
    assert is_replayable(httpx.Request("POST", "http://h/", data={"a": "1"}))
    assert is_replayable(httpx.Request("GET", "http://h/"))
    assert not is_replayable(httpx.Request("POST", "http://h/", content=chunks()))
    prepared = to_prepared(httpx.Request("POST", "http://h/", content=chunks())).prepared
    with pytest.raises(TypeError, match="read only once"):
        iter(prepared.body)  # type: ignore[call-overload]
