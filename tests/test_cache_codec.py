"""The shared caches' entry format: what it round-trips, and what it refuses to read."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_auth import Credentials, Secret
from unified_auth.cache import CachedCredentials
from unified_auth.cache.codec import MAX_ENTRY_BYTES, CorruptEntry, decode, decode_keyed, encode
from unified_auth.model import header_problem

# What an HTTP header may carry: one run of visible ASCII.
_TOKENS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                  max_size=200)
_UNSENDABLE = st.text(min_size=1, max_size=60).filter(
    lambda t: header_problem("QUOTED" + t) is not None)


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


def test_the_key_an_entry_was_written_under_travels_with_it() -> None:
    entry = CachedCredentials(Credentials(Secret("t0ken"), None), 1.0)
    assert decode_keyed(encode(entry, "mailer:abc")) == ("mailer:abc", entry)
    assert decode_keyed(encode(entry)) == (None, entry)


@settings(max_examples=60, deadline=None)
@given(token=_UNSENDABLE, part=st.sampled_from(["value", "token_type"]))
def test_an_entry_fresh_credentials_could_not_be_is_corrupt_and_never_quoted(
        token: str, part: str) -> None:
    # What another process, or someone with write access to the store, may have put there.
    document = {"format": 1, "value": "t0ken", "expires_at": 2e9, "obtained_at": 1.0,
                "token_type": "Bearer", part: "QUOTED" + token}
    with pytest.raises(CorruptEntry, match="cannot go in an HTTP header") as error:
        decode(json.dumps(document).encode())
    assert "QUOTED" not in str(error.value) and "t0ken" not in str(error.value)
