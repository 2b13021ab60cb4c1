"""The proxy rule through ``ua.aiohttp_session()``, for every way aiohttp sets a proxy: the
session's ``proxy=``, a request's ``proxy=``, and the environment with ``trust_env=True``
(aiohttp's default, ``trust_env=False``, ignores it). Loopback goes direct, credentials
never ride a plain-http proxy hop, a request nobody owns takes the proxy aiohttp chose.

The proxy is a recording server on 127.0.0.2: whatever reaches it is in its log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from httpx_support import hop_server
from recorder import Recorder

import unified_auth
from unified_auth.errors import InsecureTransportError
from unified_auth.testing import assert_no_leaks

KEY = "aiohttp-proxied-key-0123456789"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
REFUSED = "refused: an InsecureTransportError, also an aiohttp.ClientError"


@pytest.fixture
def api() -> Iterator[Recorder]:
    with hop_server() as server:
        yield server


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with hop_server("127.0.0.2") as server:
        yield server


@pytest.fixture
def hub(api: Recorder, tmp_path: Path) -> unified_auth.UnifiedAuth:
    (tmp_path / "key").write_text(KEY)
    (tmp_path / "key").chmod(0o600)
    key = {"file": str(tmp_path / "key")}
    return unified_auth.load({"targets": {
        "local": {"provider": "api-key", "hosts": [f"{api.url}/keyed/"], "key": key},
        "remote": {"provider": "api-key", "hosts": ["http://api.example.test/"], "key": key},
    }})


def statuses(hub: unified_auth.UnifiedAuth, urls: list[str], session_options: dict[str, Any],
             request_options: dict[str, Any] | None = None) -> list[int | str]:
    """Each URL's status through one session, or the name of the error it raised."""
    async def main() -> list[int | str]:
        found: list[int | str] = []
        async with hub.aiohttp_session(timeout=aiohttp.ClientTimeout(total=5),
                                       **session_options) as session:
            for url in urls:
                try:
                    async with session.get(url, **(request_options or {})) as response:
                        found.append(response.status)
                except InsecureTransportError as error:
                    found.append(REFUSED if isinstance(error, aiohttp.ClientError) and
                                 "through a proxy" in str(error) else repr(error))
        return found

    return anyio.run(main)


@pytest.mark.parametrize("how", ["session proxy=", "request proxy=", "trust_env"])
def test_loopback_goes_direct_plain_http_is_refused_and_the_rest_takes_the_proxy(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder, how: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    session: dict[str, Any] = {}
    per_request: dict[str, Any] = {}
    if how == "session proxy=":
        session["proxy"] = proxy.url
    elif how == "request proxy=":
        per_request["proxy"] = proxy.url
    else:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        session["trust_env"] = True
    urls = [f"{api.url}/keyed/a", f"{api.url}/nobody", "http://api.example.test/items"]
    assert statuses(hub, urls, session, per_request) == [200, 200, REFUSED]
    assert api.matching("/keyed/a")[0].headers["X-API-Key"] == KEY
    assert [seen.target for seen in proxy.seen] == [f"{api.url}/nobody"]
    assert_no_leaks(proxy.text(), [KEY])


def test_without_trust_env_the_environments_proxy_is_not_used_at_all(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    assert statuses(hub, [f"{api.url}/keyed/a", f"{api.url}/nobody"], {}) == [200, 200]
    assert proxy.seen == []


def test_a_redirect_to_plain_http_through_the_proxy_is_refused_before_it_is_sent(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder) -> None:
    # The first hop goes direct (loopback); the next one, to a plain-http target through
    # the proxy, is judged on its own URL and proxy.
    url = f"{api.url}/keyed/hop?case=to-remote&status=302&to=http://api.example.test/x"
    assert statuses(hub, [url], {"proxy": proxy.url}) == [REFUSED]
    assert api.matching("case=to-remote")[0].headers["X-API-Key"] == KEY
    assert proxy.seen == []
