"""The code shown in docs/quickstart.md; tests/test_docs.py runs main().

The two functions are the quickstart's snippets. main() runs them against the Liana emulator
of unified_auth.testing, with a config written for it, instead of the real Liana API.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import requests

import unified_auth
from unified_auth.testing import LianaEmulator

LIANA = "https://rest.lianamailer.com"


def with_one_session(config: str = "unified-auth.toml", api: str = LIANA) -> Any:
    session = unified_auth.session(config)
    response = session.get(f"{api}/v1/lists", timeout=30)
    response.raise_for_status()
    return response.json()


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


# What follows runs the snippets above against the Liana emulator.

EMULATOR_CONFIG = """\
[targets.mailer]
provider = "liana"
hosts = [{hosts}]
client_id = {client_id}
client_secret = {{ file = {secret_file} }}
token_url = {token_url}
"""


def main() -> None:
    with LianaEmulator() as liana, tempfile.TemporaryDirectory() as tmp:
        client_id, secret = liana.create_credential("quickstart")
        secret_file = Path(tmp, "liana.secret")
        secret_file.write_text(secret, encoding="utf-8")
        secret_file.chmod(0o600)
        config = Path(tmp, "unified-auth.toml")
        config.write_text(EMULATOR_CONFIG.format(
            hosts=json.dumps(f"{liana.url}/v1/"), client_id=json.dumps(client_id),
            secret_file=json.dumps(str(secret_file)), token_url=json.dumps(liana.token_url),
        ), encoding="utf-8")

        assert with_one_session(str(config), liana.url)["succeed"] is True
        answer, token = with_the_hub(str(config), liana.url)
        assert answer["succeed"] is True
        assert token != secret
        assert liana.counters.tokens_issued == 2  # one per hub: each keeps its own tokens


if __name__ == "__main__":
    main()
