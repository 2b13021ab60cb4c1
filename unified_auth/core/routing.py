"""Which target owns a URL: host patterns, parsed and normalised, looked up in O(1).

Patterns (a target's ``hosts``):

- ``api.example.com`` (or ``api.example.com:8443``): https on that host, default port 443;
- ``*.example.com``: https on any host *below* example.com (one or more labels), never the
  bare domain;
- ``https://host:port/path/`` (or ``http://...``, only when written out): that scheme, host,
  port and path prefix, matched segment by segment.

Matching is on the parsed URL (``urllib.parse``), never on a raw string prefix, so
``https://api.example.com.evil.net`` and ``https://api.example.com@evil.net`` don't match
``api.example.com``. The most specific pattern wins: an exact host beats a wildcard, a longer
wildcard suffix a shorter one, a longer path prefix a shorter one.

Hosts are compared as requests connects to them: an internationalised host in a URL is
encoded label by label with IDNA 2008 as urllib3 does (``fußball.de`` is
``xn--fuball-cta.de``, never ``fussball.de``); a pattern is mapped with UTS 46 first, so it
may be written in any case or width. A host that is not a valid domain name (an empty or
over-long label, a bad A-label) belongs to no target: :meth:`Router.match` returns ``None``
for it and never raises.

Paths are compared as they go on the wire, verbatim (requests does not resolve ``..``). A
path with dot segments or ``//`` is ambiguous, since servers resolve them differently, so it
belongs to a target only if the verbatim path and every usual resolution of it agree.

A request's URL is parsed once per origin (``https://host:port``), not once per request: a
bounded cache on the router maps each origin seen to the path prefixes that can claim it,
filled by the same parsing and normalisation, so only the path is compared per request.
URLs the cache cannot key safely (control characters, escapes, dot or empty segments, an
unusual scheme spelling) take the full parse every time.

It runs past 300 lines because parsing a host pattern, normalising a URL and matching one
against the other are one decision that must agree with itself (a pattern parsed one way
and a URL another is how credentials reach a foreign host); split, they would drift.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import threading
from collections.abc import Iterable
from typing import Generic, TypeVar
from urllib.parse import SplitResult, urlsplit

import attrs
import idna

__all__ = ["HostPattern", "RouteConflict", "Router", "connectable_host", "is_loopback",
           "normalise_host", "normalise_pattern_host"]

T = TypeVar("T")

DEFAULT_PORTS = {"https": 443, "http": 80}
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_MAX_HOST = 253
_ESCAPED_DOT = re.compile("%2e", re.IGNORECASE)
ORIGIN_CACHE_SIZE = 1024
"""How many origins a router remembers; the oldest is forgotten first."""
URL_CACHE_SIZE = 4096
"""How many whole URLs :meth:`Router.match` remembers the answer for (then it starts over)."""
_UNSEEN = object()
# The origin and path of a plain http(s) URL in one C-level match, cut exactly where
# urlsplit cuts (the authority ends at the first "/", "?" or "#"; the path at "?" or "#").
# What urlsplit would clean first (control characters) or a path the full parse may read
# otherwise (escapes, backslashes; dot and empty segments are checked after) don't match,
# so they take the full parse and both roads always agree.
_PLAIN_URL = re.compile(
    r"(https?://[^/?#\x00-\x20\x7f\\]*)(/[^?#\x00-\x20\x7f%\\]*)?(?=[?#]|\Z)").match
_Entries = list[tuple[str, T]]
_Routes = tuple[tuple[str, str, T], ...]


class RouteConflict(ValueError):
    """Two claims on the same scheme, host, port and path."""

    def __init__(self, pattern: HostPattern, first: object, second: object) -> None:
        self.pattern = pattern
        self.first = first
        self.second = second
        super().__init__(f"{pattern.text!r} is claimed by both {first} and {second}")


@attrs.frozen
class HostPattern:
    """One parsed host pattern. ``host`` is the wildcard's suffix when ``wildcard`` is set."""

    scheme: str
    host: str
    port: int
    path: str
    wildcard: bool
    text: str = attrs.field(eq=False)

    @classmethod
    def parse(cls, text: str) -> HostPattern:
        """Parse ``text``; a :class:`ValueError` says what was expected."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("expected a host, *.domain or a URL prefix, got an empty value")
        raw = text.strip()
        if "://" in raw:
            return cls._parse_url(raw)
        if any(c in raw for c in "/?#@"):
            raise ValueError(f"{raw!r} is neither a host nor a URL: write a bare host "
                             f"(api.example.com) or a full prefix (https://api.example.com/v1/)")
        wildcard = raw.startswith("*.")
        host_port = raw[2:] if wildcard else raw
        parts = urlsplit(f"https://{host_port}")
        host = _pattern_host(parts.hostname, raw)
        port = _pattern_port(parts, raw)
        if wildcard and _is_ip(host):
            raise ValueError(f"{raw!r}: a wildcard needs a domain, not an IP address")
        if wildcard and "." not in host:
            raise ValueError(f"{raw!r}: a wildcard must name a domain with at least two labels "
                             f"(*.example.com), not a top-level domain")
        return cls("https", host, port, "", wildcard, raw)

    @classmethod
    def _parse_url(cls, raw: str) -> HostPattern:
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError(f"{raw!r}: only https:// (or http://) URL prefixes are supported")
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"{raw!r}: a URL prefix must not carry a user name or password")
        if parts.query or parts.fragment:
            raise ValueError(f"{raw!r}: a URL prefix must not have a query or fragment")
        if (parts.hostname or "").startswith("*"):
            raise ValueError(f"{raw!r}: wildcards are written without a scheme (*.example.com)")
        host = _pattern_host(parts.hostname, raw)
        port = _pattern_port(parts, raw)
        return cls(scheme, host, port, _normalise_path(parts.path), False, raw)


def normalise_host(host: str) -> str:
    """A URL's host as requests connects to it: lower-case, one trailing dot dropped,
    non-ASCII labels IDNA 2008-encoded one by one (as urllib3 does); IP addresses canonical.

    :raises UnicodeError: a label is not a valid internationalised label.
    """
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.removesuffix(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host.isascii():
        host = ".".join(label if label.isascii() else
                        idna.encode(label, strict=True, std3_rules=True).decode("ascii")
                        for label in host.split("."))
    return host


def normalise_pattern_host(host: str) -> str:
    """A host as written in a pattern: UTS 46-mapped, then as :func:`normalise_host`.

    :raises UnicodeError: it is not a valid (internationalised) domain name.
    """
    host = host.strip()
    if not host.isascii():
        host = idna.encode(host.removesuffix(".").removesuffix("\u3002"), uts46=True,
                           std3_rules=False).decode("ascii")
    return normalise_host(host)


def connectable_host(host: str) -> str | None:
    """``host`` normalised as requests connects to it, or ``None`` if it is not a valid
    host name (a bad internationalised label, an empty or over-long label); never raises."""
    try:
        normalised = normalise_host(host)
    except UnicodeError:
        return None
    if ":" in normalised or _is_ip(normalised):
        return normalised
    return normalised if _valid_domain(normalised.split(".")) else None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``; never raises."""
    try:
        host = normalise_host(host)
    except UnicodeError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Router(Generic[T]):
    """Maps URLs to the value (a target) whose pattern matches most specifically."""

    def __init__(self, claims: Iterable[tuple[HostPattern, T]] = (), *,
                 cache_size: int = ORIGIN_CACHE_SIZE) -> None:
        exact: dict[tuple[str, str, int], list[tuple[str, T]]] = {}
        wild: dict[tuple[str, str, int], list[tuple[str, T]]] = {}
        seen: dict[HostPattern, T] = {}
        for pattern, value in claims:
            if pattern in seen:
                raise RouteConflict(pattern, seen[pattern], value)
            seen[pattern] = value
            table = wild if pattern.wildcard else exact
            table.setdefault((pattern.scheme, pattern.host, pattern.port), []).append(
                (pattern.path, value))
        for table in (exact, wild):
            for entries in table.values():
                entries.sort(key=lambda entry: len(entry[0]), reverse=True)
        self._exact = exact
        self._wild = wild
        self._cache_size = max(cache_size, 0)
        self._origins: dict[str, _Routes[T]] = {}
        self._urls: dict[str, object] = {}
        self._origins_lock = threading.Lock()

    def match(self, url: str) -> T | None:
        """The value claiming ``url``, or ``None`` when no pattern matches it; never raises.

        A URL asked about before is answered with one dict lookup (scripts call the same
        URLs again and again); others by their origin's routes and the path.
        """
        urls = self._urls
        found = urls.get(url, _UNSEEN)
        if found is not _UNSEEN:
            return found  # type: ignore[return-value]
        value = self._match(url)
        if self._cache_size:
            if len(urls) >= URL_CACHE_SIZE:
                urls.clear()  # whole: a bounded cache that costs nothing per hit
            urls[url] = value
        return value

    def _match(self, url: str) -> T | None:
        plain = _PLAIN_URL(url)
        if plain is None:
            return self._match_parsed(url)
        origin, path = plain.groups("/")
        if "/." in path or "//" in path:  # dot or empty segments: the full parse decides
            return self._match_parsed(url)
        routes = self._origins.get(origin)
        if routes is None:
            routes = self._remember(origin)
        for prefix, below, value in routes:  # _by_path over every table, inlined
            if not prefix or path == prefix or path.startswith(below):
                return value
        return None

    def _remember(self, origin: str) -> _Routes[T]:
        """The path prefixes that can claim ``origin``, in the order :meth:`_lookup` tries
        them, parsed as :meth:`_match_parsed` parses."""
        endpoint = self._endpoint(origin + "/")
        tables = () if endpoint is None else self._candidates(*endpoint[:3])
        routes = tuple((prefix, prefix + "/", value)
                       for entries in tables for prefix, value in entries)
        if self._cache_size:
            with self._origins_lock:  # only on a miss: the hit path reads without it
                while len(self._origins) >= self._cache_size:
                    del self._origins[next(iter(self._origins))]
                self._origins[origin] = routes
        return routes

    def _match_parsed(self, url: str) -> T | None:
        """The full parse, for URLs the origin cache does not key."""
        endpoint = self._endpoint(url)
        if endpoint is None:
            return None
        scheme, host, port, path = endpoint
        if "/." in path or "//" in path or ("%" in path and _ESCAPED_DOT.search(path)):
            # Dot segments or empty ones: a server may resolve the path to another one.
            return self._match_ambiguous(scheme, host, port, path)
        return self._lookup(scheme, host, port, path)

    def _endpoint(self, url: str) -> tuple[str, str, int, str] | None:
        """Scheme, host as requests connects to it, port and verbatim path of ``url``."""
        try:
            parts = urlsplit(url)
            scheme = parts.scheme
            port = parts.port or DEFAULT_PORTS.get(scheme)
            host = parts.hostname
        except ValueError:
            return None
        if not host or port is None:
            return None
        if host.endswith("."):
            host = host[:-1]
        if ":" in host or not host.isascii():
            try:  # IPv6 literals and IDNA: rare, so off the fast path
                host = normalise_host(host)
            except UnicodeError:
                return None
        return scheme, host, port, parts.path or "/"

    def _lookup(self, scheme: str, host: str, port: int, path: str) -> T | None:
        for entries in self._candidates(scheme, host, port):
            found = _by_path(entries, path)
            if found is not None:
                return found
        return None

    def _candidates(self, scheme: str, host: str, port: int) -> tuple[_Entries[T], ...]:
        """The tables that may claim a host, most specific first: exact, then wildcards."""
        found: list[_Entries[T]] = []
        entries = self._exact.get((scheme, host, port))
        if entries is not None:
            found.append(entries)
        labels = host.split(".")
        # Only a wildcard can match a host with an empty or over-long label, which requests
        # cannot connect to: it is nobody's.
        if self._wild and _valid_domain(labels):
            for start in range(1, len(labels)):
                entries = self._wild.get((scheme, ".".join(labels[start:]), port))
                if entries is not None:
                    found.append(entries)
        return tuple(found)

    def _match_ambiguous(self, scheme: str, host: str, port: int, path: str) -> T | None:
        """Route a path with dot or empty segments only if every reading of it agrees."""
        readings = {path, *_resolutions(path)}
        found = {id(value): value for value in
                 (self._lookup(scheme, host, port, reading) for reading in readings)}
        if len(found) != 1:
            return None
        return next(iter(found.values()))


def _by_path(entries: list[tuple[str, T]], path: str) -> T | None:
    for prefix, value in entries:
        if not prefix or path == prefix or path.startswith(prefix + "/"):
            return value
    return None


def _resolutions(path: str) -> tuple[str, str]:
    """How servers commonly resolve ``path``: RFC 3986 dot-segment removal (keeping empty
    segments), and POSIX-style (collapsing them); ``%2e`` read as a dot in both."""
    dotted = _ESCAPED_DOT.sub(".", path)
    output: list[str] = []
    for segment in dotted.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = "/" if dotted.endswith(("/.", "/..")) else ""
    rfc = "/" + "/".join(output) + trailing
    return rfc, posixpath.normpath("/" + dotted.lstrip("/"))


def _valid_domain(labels: list[str]) -> bool:
    return (all(0 < len(label) <= 63 for label in labels)
            and sum(map(len, labels)) + len(labels) - 1 <= _MAX_HOST)


def _normalise_path(path: str) -> str:
    """``/v1/`` -> ``/v1``; dot segments resolved; the root is ``""``."""
    if not path or path == "/":
        return ""
    resolved = posixpath.normpath("/" + path.lstrip("/"))
    return "" if resolved == "/" else resolved.rstrip("/")


def _pattern_host(hostname: str | None, raw: str) -> str:
    if not hostname:
        raise ValueError(f"{raw!r} has no host name")
    try:
        host = normalise_pattern_host(hostname)
    except UnicodeError:
        raise ValueError(f"{raw!r}: the host name is not a valid (internationalised) "
                         f"domain name") from None
    if not _is_ip(host) and not all(_LABEL.match(label) for label in host.split(".")):
        raise ValueError(f"{raw!r}: {host!r} is not a valid host name")
    return host


def _pattern_port(parts: SplitResult, raw: str) -> int:
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{raw!r}: the port must be a number from 1 to 65535") from None
    return port if port else DEFAULT_PORTS[parts.scheme.lower()]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
