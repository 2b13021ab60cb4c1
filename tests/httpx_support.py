"""Fixtures shared by the httpx tests: the five bundled providers on the emulators.

``five_targets`` is the end-to-end config of test_end_to_end.py (Liana OAuth, legacy
signatures, LiquidPlanner, Basic and an API key on the Classic emulator), with the secrets
in files so a test can list them for ``assert_no_leaks``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unified_auth.testing import ClassicEmulator, ManualClock


@pytest.fixture
def classic(unified_auth_clock: ManualClock) -> Iterator[ClassicEmulator]:
    with ClassicEmulator(clock=unified_auth_clock) as emulator:
        yield emulator


@pytest.fixture
def five_targets(unified_auth_config: dict[str, Any], classic: ClassicEmulator,
                 tmp_path: Path) -> dict[str, Any]:
    password = classic.add_user("me@example.com")
    key = classic.create_api_key("ci")
    (tmp_path / "classic.password").write_text(password)
    (tmp_path / "classic.key").write_text(key)
    targets = dict(unified_auth_config["targets"])
    targets["classic"] = {"provider": "basic", "hosts": [f"{classic.url}/basic/"],
                          "username": "me@example.com",
                          "password": {"file": str(tmp_path / "classic.password")}}
    targets["keyed"] = {"provider": "api-key", "hosts": [f"{classic.url}/keyed/"],
                        "key": {"file": str(tmp_path / "classic.key")}}
    return {"targets": targets}


def secrets_of(config: dict[str, Any]) -> list[str]:
    """Every secret a config's targets read from files."""
    found = []
    for target in config["targets"].values():
        for value in target.values():
            if isinstance(value, dict) and "file" in value:
                found.append(Path(value["file"]).read_text().strip())
    return found
