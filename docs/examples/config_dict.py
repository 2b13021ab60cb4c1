"""The Python code shown in docs/config.md; tests/test_docs.py runs main()."""

from __future__ import annotations

import unified_auth
from unified_auth.errors import ConfigError

NEEDS = {"liana"}  # the bundled providers this example uses


def from_a_dict() -> unified_auth.UnifiedAuth:
    # The same schema as the TOML file; errors name "<dict>" instead of a file.
    return unified_auth.load({
        "targets": {
            "mailer": {
                "provider": "liana",
                "hosts": ["rest.lianamailer.com"],
                "client_id": "0f6b4b7e",
                "client_secret": {"env": "LIANA_CLIENT_SECRET"},
            },
        },
    })


def explain(config: dict[str, object]) -> str:
    try:
        unified_auth.load(config)
    except ConfigError as error:
        # error.source, error.target and error.key say where; str(error) says it all.
        return str(error)
    return "valid"


def main() -> None:
    ua = from_a_dict()
    assert sorted(ua.targets) == ["mailer"]
    assert ua.targets["mailer"].hosts == ("rest.lianamailer.com",)
    message = explain({"targets": {"mailer": {
        "provider": "liana", "hosts": ["rest.lianamailer.com"],
        "client_secret": {"env": "LIANA_CLIENT_SECRET"},
    }}})
    assert message == ("<dict>: targets.mailer.client_id: missing; the 'liana' provider "
                       "needs it (expected a string)"), message


if __name__ == "__main__":
    main()
