"""Host patterns and URL matching: exact, wildcard, prefix, normalised; look-alikes refused."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unified_auth.routing import HostPattern, RouteConflict, Router, is_loopback, normalise_host


def router(*claims: tuple[str, str]) -> Router[str]:
    return Router((HostPattern.parse(pattern), name) for pattern, name in claims)


def test_bare_host_matches_https_on_default_port_only() -> None:
    r = router(("rest.lianamailer.com", "mailer"))
    assert r.match("https://rest.lianamailer.com/v1/lists") == "mailer"
    assert r.match("https://rest.lianamailer.com:443/v1/lists") == "mailer"
    assert r.match("http://rest.lianamailer.com/v1/lists") is None
    assert r.match("https://rest.lianamailer.com:8443/v1/lists") is None


@pytest.mark.parametrize("url", [
    "https://rest.lianamailer.com.evil.example/v1/lists",
    "https://evil.example/rest.lianamailer.com",
    "https://evil.example/?https://rest.lianamailer.com/",
    "https://rest.lianamailer.com@evil.example/",
    "https://rest.lianamailer.com:x@evil.example/",
    "https://evil.example#@rest.lianamailer.com",
    "https://xrest.lianamailer.com/",
    "https://lianamailer.com/",
    "https://rest-lianamailer.com/",
])
def test_look_alikes_are_refused(url: str) -> None:
    assert router(("rest.lianamailer.com", "mailer")).match(url) is None


def test_userinfo_for_the_real_host_still_matches_on_host() -> None:
    r = router(("rest.lianamailer.com", "mailer"))
    assert r.match("https://someone@rest.lianamailer.com/v1") == "mailer"


@pytest.mark.parametrize("url", [
    "https://REST.LianaMailer.COM/v1",
    "https://rest.lianamailer.com./v1",
    "https://rest.lianamailer.com:443/v1",
])
def test_hosts_are_normalised(url: str) -> None:
    assert router(("rest.lianamailer.com", "mailer")).match(url) == "mailer"


def test_idna_patterns_match_punycode_and_unicode_urls() -> None:
    r = router(("bücher.example", "books"))
    assert r.match("https://xn--bcher-kva.example/") == "books"
    assert r.match("https://BÜCHER.example/") == "books"


def test_wildcard_matches_one_or_more_labels_never_the_bare_domain() -> None:
    r = router(("*.liquidplanner.com", "lp"))
    assert r.match("https://next.liquidplanner.com/api") == "lp"
    assert r.match("https://a.b.liquidplanner.com/api") == "lp"
    assert r.match("https://liquidplanner.com/api") is None
    assert r.match("https://liquidplanner.com.evil.example/") is None
    assert r.match("https://evilliquidplanner.com/") is None


def test_most_specific_match_wins() -> None:
    r = router(
        ("*.example.com", "any"),
        ("*.api.example.com", "api-any"),
        ("v2.api.example.com", "v2"),
        ("https://v2.api.example.com/admin/", "admin"),
    )
    assert r.match("https://x.example.com/") == "any"
    assert r.match("https://x.api.example.com/") == "api-any"
    assert r.match("https://v2.api.example.com/users") == "v2"
    assert r.match("https://v2.api.example.com/admin/users") == "admin"
    assert r.match("https://v2.api.example.com/admin") == "admin"
    assert r.match("https://v2.api.example.com/administrator") == "v2"


def test_url_prefix_matches_segment_by_segment_and_dot_segments_only_when_unambiguous(
) -> None:
    r = router(("http://127.0.0.1:8080/v1/", "v1"), ("http://127.0.0.1:8080/api", "api"))
    assert r.match("http://127.0.0.1:8080/v1/lists?x=1") == "v1"
    assert r.match("http://127.0.0.1:8080/v10/lists") is None
    assert r.match("http://127.0.0.1:8080/api") == "api"
    # Sent verbatim, it reads as /v1/...; a server may resolve it to /api/x: nobody's.
    assert r.match("http://127.0.0.1:8080/v1/../api/x") is None
    assert r.match("http://127.0.0.1:8080/v1/./lists") == "v1"
    assert r.match("http://127.0.0.1:8080/v1/../other") is None
    assert r.match("https://127.0.0.1:8080/v1/lists") is None
    assert r.match("http://127.0.0.1:8081/v1/lists") is None


def test_explicit_port_on_bare_host() -> None:
    r = router(("api.example.com:8443", "alt"))
    assert r.match("https://api.example.com:8443/") == "alt"
    assert r.match("https://api.example.com/") is None


def test_ipv6_prefix() -> None:
    r = router(("http://[::1]:9000/", "six"))
    assert r.match("http://[::1]:9000/x") == "six"
    assert r.match("http://[0:0::1]:9000/x") == "six"


def test_two_claims_on_one_pattern_conflict() -> None:
    with pytest.raises(RouteConflict, match="claimed by both a and b"):
        router(("api.example.com", "a"), ("API.example.com.", "b"))
    with pytest.raises(RouteConflict):
        router(("https://api.example.com/", "a"), ("api.example.com", "b"))


def test_unparseable_urls_match_nothing() -> None:
    r = router(("api.example.com", "a"))
    assert r.match("https://api.example.com:99999999/") is None
    assert r.match("not a url") is None
    assert r.match("") is None


@pytest.mark.parametrize(("pattern", "message"), [
    ("", "empty"),
    ("api.example.com/path", "neither a host nor a URL"),
    ("ftp://api.example.com/", "only https"),
    ("https://user:pw@api.example.com/", "user name or password"),
    ("https://api.example.com/?q=1", "query"),
    ("https://*.example.com/", "wildcards are written without a scheme"),
    ("*.com", "at least two labels"),
    ("*.10.0.0.1", "not an IP"),
    ("api.example.com:http", "port"),
    ("exa mple.com", "not a valid host"),
    ("-bad.example.com", "not a valid host"),
])
def test_bad_patterns_explain_themselves(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HostPattern.parse(pattern)


def test_normalise_and_loopback() -> None:
    assert normalise_host("Example.COM.") == "example.com"
    assert normalise_host("[::1]") == "::1"
    assert is_loopback("127.0.0.2") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("example.com")


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# Domain names only: an IP address takes no wildcard, which a test of its own pins.
_host = st.lists(_label, min_size=2, max_size=4).map(".".join).filter(lambda h: not _is_ip(h))


@given(claimed=_host, other=_host, path=st.text(max_size=20))
def test_a_host_matches_only_itself(claimed: str, other: str, path: str) -> None:
    r = router((claimed, "t"))
    url = f"https://{other}/{path}"
    assert (r.match(url) == "t") == (other == claimed)


@given(claimed=_host, prefix=_label)
def test_no_host_ending_in_a_claimed_host_matches_without_a_dot(claimed: str,
                                                                prefix: str) -> None:
    r = router((claimed, "t"), (f"*.{claimed}", "w"))
    assert r.match(f"https://{prefix}{claimed}/") is None
    assert r.match(f"https://{claimed}.{prefix}.example/") is None
    assert r.match(f"https://{prefix}.{claimed}/") == "w"
