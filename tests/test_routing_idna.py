"""Hosts are matched as requests connects to them: IDNA 2008, and invalid hosts are nobody's."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from toy_provider import load, write_secret
from urllib3.util import parse_url

from unified_auth.core.routing import HostPattern, Router, connectable_host, normalise_pattern_host

INVALID_HOSTS = ["ä..example.com", "xn--ä.com", "a" * 70 + ".example.com", "。",
                 "ä" + "a" * 70 + ".example.com", "a..example.com", "example.com.."]


def router(*claims: tuple[str, str]) -> Router[str]:
    return Router((HostPattern.parse(pattern), name) for pattern, name in claims)


def test_a_german_sharp_s_is_idna_2008_as_requests_sends_it() -> None:
    r = router(("fußball.de", "ball"))
    assert r.match("https://xn--fuball-cta.de/") == "ball"  # what requests connects to
    assert r.match("https://fußball.de/") == "ball"
    assert r.match("https://FUßBALL.de./") == "ball"
    assert r.match("https://fussball.de/") is None  # another registered domain
    assert requests.Request("GET", "https://fußball.de/").prepare().url == \
        "https://xn--fuball-cta.de/"


def test_a_pattern_may_be_written_in_any_case_or_width() -> None:
    # Fullwidth letters (\uffxx), as an IME types them: UTS 46 maps them to ASCII.
    assert normalise_pattern_host("\uff26\uff35ßball.DE") == "xn--fuball-cta.de"
    assert router(("*.\uff22ÜCHER.example", "b")).match("https://x.xn--bcher-kva.example/") == "b"


@pytest.mark.parametrize("host", INVALID_HOSTS)
def test_an_invalid_host_is_unclaimed_and_never_raises(host: str) -> None:
    r = router(("*.example.com", "wild"), ("api.example.com", "api"), ("*.co.de", "de"))
    for url in (f"https://{host}/", f"https://{host}:443/x", f"http://{host}/"):
        assert r.match(url) is None
    assert connectable_host(host) is None


def test_target_for_an_invalid_host_is_none(tmp_path: Path) -> None:
    key = write_secret(tmp_path / "key", "key-canary-1234567890")
    hub = load({"targets": {"wild": {"provider": "toy-key", "hosts": ["*.example.com"],
                                     "key": {"file": str(key)}}}})
    assert hub.target_for("https://x.example.com/") is hub.target("wild")
    for host in INVALID_HOSTS:
        assert hub.target_for(f"https://{host}/x") is None


@pytest.mark.parametrize("pattern", ["ä..example.com", "xn--ä.com", "a" * 70 + ".com", "。"])
def test_an_invalid_pattern_is_a_value_error_naming_it(pattern: str) -> None:
    with pytest.raises(ValueError, match="not a valid"):
        HostPattern.parse(pattern)


# -- the router agrees with requests -------------------------------------------------------

_ascii_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_odd_label = st.sampled_from(["fußball", "bücher", "BÜCHER", "İstanbul", "\uff41\uff42\uff43",
                              "xn--ä", "xn--fuball-cta", "fussball", "", "a" * 64, "ä" * 30, "-a",
                              "xn--zz", "Ab", "。", "ß"])
_label = st.one_of(_ascii_label, _odd_label)
_host = st.lists(_label, min_size=1, max_size=4).map(".".join)
_pattern_host = st.lists(st.one_of(_ascii_label, st.sampled_from(
    ["fußball", "bücher", "xn--bcher-kva", "ß"])), min_size=2, max_size=3).map(".".join)


def _connected_host(url: str) -> str | None:
    """The host requests would connect to for ``url``, or None if it would not send it."""
    try:
        prepared = requests.Request("GET", url).prepare().url or ""
        host = parse_url(prepared).host or ""
    except (requests.RequestException, ValueError):
        return None
    host = host.removesuffix(".")
    labels = host.split(".")
    if not all(0 < len(label) <= 63 for label in labels) or len(host) > 253:
        return None  # the socket layer refuses it: nothing is sent
    return host


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=_pattern_host, wildcard=st.booleans(), host=_host, dot=st.booleans())
@example(pattern="fußball.de", wildcard=False, host="fussball.de", dot=False)
@example(pattern="example.com", wildcard=True, host="ä..example.com", dot=False)
def test_the_router_matches_exactly_the_host_requests_connects_to(
        pattern: str, wildcard: bool, host: str, dot: bool) -> None:
    text = f"*.{pattern}" if wildcard else pattern
    try:
        parsed = HostPattern.parse(text)
    except ValueError:
        return  # an invalid pattern never gets as far as a router
    url = f"https://{host}{'.' if dot else ''}/path"
    connected = _connected_host(url)
    if connected is None:
        expected = False
    elif wildcard:
        expected = connected.endswith("." + parsed.host)
    else:
        expected = connected == parsed.host
    assert (Router([(parsed, "t")]).match(url) == "t") is expected, (text, url, connected)
