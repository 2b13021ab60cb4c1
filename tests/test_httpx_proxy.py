"""Proxies for the httpx clients: loopback goes direct, credentials never ride a plain-http
proxy hop, everything else takes the proxy httpx chose (issue 8, finding 6).

The proxy is a recording server on 127.0.0.2: whatever reaches it is in its log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from httpx_support import hop_server
from recorder import Recorder

import unified_auth
from unified_auth.errors import InsecureTransportError

KEY = "proxied-key-0123456789"


@pytest.fixture
def api() -> Iterator[Recorder]:
    with hop_server() as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[Recorder]:
    with hop_server("127.0.0.2") as server:
        yield server


@pytest.fixture
def hub(api: Recorder, tmp_path: Path) -> unified_auth.UnifiedAuth:
    (tmp_path / "key").write_text(KEY)
    key = {"file": str(tmp_path / "key")}
    return unified_auth.load({"targets": {
        "local": {"provider": "api-key", "hosts": [f"{api.url}/keyed/"], "key": key},
        "remote": {"provider": "api-key", "hosts": ["http://api.example.test/"], "key": key},
    }})


@pytest.mark.parametrize("how", ["proxy=", "HTTP_PROXY"])
def test_a_loopback_target_is_reached_directly_never_through_the_proxy(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder, how: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = {"proxy": proxy.url} if how == "proxy=" else {}
    if how == "HTTP_PROXY":
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
    with hub.httpx_client(timeout=5, **kwargs) as client:
        assert client.get(f"{api.url}/keyed/a").status_code == 200
        # A request nobody owns is sent as the caller made it: through the proxy.
        assert client.get(f"{api.url}/unclaimed").status_code == 200
    assert api.matching("/keyed/a")[0].headers["X-API-Key"] == KEY
    assert [r.target for r in proxy.seen] == [f"{api.url}/unclaimed"]
    assert "x-api-key" not in proxy.seen[0].headers


def test_credentials_for_a_plain_http_host_are_refused_a_proxy_hop(
        hub: unified_auth.UnifiedAuth, proxy: Recorder) -> None:
    with hub.httpx_client(timeout=5, proxy=proxy.url) as client:
        with pytest.raises(InsecureTransportError, match=r"api\.example\.test.*NO_PROXY"):
            client.get("http://api.example.test/items")
        # A request that carries no credentials takes the proxy as httpx chose.
        assert client.get("http://elsewhere.example.test/x").status_code == 200
    assert [r.target for r in proxy.seen] == ["http://elsewhere.example.test/x"]


def test_the_async_client_keeps_the_same_proxy_rules(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder) -> None:
    async def main() -> None:
        async with hub.httpx_async_client(timeout=5, proxy=proxy.url) as client:
            assert (await client.get(f"{api.url}/keyed/a")).status_code == 200
            with pytest.raises(InsecureTransportError):
                await client.get("http://api.example.test/items")

    anyio.run(main)
    assert api.matching("/keyed/a")[0].headers["X-API-Key"] == KEY
    assert proxy.seen == []


@pytest.mark.parametrize("flow", ["sync", "async"])
def test_httpx_auth_refuses_a_proxy_from_the_environment_it_cannot_route_around(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder, flow: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An Auth runs before its client picks a proxy: like ua.auth(), it refuses rather
    than let a loopback target's credentials cross a proxy."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    url = f"{api.url}/keyed/a"

    def get() -> None:
        if flow == "sync":
            with httpx.Client(auth=hub.httpx_auth("local"), timeout=5) as client:
                client.get(url)
            return

        async def main() -> None:
            async with httpx.AsyncClient(auth=hub.httpx_auth("local"), timeout=5) as client:
                await client.get(url)

        anyio.run(main)

    with pytest.raises(InsecureTransportError, match="NO_PROXY"):
        get()
    assert proxy.seen == [] and api.seen == []
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with httpx.Client(auth=hub.httpx_auth("local"), timeout=5) as client:
        assert client.get(url).status_code == 200
    assert api.matching("/keyed/a")[0].headers["X-API-Key"] == KEY
