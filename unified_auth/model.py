"""The value types: :class:`Secret`, :class:`SecretRef`, :class:`Target`, :class:`Credentials`."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

import attrs

from unified_auth.core.routing import DEFAULT_PORTS, HostPattern, Router

__all__ = ["Credentials", "Origin", "Secret", "SecretRef", "Target"]

_REDACTED = "********"


class Secret:
    """A secret string that never shows itself: ``repr()`` and ``str()`` give ``********``.

    The plain value is only available through :meth:`reveal`. Deliberately not an attrs
    class, so ``attrs.asdict()`` of a value holding one keeps it opaque instead of
    unpacking the plain string.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret wraps a str, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Secret is immutable")

    def reveal(self) -> str:
        """Return the plain secret. Call it only where the value goes on the wire."""
        return self._value

    @property
    def fingerprint(self) -> str:
        """A stable digest that identifies the secret without disclosing it (cache keys)."""
        return _digest(self._value)

    def __repr__(self) -> str:
        return f"Secret({_REDACTED!r})"

    def __str__(self) -> str:
        return _REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __copy__(self) -> Secret:
        return self  # immutable: a copy may as well be the same object

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> Any:
        # Pickling would write the plain value wherever the pickle goes.
        raise TypeError("a Secret cannot be pickled; reveal() it deliberately if you must")


@attrs.frozen
class Origin:
    """Where a value came from: the config file (or ``<dict>``), the target and the key."""

    source: str
    target: str
    key: str

    def __str__(self) -> str:
        return f"{self.source}: targets.{self.target}.{self.key}"


@attrs.frozen(repr=False)
class SecretRef:
    """A reference to a secret kept outside the config: ``{ env = "NAME" }`` and friends.

    ``kind`` is the reference's key (``env``, ``file``, ``keyring``, ``command`` or one a
    plugin adds) and ``location`` its value. The core turns it into a :class:`Secret` through
    the ``resolve_secret`` hook at first use and again after the provider rejects it.
    """

    kind: str
    location: str
    username: str | None = None
    origin: Origin | None = attrs.field(default=None, eq=False)

    def __repr__(self) -> str:
        # A command line may carry a token or password of its own: show only its program.
        location = self.describe().partition(" ")[2] if self.kind == "command" else self.location
        user = f", username={self.username!r}" if self.username is not None else ""
        return f"SecretRef(kind={self.kind!r}, location={location!r}{user})"

    def describe(self) -> str:
        """Where the secret lives, fit for display (a command shows only its program)."""
        if self.kind == "command":
            program = self.location.split()[0] if self.location.split() else ""
            return f"command ({program})"
        if self.kind == "keyring" and self.username:
            return f"keyring {self.location} ({self.username})"
        return f"{self.kind} {self.location}"


@attrs.frozen
class Target:
    """One API the config names: which provider authenticates it and which hosts it owns.

    ``options`` is an instance of the provider's options class. Fields typed :class:`Secret`
    hold a :class:`SecretRef` (or a clear-text :class:`Secret`) in the config; the core swaps
    in the resolved :class:`Secret` before it calls ``get_credentials`` and ``apply_auth``.
    """

    name: str
    provider: str
    hosts: tuple[str, ...]
    options: Any
    source: str = attrs.field(default="<dict>", eq=False)

    def url(self, path: str) -> str | None:
        """An absolute URL for ``path`` (``"/api/v1/echoMessage"``) on one of the target's hosts.

        The first host pattern that can hold ``path`` wins: a bare host gives
        ``https://host/path``, a URL prefix its scheme, host and port when ``path`` lies
        under its path. ``None`` when no pattern can (wildcards name no single host), so a
        plugin never builds a URL whose request would carry another target's credentials.
        """
        for text in self.hosts:
            pattern = HostPattern.parse(text)
            if pattern.wildcard:
                continue
            if pattern.path and not (path == pattern.path
                                     or path.startswith(pattern.path + "/")):
                continue
            host = f"[{pattern.host}]" if ":" in pattern.host else pattern.host
            port = "" if pattern.port == DEFAULT_PORTS[pattern.scheme] else f":{pattern.port}"
            return f"{pattern.scheme}://{host}{port}{path}"
        return None

    def covers(self, url: str) -> bool:
        """Whether one of the target's host patterns matches ``url`` (parsed, as routing does).

        Another target's more specific pattern may still win the URL in a hub: ask
        :meth:`unified_auth.UnifiedAuth.target_for` for that.
        """
        router = Router((HostPattern.parse(text), self.name) for text in self.hosts)
        return router.match(url) is not None


@attrs.frozen
class Credentials:
    """What a provider hands out for a target: a secret value and when it stops working.

    ``expires_at`` is an aware UTC datetime, or ``None`` for credentials that don't expire.
    """

    value: Secret = attrs.field(validator=attrs.validators.instance_of(Secret))
    expires_at: datetime | None = attrs.field()
    token_type: str = "Bearer"
    scope: str | None = None

    @expires_at.validator
    def _aware(self, _: attrs.Attribute[datetime | None], value: datetime | None) -> None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("Credentials.expires_at must be timezone-aware (UTC)")


def header_problem(text: str) -> str | None:
    """What keeps ``text`` out of an HTTP header value, said without quoting it; else ``None``.

    A header value here is one run of visible ASCII: a line break would end the header (and
    start another the sender never wrote), and http.client quotes the whole value, secret
    included, in the error it raises for a control character.
    """
    for index, char in enumerate(text, start=1):
        code = ord(char)
        if char in "\r\n":
            return f"a line break (character {index} of {len(text)})"
        if code < 0x20 or code == 0x7F:
            return f"a control character (character {index} of {len(text)})"
        if code > 0x7E:
            return f"a non-ASCII character (character {index} of {len(text)})"
        if char == " ":
            return f"a space (character {index} of {len(text)})"
    return None if text else "nothing: it is empty"


def unsendable(value: str, token_type: str | None) -> tuple[str, str] | None:
    """Which part of credentials cannot go in an HTTP header (``"value"`` or
    ``"token_type"``) and why, said without quoting it; ``None`` when both can. An empty
    token type (a key sent bare) is fine. Fresh credentials and cached ones alike pass it."""
    for part, text in (("value", value), ("token_type", token_type)):
        if part == "token_type" and not text:
            continue
        problem = header_problem(text or "")
        if problem is not None:
            return part, problem
    return None


def _digest(value: str) -> str:
    return hashlib.sha256(b"unified-auth\0" + value.encode()).hexdigest()[:32]


def bearer_headers(credentials: Credentials) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}``: what a Bearer-token provider's
    ``auth_headers`` hook returns (RFC 6750), so no plugin spells the header itself."""
    return {"Authorization": f"Bearer {credentials.value.reveal()}"}
