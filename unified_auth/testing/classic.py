"""An emulator of an API with static credentials: HTTP Basic (LiquidPlanner Classic) or a key.

One small API answers under any path: ``GET`` says who the request authenticated as (or, with
``?redirect_to=URL`` and a loopback URL, answers 302 to it), ``POST`` echoes its JSON body. A
request passes with a known user's ``Authorization: Basic`` header or with a known API key in
that key's header; anything else gets 401. Config targets usually
claim two URL prefixes of it, one per provider (``/basic/`` and ``/keyed/``), since a prefix
belongs to one target only.
"""

from __future__ import annotations

import hmac
import json
import secrets
from urllib.parse import urlsplit

import attrs

from unified_auth.testing._server import (
    Clock,
    CountingEmulator,
    Request,
    Response,
    parse_basic,
    secret_digest,
)

__all__ = ["ClassicCounters", "ClassicEmulator"]

_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@attrs.frozen
class ClassicCounters:
    """A snapshot of what the emulator has seen since start or :meth:`reset_counters`."""

    api_requests: int = 0
    rejected_requests: int = 0
    """401 answers."""
    basic_requests: int = 0
    """Requests that passed with HTTP Basic."""
    api_key_requests: int = 0
    """Requests that passed with an API key."""


@attrs.frozen
class _ApiKey:
    name: str
    header: str
    prefix: str
    key_hash: bytes = attrs.field(repr=False)


class ClassicEmulator(CountingEmulator[ClassicCounters]):
    """Static credentials on loopback: users with passwords (Basic) and API keys.

    >>> with ClassicEmulator() as classic:
    ...     password = classic.add_user("me@example.com")
    ...     key = classic.create_api_key("ci")
    """

    counters_class = ClassicCounters

    def __init__(self, *, clock: Clock | None = None, port: int = 0,
                 realm: str = "Classic") -> None:
        super().__init__(clock=clock, port=port)
        self.realm = realm
        self.last_rejection: str | None = None
        """Why the last request was refused (tests pin the reason with it)."""
        self._users: dict[str, bytes] = {}
        self._keys: dict[str, _ApiKey] = {}

    # -- admin -------------------------------------------------------------------------

    def add_user(self, username: str, password: str | None = None) -> str:
        """Add (or reset) a user for HTTP Basic; returns the password, generated if not given."""
        if not username or ":" in username:
            raise ValueError(f"username {username!r} must be non-empty, without ':'")
        password = password if password is not None else secrets.token_urlsafe(24)
        with self._lock:
            self._users[username] = secret_digest(password)
        return password

    def remove_user(self, username: str) -> None:
        """Remove a user: its password fails from now on."""
        with self._lock:
            self._users.pop(username, None)

    def create_api_key(self, name: str, *, header: str = "X-API-Key", prefix: str = "") -> str:
        """Create an API key sent in ``header`` (after ``prefix``, if any); returns the key."""
        key = secrets.token_urlsafe(32)
        with self._lock:
            self._keys[name] = _ApiKey(name, header.lower(), prefix, secret_digest(key))
        return key

    def revoke_api_key(self, name: str) -> None:
        """Revoke the API key called ``name``."""
        with self._lock:
            self._keys.pop(name, None)

    # -- HTTP --------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self._counts["api_requests"] += 1
            who = self._authenticate(request)
            if who is None:
                self._counts["rejected_requests"] += 1
            else:
                self._counts[f"{who[0].replace('-', '_')}_requests"] += 1
        if who is None:
            return Response.json(401, {"error": "Authentication required"},
                                 headers=(("WWW-Authenticate", f'Basic realm="{self.realm}"'),))
        method, identity = who
        if request.method == "GET" and "redirect_to" in request.query:
            return _redirect(request.query["redirect_to"][0])
        if request.method == "GET":
            return Response.json(200, {"path": request.path, "method": method,
                                       "authenticated_as": identity})
        try:
            document = json.loads(request.body.decode("utf-8") or "null")
        except ValueError:
            return Response.json(400, {"error": "Body is not valid JSON"})
        return Response.json(200, {"path": request.path, "method": method,
                                   "authenticated_as": identity, "echo": document})

    def _authenticate(self, request: Request) -> tuple[str, str] | None:
        """``(method, identity)`` for a valid Basic header or API key; called with the lock."""
        basic = parse_basic(request.headers.get("authorization", ""))
        if basic is not None:
            username, password = basic
            known = self._users.get(username)
            if known is not None and hmac.compare_digest(known, secret_digest(password)):
                return "basic", username
            self.last_rejection = "unknown user or wrong password"
            return None
        for key in self._keys.values():
            value = request.headers.get(key.header)
            if value is None:
                continue
            candidate = value.removeprefix(key.prefix).strip() if key.prefix else value.strip()
            if hmac.compare_digest(key.key_hash, secret_digest(candidate)):
                return "api-key", key.name
        self.last_rejection = "no valid Basic credentials or API key"
        return None


def _redirect(location: str) -> Response:
    # Only to loopback: an emulator must not become an open redirect to the outside world.
    if urlsplit(location).hostname not in _LOOPBACK_NAMES:
        return Response.json(400, {"error": "redirect_to must be a loopback URL"})
    return Response.json(302, {"location": location}, headers=(("Location", location),))
