"""The shared caches' entry format: what it round-trips, and what it refuses to read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_auth import Credentials, Secret
from unified_auth.cache import CachedCredentials
from unified_auth.cache.codec import MAX_ENTRY_BYTES, CorruptEntry, decode, encode

_TOKENS = st.text(min_size=1, max_size=200).filter(lambda t: "\x00" not in t)


@settings(max_examples=60, deadline=None)
@given(token=_TOKENS, obtained=st.floats(1e9, 4e9), lifetime=st.floats(1, 1e6),
       scope=st.none() | st.text(max_size=30))
def test_an_entry_round_trips(token: str, obtained: float, lifetime: float,
                              scope: str | None) -> None:
    expires = datetime.fromtimestamp(obtained + lifetime, UTC)
    entry = CachedCredentials(Credentials(Secret(token), expires, scope=scope), obtained)
    assert decode(encode(entry)) == entry


@pytest.mark.parametrize("data", [
    b"", b"{", b"null", b'"text"', b"\xff\xfe",
    b'{"format": 1, "value": "", "expires_at": 1, "obtained_at": 1, "token_type": "B"}',
    b'{"format": 1, "value": "t", "expires_at": "soon", "obtained_at": 1, "token_type": "B"}',
    b'{"format": 1, "value": "t", "expires_at": 1, "obtained_at": true, "token_type": "B"}',
    b'{"format": 1, "value": "t", "expires_at": 1e999, "obtained_at": 1, "token_type": "B"}',
    b'{"format": 2, "value": "t", "expires_at": 1, "obtained_at": 1, "token_type": "B"}',
    b" " * (MAX_ENTRY_BYTES + 1),
])
def test_anything_else_is_a_corrupt_entry_whose_message_quotes_nothing(data: bytes) -> None:
    with pytest.raises(CorruptEntry) as error:
        decode(data)
    assert '"t"' not in str(error.value) and "value" not in str(error.value)
