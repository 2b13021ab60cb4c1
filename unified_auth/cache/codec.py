"""Cache entries as bytes, for the shared stores: a token and its lifetime, nothing else.

The format is versioned JSON. Whatever does not decode to a current, well-formed entry
(truncated, garbage, another version, too big) is :class:`CorruptEntry`, which a store
treats as "no entry": it is overwritten by the next fetch.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from unified_auth.cache.protocol import CachedCredentials
from unified_auth.model import Credentials, Secret

__all__ = ["FORMAT", "MAX_ENTRY_BYTES", "CorruptEntry", "decode", "encode"]

FORMAT = 1
MAX_ENTRY_BYTES = 64 * 1024
"""An entry holds one token: anything bigger is not ours."""


class CorruptEntry(ValueError):
    """Bytes that are not a valid entry of this format; the message never quotes them."""


def encode(entry: CachedCredentials) -> bytes:
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
    return json.dumps(document, separators=(",", ":")).encode()


def decode(data: bytes) -> CachedCredentials:
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
    if not (isinstance(value, str) and value and _number(obtained)
            and (expires is None or _number(expires)) and isinstance(token_type, str)
            and (scope is None or isinstance(scope, str))):
        raise CorruptEntry("missing or mistyped fields")
    assert obtained is not None  # nosec B101 # narrows the type: _number() checked it
    expires_at = None if expires is None else datetime.fromtimestamp(expires, UTC)
    credentials = Credentials(Secret(value), expires_at, token_type=token_type, scope=scope)
    return CachedCredentials(credentials, float(obtained))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
