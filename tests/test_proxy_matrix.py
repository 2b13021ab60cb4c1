"""The proxy rule through every client driver and every way a proxy can be set.

- A request that carries credentials to loopback never goes through a proxy: a driver that
  routes each request sends it directly; one that runs before its client picks the proxy
  (``auth=``, the httpx Auth), or a transport of the caller's whose proxy nobody can see,
  refuses it.
- Credentials for a plain-http host never cross a proxy: refused, whatever the driver.
- A request no target owns is not ours: it takes the proxy its client chose, as if
  unified-auth were not there (requests' own proxy tests depend on it).

The proxy is a recording server on 127.0.0.2; whatever reaches it is in its log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from drivers import DRIVERS, Drivers
from httpx_support import hop_server
from recorder import Recorder

import unified_auth
from unified_auth.errors import InsecureTransportError
from unified_auth.testing import assert_no_leaks

KEY = "proxied-matrix-key-0123456789"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")

# Drivers that route each request and can send it around the client's proxy.
ROUTING = ("session", "httpx", "httpx-async", "httpx-mounted", "aiohttp")
# Drivers that run before their client picks a proxy: they can only refuse.
BEFORE_THE_PROXY = ("auth", "httpx-auth", "httpx-auth-async")


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


@pytest.fixture
def environment_proxy(proxy: Recorder, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    return proxy


@pytest.mark.parametrize("driver", DRIVERS)
def test_loopback_credentials_never_take_the_environments_proxy(
        hub: unified_auth.UnifiedAuth, api: Recorder, environment_proxy: Recorder,
        driver: str) -> None:
    drivers = Drivers(hub)  # made after the environment is set, as a script's clients are
    try:
        if driver in BEFORE_THE_PROXY:
            with pytest.raises(InsecureTransportError, match="NO_PROXY"):
                drivers.send(driver, "local", "GET", f"{api.url}/keyed/a")
        else:
            assert drivers.send(driver, "local", "GET", f"{api.url}/keyed/a").status == 200
            assert api.matching("/keyed/a")[0].headers["X-API-Key"] == KEY
    finally:
        drivers.close()
    assert environment_proxy.seen == []


@pytest.mark.parametrize("driver", [d for d in DRIVERS if d != "httpx-transport"])
def test_plain_http_credentials_never_cross_the_environments_proxy(
        hub: unified_auth.UnifiedAuth, environment_proxy: Recorder, driver: str) -> None:
    # (A caller's httpx.Client(transport=...) takes no proxy from the environment at all.)
    drivers = Drivers(hub)
    try:
        with pytest.raises(InsecureTransportError, match=r"api\.example\.test through a proxy"):
            drivers.send(driver, "remote", "GET", "http://api.example.test/items")
    finally:
        drivers.close()
    assert environment_proxy.seen == []


@pytest.mark.parametrize("driver", ROUTING)
def test_a_request_nobody_owns_takes_the_proxy_its_client_chose(
        hub: unified_auth.UnifiedAuth, api: Recorder, environment_proxy: Recorder,
        driver: str) -> None:
    drivers = Drivers(hub)
    try:
        assert drivers.send(driver, "local", "GET", f"{api.url}/nobody").status == 200
    finally:
        drivers.close()
    assert [seen.target for seen in environment_proxy.seen] == [f"{api.url}/nobody"]
    assert_no_leaks(environment_proxy.text(), [KEY])


def test_a_mounted_transport_of_the_callers_with_a_proxy_gets_no_credentials_in_clear(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder) -> None:
    """The caller's mount is a route unified-auth cannot see into: plain http through it
    is refused (it once carried an API key in clear to the proxy)."""
    mounts = {"http://": httpx.HTTPTransport(proxy=proxy.url)}
    with hub.httpx_client(mounts=mounts, timeout=5) as client:
        with pytest.raises(InsecureTransportError, match="transport"):
            client.get(f"{api.url}/keyed/a")
        with pytest.raises(InsecureTransportError, match="through a proxy"):
            client.get("http://api.example.test/items")
        assert client.get(f"{api.url}/nobody").status_code == 200  # not ours: as chosen
    assert [seen.target for seen in proxy.seen] == [f"{api.url}/nobody"]
    assert_no_leaks(proxy.text(), [KEY])


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_given_transport_of_the_callers_is_refused_plain_http_credentials(
        hub: unified_auth.UnifiedAuth, api: Recorder, kind: str) -> None:
    if kind == "sync":
        with httpx.Client(transport=hub.httpx_transport(httpx.HTTPTransport()),
                          timeout=5) as client, pytest.raises(InsecureTransportError):
            client.get(f"{api.url}/keyed/a")
    else:
        async def main() -> None:
            inner = hub.httpx_async_transport(httpx.AsyncHTTPTransport())
            async with httpx.AsyncClient(transport=inner, timeout=5) as client:
                await client.get(f"{api.url}/keyed/a")

        with pytest.raises(InsecureTransportError):
            anyio.run(main)
    assert api.matching("/keyed/a") == []


def test_a_transport_we_build_with_a_proxy_sends_loopback_directly(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder) -> None:
    with httpx.Client(transport=hub.httpx_transport(proxy=proxy.url), timeout=5) as client:
        assert client.get(f"{api.url}/keyed/a").status_code == 200
        assert client.get(f"{api.url}/nobody").status_code == 200
        with pytest.raises(InsecureTransportError, match="through a proxy"):
            client.get("http://api.example.test/items")
    assert api.matching("/keyed/a")[0].headers["X-API-Key"] == KEY
    assert [seen.target for seen in proxy.seen] == [f"{api.url}/nobody"]
    assert_no_leaks(proxy.text(), [KEY])


def test_requests_proxies_given_per_request_follow_the_same_rule(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder) -> None:
    proxies = {"http": proxy.url}
    with hub.session() as session:
        assert session.get(f"{api.url}/keyed/a", proxies=proxies, timeout=5).status_code == 200
        assert session.get(f"{api.url}/nobody", proxies=proxies, timeout=5).status_code == 200
        with pytest.raises(InsecureTransportError, match="through a proxy"):
            session.get("http://api.example.test/items", proxies=proxies, timeout=5)
    assert [seen.target for seen in proxy.seen] == [f"{api.url}/nobody"]
    assert_no_leaks(proxy.text(), [KEY])


@pytest.mark.parametrize("driver", BEFORE_THE_PROXY)
def test_a_changed_proxy_variable_is_seen_at_once_by_the_drivers_that_read_the_environment(
        hub: unified_auth.UnifiedAuth, api: Recorder, environment_proxy: Recorder,
        monkeypatch: pytest.MonkeyPatch, driver: str) -> None:
    """They remember what the environment names per origin: a new value of a variable
    that is set (the environment's size unchanged) must end what was remembered."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    drivers = Drivers(hub)
    try:
        assert drivers.send(driver, "local", "GET", f"{api.url}/keyed/a").status == 200
        monkeypatch.setenv("NO_PROXY", "elsewhere.example.test")
        with pytest.raises(InsecureTransportError):
            drivers.send(driver, "local", "GET", f"{api.url}/keyed/b")
    finally:
        drivers.close()
    assert environment_proxy.seen == []


@pytest.mark.parametrize("driver", BEFORE_THE_PROXY)
def test_a_url_that_passed_the_proxy_rule_is_checked_again_once_the_environment_changes(
        hub: unified_auth.UnifiedAuth, api: Recorder, proxy: Recorder,
        monkeypatch: pytest.MonkeyPatch, driver: str) -> None:
    """These drivers remember the URLs that passed the route and the proxy rule
    (``core/owned_urls.py``): the same URL must be refused as soon as a proxy variable
    appears or changes, and pass again once it is gone."""
    url = f"{api.url}/keyed/same"
    drivers = Drivers(hub)
    try:
        assert drivers.send(driver, "local", "GET", url).status == 200
        monkeypatch.setenv("HTTP_PROXY", proxy.url)  # a new variable
        with pytest.raises(InsecureTransportError):
            drivers.send(driver, "local", "GET", url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert drivers.send(driver, "local", "GET", url).status == 200
        monkeypatch.setenv("NO_PROXY", "elsewhere.example.test")  # a changed value
        with pytest.raises(InsecureTransportError):
            drivers.send(driver, "local", "GET", url)
        monkeypatch.delenv("HTTP_PROXY")
        monkeypatch.delenv("NO_PROXY")
        assert drivers.send(driver, "local", "GET", url).status == 200
    finally:
        drivers.close()
    assert proxy.seen == []
    assert [seen.target for seen in api.seen].count("/keyed/same") == 3
