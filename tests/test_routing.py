"""Host patterns and URL matching: exact, wildcard, prefix, normalised; look-alikes refused."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unified_auth.core.routing import (
    HostPattern,
    RouteConflict,
    Router,
    is_loopback,
    normalise_host,
)


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


# -- the origin cache: a layer in front of the full parse that never changes an answer --

_CLAIMS = (("api.example.com", "api"), ("*.example.com", "wild"),
           ("https://api.example.com/v1/", "v1"), ("https://api.example.com/v1/admin", "admin"),
           ("http://127.0.0.1:8080/", "local"), ("bücher.example", "idn"), ("[::1]:8443", "v6"))
_url = st.builds(
    "{}{}{}{}{}".format,
    st.sampled_from(["https://", "http://", "HTTPS://", "https:/", " https://", ""]),
    st.sampled_from(["api.example.com", "API.example.com.", "x.api.example.com",
                     "example.com", "127.0.0.1", "[::1]", "bücher.example",
                     "xn--bcher-kva.example", "user@api.example.com", "api.example.com@evil",
                     "api.exa\tmple.com", "evil.com#@api.example.com"]),
    st.sampled_from(["", ":443", ":8080", ":8443", ":0", ":99999", ":x"]),
    st.sampled_from(["", "/", "/v1", "/v1/", "/v1/admin/x", "/v1/../v1/admin", "/v2",
                     "/v1%2fadmin", "/./v1", "\\v1", "/v1\n/admin", "//v1/admin",
                     "/v1//admin"]),
    st.sampled_from(["", "?q=1", "#frag", "?a=/v1/admin#x", "?", "#"]),
)


@given(urls=st.lists(_url, min_size=1, max_size=30))
def test_the_origin_cache_answers_exactly_as_the_full_parse(urls: list[str]) -> None:
    cached, uncached = router(*_CLAIMS), Router(
        ((HostPattern.parse(pattern), name) for pattern, name in _CLAIMS), cache_size=0)
    for url in urls + urls:  # the second pass answers from the cache
        assert cached.match(url) == uncached.match(url) == cached._match_parsed(url), url


def test_one_cached_origin_still_routes_each_path_to_its_prefix() -> None:
    r = router(*_CLAIMS)
    assert r.match("https://api.example.com/v1/admin/users") == "admin"
    assert r.match("https://api.example.com/v1/items?page=2") == "v1"
    assert r.match("https://api.example.com/v2") == "api"
    # Dot segments take the full parse, which routes them only where every reading agrees.
    assert r.match("https://api.example.com/v1/../v2") is None
    assert r.match("https://api.example.com/v2/./x") == "api"
    assert r.match("https://api.example.com/v1admin") == "api"
    assert list(r._origins) == ["https://api.example.com"]


def test_the_origin_cache_is_bounded_and_forgets_the_oldest_first() -> None:
    r = Router(((HostPattern.parse(p), n) for p, n in _CLAIMS), cache_size=3)
    hosts = ["a.example.com", "b.example.com", "api.example.com", "c.example.com",
             "nowhere.test"]
    for host in hosts:
        r.match(f"https://{host}/v1/x")
    assert list(r._origins) == [f"https://{host}" for host in hosts[-3:]]
    assert r.match("https://a.example.com/") == "wild"  # forgotten, parsed again, same answer
    assert r.match("https://api.example.com/v1/x") == "v1"
    assert r.match("https://nowhere.test/") is None
    assert len(r._origins) == 3


def test_a_router_without_a_cache_remembers_nothing() -> None:
    r = Router(((HostPattern.parse(p), n) for p, n in _CLAIMS), cache_size=0)
    assert r.match("https://api.example.com/v1/x") == "v1"
    assert r._origins == {}
