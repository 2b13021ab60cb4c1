"""pytest fixtures for testing code that uses unified-auth against emulated providers.

Registered through the ``pytest11`` entry point, so pytest loads this module in every run of
every environment that has unified-auth installed: it imports only pytest at module level,
defines no autouse fixtures, and loads the emulators only when a fixture asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from unified_auth.testing.classic import ClassicEmulator
    from unified_auth.testing.clock import ManualClock
    from unified_auth.testing.environment import EmulatedEnvironment
    from unified_auth.testing.liana import LianaEmulator
    from unified_auth.testing.liquidplanner import LiquidPlannerEmulator
    from unified_auth.testing.oauth2 import OAuth2Emulator

__all__ = [
    "classic_emulator",
    "liana_emulator",
    "liquidplanner_emulator",
    "oauth2_emulator",
    "unified_auth_clock",
    "unified_auth_config",
    "unified_auth_environment",
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
def classic_emulator(unified_auth_clock: ManualClock) -> Iterator[ClassicEmulator]:
    """A running :class:`ClassicEmulator` (Basic and API keys) on the ``unified_auth_clock``."""
    from unified_auth.testing.classic import ClassicEmulator  # noqa: PLC0415 (lazy)

    with ClassicEmulator(clock=unified_auth_clock) as classic:
        yield classic


@pytest.fixture
def oauth2_emulator(unified_auth_clock: ManualClock) -> Iterator[OAuth2Emulator]:
    """A running :class:`OAuth2Emulator` (a generic authorization server) on the clock.

    Register clients with ``create_client()`` (a secret) or ``create_key_client()`` (a key
    pair for ``private_key_jwt``, which needs the ``jwt`` extra).
    """
    from unified_auth.testing.oauth2 import OAuth2Emulator  # noqa: PLC0415 (lazy)

    with OAuth2Emulator(clock=unified_auth_clock) as oauth2:
        yield oauth2


@pytest.fixture
def unified_auth_environment(
    liana_emulator: LianaEmulator,
    liquidplanner_emulator: LiquidPlannerEmulator,
    classic_emulator: ClassicEmulator,
    oauth2_emulator: OAuth2Emulator,
    tmp_path: Path,
) -> Iterator[EmulatedEnvironment]:
    """An :class:`EmulatedEnvironment` on the four emulator fixtures, files under ``tmp_path``.

    Its config (``.config``, and the TOML file ``.config_path``) has six targets with fresh
    credentials, secrets in 0600 files: ``mailer``, ``mailer-legacy``, ``planner``,
    ``classic``, ``classic-key`` and ``reports``.
    """
    from unified_auth.testing.environment import EmulatedEnvironment  # noqa: PLC0415 (lazy)

    with EmulatedEnvironment(liana=liana_emulator, planner=liquidplanner_emulator,
                             classic=classic_emulator, oauth2=oauth2_emulator,
                             directory=tmp_path / "unified_auth_secrets") as environment:
        yield environment


@pytest.fixture
def unified_auth_config(unified_auth_environment: EmulatedEnvironment) -> dict[str, Any]:
    """A config dict with one target per bundled provider, each named after its provider.

    ``liana``, ``liana-legacy``, ``liquidplanner``, ``basic``, ``api-key`` and ``oauth2``: the
    targets of ``unified_auth_environment``, renamed. Secrets are in 0600 files, referenced
    as ``{"file": path}``; the LiquidPlanner token belongs to the example org's project
    editor.
    """
    targets = unified_auth_environment.config["targets"]
    return {"targets": {target["provider"]: dict(target) for target in targets.values()}}
