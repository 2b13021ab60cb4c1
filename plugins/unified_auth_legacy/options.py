"""Config keys of the ``liana-legacy``, ``basic`` and ``api-key`` providers."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import attrs

# Secret must be importable at run time: the core reads these type hints to know which
# keys take secret references.
from unified_auth import Secret

__all__ = ["ApiKeyOptions", "BasicOptions", "LianaLegacyOptions"]

_WORD = re.compile(r"[\x21-\x7e]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _word(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A non-empty run of visible ASCII: it goes in a header, between spaces and colons."""
    text = str(value)
    if not _WORD.fullmatch(text) or ":" in text:
        raise ValueError(f"{attribute.name} must be one word of visible ASCII characters, "
                         f"without spaces or ':'")


def _realm(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    _word(_, attribute, value)
    if value.lower() == "bearer":
        raise ValueError("realm cannot be 'Bearer': the API would read the signature as "
                         "an OAuth token")


def _header_name(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _HEADER_NAME.fullmatch(value):
        raise ValueError(f"header must be an HTTP header name such as X-API-Key, "
                         f"got {value!r}")


def _probe_url(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"probe_url must be an absolute http(s) URL on one of the target's "
                         f"hosts, got {value!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("probe_url must not carry a user name or password")


def _username(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if ":" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError("username cannot contain ':' or control characters (HTTP Basic "
                         "joins it to the password with ':')")


@attrs.frozen(kw_only=True)
class LianaLegacyOptions:
    """Config keys of a ``provider = "liana-legacy"`` target (signed requests)."""

    realm: str = attrs.field(validator=_realm)
    """The first word of the Authorization header, e.g. ``LianaMailer`` or ``EUR``."""
    user_id: str | int = attrs.field(validator=_word)
    secret: Secret
    """A secret reference to the user's signing secret."""


@attrs.frozen(kw_only=True)
class BasicOptions:
    """Config keys of a ``provider = "basic"`` target (HTTP Basic)."""

    username: str = attrs.field(validator=_username)
    password: Secret
    """A secret reference to the password."""
    probe_url: str | None = attrs.field(default=None, validator=_probe_url)
    """A URL on the target's hosts that ``unified-auth check`` GETs to verify the
    credentials (any harmless read); without it, check says "not verified against the API"."""


@attrs.frozen(kw_only=True)
class ApiKeyOptions:
    """Config keys of a ``provider = "api-key"`` target (a static key in a header)."""

    header: str = attrs.field(default="X-API-Key", validator=_header_name)
    key: Secret
    """A secret reference to the key."""
    prefix: str | None = attrs.field(default=None,
                                     validator=attrs.validators.optional(_word))
    """A word before the key, e.g. ``Token`` for ``Token <key>``."""
    probe_url: str | None = attrs.field(default=None, validator=_probe_url)
    """A URL on the target's hosts that ``unified-auth check`` GETs to verify the key
    (any harmless read); without it, check says "not verified against the API"."""
