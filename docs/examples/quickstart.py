"""Runs the quickstart's snippets; tests/test_docs.py runs main().

The snippets are quickstart_session.py and quickstart_hub.py, each complete as the page
shows it. main() runs them against the Liana emulator of unified_auth.testing, with a config
written for it, instead of the real Liana API.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from quickstart_hub import with_the_hub
from quickstart_session import with_one_session

from unified_auth.testing import LianaEmulator


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
