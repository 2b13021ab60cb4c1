"""Paths are routed as they are sent: dot and empty segments never earn another target's key."""

from __future__ import annotations

import posixpath

from hypothesis import example, given, settings
from hypothesis import strategies as st

from unified_auth.core.routing import HostPattern, Router

BASE = "https://api.example.com"
PREFIXES = {"root": "", "api": "/api", "admin": "/api/admin"}
ROUTER = Router((HostPattern.parse(f"{BASE}{prefix}/"), name)
                for name, prefix in PREFIXES.items())

_segment = st.sampled_from(["api", "admin", "x", "..", ".", "", "%2e%2e", "%2E", "apix"])
_path = st.lists(_segment, max_size=6).map(lambda segments: "/" + "/".join(segments))


def _owner(path: str) -> str:
    """The longest prefix that covers ``path`` segment by segment (the root covers all)."""
    found = [name for name, prefix in PREFIXES.items()
             if not prefix or path == prefix or path.startswith(prefix + "/")]
    return max(found, key=lambda name: len(PREFIXES[name]))


@settings(max_examples=300, deadline=None)
@given(path=_path)
@example(path="/api//../admin")
@example(path="/admin/../api/x")
@example(path="/api/%2e%2e/x")
def test_a_path_gets_a_key_only_if_sent_and_resolved_it_is_that_targets(path: str) -> None:
    answer = ROUTER.match(f"{BASE}{path}?q=1")
    if answer is None:
        return
    assert answer == _owner(path)  # what is sent is under that target's prefix ...
    resolved = posixpath.normpath("/" + path.replace("%2e", ".").replace("%2E", ".")
                                  .lstrip("/"))
    assert answer == _owner(resolved)  # ... and so is what a server may resolve it to


def test_plain_paths_route_by_prefix() -> None:
    assert ROUTER.match(f"{BASE}/api/admin/users") == "admin"
    assert ROUTER.match(f"{BASE}/api/./users") == "api"
    assert ROUTER.match(f"{BASE}/api//../admin") is None
    assert ROUTER.match(f"{BASE}/x/../../api/y") is None
