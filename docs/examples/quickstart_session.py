"""The quickstart's first snippet, complete: it runs as copied (tests/test_docs.py runs it)."""

from typing import Any

import unified_auth

LIANA = "https://rest.lianamailer.com"  # the tests point api at the Liana emulator instead


def with_one_session(config: str = "unified-auth.toml", api: str = LIANA) -> Any:
    session = unified_auth.session(config)
    response = session.get(f"{api}/v1/lists", timeout=30)
    response.raise_for_status()
    return response.json()


if __name__ == "__main__":
    print(with_one_session())
