"""The quickstart's second snippet, complete: it runs as copied (tests/test_docs.py runs it)."""

from typing import Any

import requests

import unified_auth

LIANA = "https://rest.lianamailer.com"  # the tests point api at the Liana emulator instead


def with_the_hub(config: str = "unified-auth.toml", api: str = LIANA) -> Any:
    ua = unified_auth.load(config)  # load it once and keep it: it holds the cached tokens

    # For code that calls requests directly: one target's credentials as requests auth.
    response = requests.get(f"{api}/v1/lists", auth=ua.auth("mailer"), timeout=30)
    response.raise_for_status()

    # The credentials themselves, for a client library that wants a token.
    credentials = ua.credentials("mailer")
    print(credentials.expires_at)  # an aware UTC datetime, or None if it never expires
    print(credentials.value)  # ********: a Secret never shows itself
    token = credentials.value.reveal()  # the plain token, only where it must go
    return response.json(), token


if __name__ == "__main__":
    print(with_the_hub()[0])
