"""Cache entries as bytes, for the shared stores: a token and its lifetime, nothing else.

The format is versioned JSON. A shared store is untrusted input (anyone who can write the
directory or the Redis server can put bytes there), so an entry passes the same checks as
fresh credentials: the fields' types, and a value and token type fit for an HTTP header
(:func:`unified_auth.model.unsendable`). Whatever does not decode to a current,
well-formed, sendable entry (truncated, garbage, another version, too big, a line break in
the token) is :class:`CorruptEntry`, which a store treats as "no entry": it is overwritten
by the next fetch. The message says what is wrong and where, never the value.

An entry also carries the cache key it was written under (``target:fingerprint``), so
``unified-auth cache list`` can say which target a file is for; the key holds no secret.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from unified_auth.cache.protocol import CachedCredentials
from unified_auth.model import Credentials, Secret, unsendable

__all__ = ["FORMAT", "MAX_ENTRY_BYTES", "CorruptEntry", "decode", "decode_keyed", "encode"]

FORMAT = 1
MAX_ENTRY_BYTES = 64 * 1024
"""An entry holds one token: anything bigger is not ours."""


class CorruptEntry(ValueError):
    """Bytes that are not a valid entry of this format; the message never quotes them."""


def encode(entry: CachedCredentials, key: str | None = None) -> bytes:
    """``entry`` as bytes; ``key``, when given, is kept with it (for ``cache list``)."""
    credentials = entry.credentials
    expires_at = credentials.expires_at
    document = {
        "format": FORMAT,
        "value": credentials.value.reveal(),
        "expires_at": None if expires_at is None else expires_at.timestamp(),
        "obtained_at": entry.obtained_at,
        "token_type": credentials.token_type,
        "scope": credentials.scope,
    }
    if key is not None:
        document["key"] = key
    return json.dumps(document, separators=(",", ":")).encode()


def decode(data: bytes) -> CachedCredentials:
    """The entry in ``data``; :raises CorruptEntry: for anything but a valid, sendable one."""
    return decode_keyed(data)[1]


def decode_keyed(data: bytes) -> tuple[str | None, CachedCredentials]:
    """The key an entry was written under (``None`` if it says none) and the entry."""
    if not isinstance(data, bytes):
        raise CorruptEntry("not a string of bytes (a Redis key of another type?)")
    if len(data) > MAX_ENTRY_BYTES:
        raise CorruptEntry(f"larger than {MAX_ENTRY_BYTES} bytes")
    try:
        document: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CorruptEntry("not JSON (truncated or garbage)") from None
    if not isinstance(document, dict):
        raise CorruptEntry("not a JSON object")
    if document.get("format") != FORMAT:
        raise CorruptEntry(f"not format {FORMAT} (written by another version)")
    value, expires, obtained = (document.get(k) for k in ("value", "expires_at", "obtained_at"))
    token_type, scope = document.get("token_type"), document.get("scope")
    key = document.get("key")
    if not (isinstance(value, str) and value and _number(obtained)
            and (expires is None or _number(expires)) and isinstance(token_type, str)
            and (scope is None or isinstance(scope, str))
            and (key is None or isinstance(key, str))):
        raise CorruptEntry("missing or mistyped fields")
    assert obtained is not None  # nosec B101 # narrows the type: _number() checked it
    # The check fresh credentials get (unified_auth.core.fetch): the value always, the token
    # type when there is one (a bare key has none). A line break here would otherwise reach
    # the HTTP library, whose error quotes the whole header, token included.
    found = unsendable(value, token_type)
    if found is not None:
        part, problem = found
        raise CorruptEntry(f"its {'token' if part == 'value' else 'token type'} holds "
                           f"{problem}, which cannot go in an HTTP header")
    try:
        expires_at = None if expires is None else datetime.fromtimestamp(expires, UTC)
    except (OverflowError, OSError, ValueError):
        raise CorruptEntry("its expiry is out of range") from None
    credentials = Credentials(Secret(value), expires_at, token_type=token_type, scope=scope)
    return key, CachedCredentials(credentials, float(obtained))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
