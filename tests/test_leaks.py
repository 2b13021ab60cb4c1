"""assert_no_leaks finds a secret in plain text, base64 (at any alignment) and URL-encoded."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_auth.model import Secret
from unified_auth.testing import assert_no_leaks

SECRET = "s3cr3t-Value/with+odd&chars="


def leak_message(output: object, secrets: list[str | Secret]) -> str:
    with pytest.raises(AssertionError) as excinfo:
        assert_no_leaks(output, secrets)  # type: ignore[arg-type]
    return str(excinfo.value)


def test_clean_output_passes() -> None:
    assert_no_leaks("Authorization: Bearer ********", [SECRET])


def test_plain_secret_is_found_and_named_by_index_without_showing_it() -> None:
    message = leak_message(f"log line\npassword={SECRET} end", ["other-secret", SECRET])

    assert "secret #1 as plain text at offset 18" in message
    assert SECRET not in message
    assert_no_leaks(message, [SECRET])


@pytest.mark.parametrize("user", ["", "a", "ab", "abc", "client-id"])
def test_secret_inside_http_basic_is_found_at_any_alignment(user: str) -> None:
    header = "Authorization: Basic " + base64.b64encode(f"{user}:{SECRET}".encode()).decode()

    message = leak_message(header, [SECRET])

    assert "secret #0 as base64" in message
    assert_no_leaks(message, [SECRET])


def test_urlsafe_base64_is_found() -> None:
    secret = "~~~~~~~~~?"  # its base64 has "+" and "/", which urlsafe base64 replaces
    output = base64.urlsafe_b64encode(secret.encode()).decode()

    assert "urlsafe base64" in leak_message(output, [secret])


@pytest.mark.parametrize("encode", [quote, quote_plus])
def test_url_encoded_secret_is_found(encode: object) -> None:
    output = f"POST /token client_secret={encode(SECRET, safe='')}"  # type: ignore[operator]

    assert "URL-encoded" in leak_message(output, [SECRET])


def test_bytes_and_chunks_are_searched_and_the_chunk_is_named() -> None:
    chunks = [b"first", f"second {SECRET}".encode(), "third"]

    message = leak_message(chunks, [SECRET])

    assert "chunk 1, offset 7" in message


def test_secret_objects_are_revealed_for_the_search() -> None:
    message = leak_message(f"x{SECRET}x", [Secret(SECRET)])

    assert "secret #0" in message


def test_context_is_quoted_with_the_secret_masked() -> None:
    message = leak_message(f"token={SECRET};", [SECRET])

    assert "'token=" + "*" * len(SECRET) + ";'" in message


def test_short_secret_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError, match="secret #1 is shorter than 6") as excinfo:
        assert_no_leaks("anything", ["long-enough", "abc12"])

    assert "abc12" not in str(excinfo.value)


@settings(max_examples=60, deadline=None, database=None)
@given(
    secret=st.text(min_size=6, max_size=40),
    before=st.binary(max_size=8),
    after=st.binary(max_size=8),
)
def test_base64_of_secret_in_any_surroundings_is_found(
    secret: str, before: bytes, after: bytes
) -> None:
    output = base64.b64encode(before + secret.encode() + after).decode()

    message = leak_message(output, [secret])

    assert "secret #0" in message
