"""pytest fixtures for testing code that uses unified-auth against emulated providers.

Registered through the ``pytest11`` entry point, so pytest loads this module in every run of
every environment that has unified-auth installed: it imports only pytest at module level,
defines no autouse fixtures, and loads the emulators only when a fixture asks for them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from unified_auth.testing.clock import ManualClock
    from unified_auth.testing.liana import LianaEmulator
    from unified_auth.testing.liquidplanner import LiquidPlannerEmulator

__all__ = [
    "liana_emulator",
    "liquidplanner_emulator",
    "unified_auth_clock",
    "unified_auth_config",
]


@pytest.fixture
def unified_auth_clock() -> ManualClock:
    """A :class:`ManualClock` at the real current time, shared by the emulator fixtures."""
    from unified_auth.testing.clock import ManualClock  # noqa: PLC0415 (lazy)

    return ManualClock()


@pytest.fixture
def liana_emulator(unified_auth_clock: ManualClock) -> Iterator[LianaEmulator]:
    """A running :class:`LianaEmulator` on the ``unified_auth_clock``."""
    from unified_auth.testing.liana import LianaEmulator  # noqa: PLC0415 (lazy)

    with LianaEmulator(clock=unified_auth_clock) as liana:
        yield liana


@pytest.fixture
def liquidplanner_emulator(
    unified_auth_clock: ManualClock,
) -> Iterator[LiquidPlannerEmulator]:
    """A running :class:`LiquidPlannerEmulator` holding an example organization.

    Its ids are in ``liquidplanner_emulator.example``: an org admin, a project editor, a
    workspace both belong to, and an item in it.
    """
    from unified_auth.testing.liquidplanner import LiquidPlannerEmulator  # noqa: PLC0415 (lazy)

    with LiquidPlannerEmulator(clock=unified_auth_clock) as liquidplanner:
        liquidplanner.add_example_org()
        yield liquidplanner


@pytest.fixture
def unified_auth_config(
    liana_emulator: LianaEmulator,
    liquidplanner_emulator: LiquidPlannerEmulator,
    tmp_path: Path,
) -> dict[str, Any]:
    """A config dict with targets ``liana``, ``liana-legacy`` and ``liquidplanner``.

    Fresh credentials are created on the emulators and their secrets written to files (mode
    0600) under ``tmp_path``, referenced as ``{"file": path}``. The LiquidPlanner token
    belongs to the example org's project editor.
    """
    example = liquidplanner_emulator.example
    assert example is not None  # nosec B101 # the liquidplanner_emulator fixture made it
    client_id, client_secret = liana_emulator.create_credential("unified-auth tests")
    user_id, legacy_secret = liana_emulator.create_legacy_user("LianaMailer")
    token = liquidplanner_emulator.create_token(
        example.editor_id, name="unified-auth tests", created_by=example.admin_id
    )
    secrets_dir = tmp_path / "unified_auth_secrets"
    secrets_dir.mkdir(mode=0o700)
    return {
        "targets": {
            "liana": {
                "provider": "liana",
                "hosts": [f"{liana_emulator.url}/v1/"],
                "client_id": client_id,
                "client_secret": _secret_file(secrets_dir / "liana.secret", client_secret),
                "token_url": liana_emulator.token_url,
            },
            "liana-legacy": {
                "provider": "liana-legacy",
                "hosts": [f"{liana_emulator.url}/api/"],
                "realm": "LianaMailer",
                "user_id": user_id,
                "secret": _secret_file(secrets_dir / "legacy.secret", legacy_secret),
            },
            "liquidplanner": {
                "provider": "liquidplanner",
                "hosts": [f"{liquidplanner_emulator.url}/"],
                "token": _secret_file(secrets_dir / "lp.token", token),
            },
        }
    }


def _secret_file(path: Path, secret: str) -> dict[str, str]:
    # Created 0600 from the start, so the secret is never readable by others, even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secret)
    return {"file": str(path)}
