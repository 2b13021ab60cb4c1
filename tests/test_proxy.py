"""Proxies: loopback is reached directly, credentials never ride a plain-http proxy hop.

A recording proxy on 127.0.0.2 answers 502 to everything (CONNECT included) and keeps what
it received; the proxy settings come from the environment (monkeypatch) or the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from recorder import Recorder, always, recording_server
from toy_provider import load, toy_target, write_secret

from unified_auth.errors import InsecureTransportError
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks

KEY = "proxy-key-canary-4242"
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with recording_server(always(502), host="127.0.0.2") as recorder:
        yield recorder


def _secrets(liana: LianaEmulator, tmp_path: Path) -> tuple[dict[str, object], list[str]]:
    client_id, secret = liana.create_credential("proxy")
    target = toy_target(liana.url, client_id, write_secret(tmp_path / "s", secret))
    return target, [secret]


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"])
def test_token_requests_and_api_requests_to_loopback_bypass_an_environment_proxy(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path,
        proxy: Recorder,
        monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    target, secrets = _secrets(liana_emulator, tmp_path)
    monkeypatch.setenv(variable, proxy.url)
    hub = load({"targets": {"api": target}}, clock=unified_auth_clock)
    assert hub.session().get(f"{liana_emulator.url}/v1/lists", timeout=5).status_code == 200
    assert requests.get(f"{liana_emulator.url}/v1/lists", timeout=5).status_code == 502  # proxy on
    assert liana_emulator.counters.tokens_issued == 1
    assert [seen.target for seen in proxy.seen] == [f"{liana_emulator.url}/v1/lists"]  # the control
    assert_no_leaks(proxy.text(), [*secrets, hub.credentials("api").value])


def test_api_requests_to_loopback_bypass_the_sessions_own_proxies_and_others_keep_them(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path,
        proxy: Recorder) -> None:
    target, secrets = _secrets(liana_emulator, tmp_path)
    hub = load({"targets": {"api": target}}, clock=unified_auth_clock)
    session = hub.session()
    session.proxies = {"http": proxy.url, "https": proxy.url}
    assert session.get(f"{liana_emulator.url}/v1/lists", timeout=5).status_code == 200
    # Nobody's request is sent as the caller made it: through the caller's proxy.
    assert session.get(f"{liana_emulator.url}/elsewhere", timeout=5).status_code == 502
    assert [seen.target for seen in proxy.seen] == [f"{liana_emulator.url}/elsewhere"]
    assert_no_leaks(proxy.text(), [*secrets, hub.credentials("api").value])


def _key_hub(tmp_path: Path, host: str):  # type: ignore[no-untyped-def]
    key = write_secret(tmp_path / "key", KEY)
    return load({"targets": {"keyed": {"provider": "toy-key", "hosts": [host],
                                       "key": {"file": str(key)}}}})


@pytest.mark.parametrize("via", ["environment", "session"])
def test_credentials_for_plain_http_through_a_proxy_are_refused(
        tmp_path: Path, proxy: Recorder, monkeypatch: pytest.MonkeyPatch, via: str) -> None:
    # The host is never contacted: the proxy (loopback) would be, and is refused first.
    hub = _key_hub(tmp_path, "http://api.example.test/")
    session = hub.session()
    if via == "environment":
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
    else:
        session.proxies = {"http": proxy.url}
    with pytest.raises(InsecureTransportError, match=r"api\.example\.test through a proxy"):
        session.get("http://api.example.test/v1", timeout=5)
    assert proxy.seen == []
    # A request without credentials may use the proxy: it is the user's choice.
    assert session.get("http://unclaimed.example.test/x", timeout=5).status_code == 502
    assert [seen.target for seen in proxy.seen] == ["http://unclaimed.example.test/x"]


def test_https_through_an_http_proxy_is_a_tunnel_and_allowed(
        tmp_path: Path, proxy: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = _key_hub(tmp_path, "api.example.test")
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    with pytest.raises(requests.exceptions.ProxyError):  # our proxy answers 502 to CONNECT
        hub.session().get("https://api.example.test/v1", timeout=5)
    assert [(seen.method, seen.target) for seen in proxy.seen] == [
        ("CONNECT", "api.example.test:443")]
    assert_no_leaks(proxy.text(), [KEY])


@pytest.mark.parametrize("host", ["http://127.0.0.1:1/", "http://api.example.test/"])
def test_target_auth_refuses_a_proxy_it_cannot_route_around(
        tmp_path: Path, proxy: Recorder, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    auth = _key_hub(tmp_path, host).auth("keyed")
    with pytest.raises(InsecureTransportError, match="proxy"):
        requests.get(f"{host}v1", auth=auth, timeout=5)
    assert proxy.seen == []


def test_target_auth_without_a_proxy_reaches_loopback(
        tmp_path: Path, proxy: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    with recording_server(always(200)) as api:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)  # another scheme's proxy: not in the way
        auth = _key_hub(tmp_path, f"{api.url}/").auth("keyed")
        assert requests.get(f"{api.url}/v1", auth=auth, timeout=5).status_code == 200
        assert api.seen[0].headers["X-Toy-Key"] == KEY
    assert proxy.seen == []
