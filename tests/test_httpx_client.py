"""ua.httpx_client()/httpx_async_client()/httpx_auth(): keyword arguments reach httpx, every
transport httpx may pick is wrapped, and the core runs without httpx."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from httpx_support import hop_server
from recorder import Recorder

import unified_auth
from unified_auth.clients.httpx_transport import AsyncAuthTransport, AuthTransport

KEY = "client-key-0123456789"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with hop_server() as server:
        yield server


@pytest.fixture
def hub(recorder: Recorder, tmp_path: Path) -> unified_auth.UnifiedAuth:
    (tmp_path / "key").write_text(KEY)
    return unified_auth.load({"targets": {"keyed": {
        "provider": "api-key", "hosts": [f"{recorder.url}/keyed/"],
        "key": {"file": str(tmp_path / "key")}}}})


def test_keyword_arguments_reach_httpx(hub: unified_auth.UnifiedAuth,
                                       recorder: Recorder) -> None:
    with hub.httpx_client(base_url=recorder.url, headers={"X-App": "1"}, timeout=3.5,
                          follow_redirects=True) as client:
        assert client.timeout == httpx.Timeout(3.5)
        assert client.follow_redirects is True
        assert client.get("/keyed/a").status_code == 200
    seen = recorder.matching("/keyed/a")[0].headers
    assert seen["X-App"] == "1" and seen["X-API-Key"] == KEY


def test_a_given_transport_is_wrapped_and_sees_credentials_only_for_the_target(
        hub: unified_auth.UnifiedAuth, recorder: Recorder) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    with hub.httpx_client(transport=httpx.MockTransport(handler)) as client:
        client.get(f"{recorder.url}/keyed/a")
        client.get(f"{recorder.url}/other")
    assert seen[0].headers["X-API-Key"] == KEY
    assert "x-api-key" not in seen[1].headers


def test_mounts_are_wrapped_too(hub: unified_auth.UnifiedAuth, recorder: Recorder) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    mounts = {recorder.url: httpx.MockTransport(handler)}
    with hub.httpx_client(mounts=mounts) as client:
        assert all(isinstance(t, AuthTransport) for t in client._mounts.values() if t)
        client.get(f"{recorder.url}/keyed/a")
    assert seen[0].headers["X-API-Key"] == KEY


def test_the_async_client_wraps_its_transports(hub: unified_auth.UnifiedAuth,
                                               recorder: Recorder) -> None:
    async def main() -> dict[str, Any]:
        async with hub.httpx_async_client(timeout=5) as client:
            assert isinstance(client._transport, AsyncAuthTransport)
            return (await client.get(f"{recorder.url}/keyed/b")).json()  # type: ignore[no-any-return]

    assert anyio.run(main) == {"ok": True}
    assert recorder.matching("/keyed/b")[0].headers["X-API-Key"] == KEY


def test_the_transports_built_from_options_are_httpx_own_kind(
        hub: unified_auth.UnifiedAuth, recorder: Recorder) -> None:
    """Code that asks ``isinstance(t, httpx.HTTPTransport)`` of a transport the hub built
    (httpx's own tests do) sees httpx's kind; a transport of the caller's is wrapped."""
    built = hub.httpx_transport(retries=1)
    assert isinstance(built, httpx.HTTPTransport) and isinstance(built, AuthTransport)
    with built as entered, httpx.Client(transport=entered, timeout=5) as client:
        assert entered is built
        assert client.get(f"{recorder.url}/keyed/c").status_code == 200
    built.close()  # closed twice (the client closed it): httpx's own close, no recursion
    assert recorder.matching("/keyed/c")[0].headers["X-API-Key"] == KEY
    wrapped = hub.httpx_transport(httpx.MockTransport(lambda request: httpx.Response(200)))
    assert not isinstance(wrapped, httpx.HTTPTransport)

    async def main() -> bool:
        transport = hub.httpx_async_transport()
        async with transport, httpx.AsyncClient(transport=transport, timeout=5) as client:
            await client.get(f"{recorder.url}/keyed/e")
        return isinstance(transport, httpx.AsyncHTTPTransport)

    assert anyio.run(main)
    assert recorder.matching("/keyed/e")[0].headers["X-API-Key"] == KEY


def test_httpx_auth_authenticates_only_its_own_hosts(
        hub: unified_auth.UnifiedAuth, recorder: Recorder,
        caplog: pytest.LogCaptureFixture) -> None:
    auth = hub.httpx_auth("keyed")
    assert repr(auth) == "TargetHttpxAuth('keyed')"
    with httpx.Client(auth=auth, timeout=5) as client:
        client.get(f"{recorder.url}/keyed/mine")
        client.get(f"{recorder.url}/not-mine")
    assert recorder.matching("/keyed/mine")[0].headers["X-API-Key"] == KEY
    assert "X-API-Key" not in recorder.matching("/not-mine")[0].headers
    assert "not one of its hosts" in caplog.text


def test_httpx_auth_of_an_unknown_target_names_the_known_ones(
        hub: unified_auth.UnifiedAuth) -> None:
    with pytest.raises(unified_auth.errors.ConfigError, match="the config has: keyed"):
        hub.httpx_auth("nope")


def test_the_core_and_the_requests_session_run_without_httpx(tmp_path: Path) -> None:
    script = f"""
import sys
sys.modules["httpx"] = None  # importing it now fails, as it would without the extra
sys.modules["anyio"] = None
import unified_auth
hub = unified_auth.load({json.dumps({"targets": {}})})
hub.session()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
