"""Test helpers for unified-auth and for the projects that use it.

The emulators are imported on first use: the pytest plugin imports this package in every
test run of every environment with unified-auth installed, and most runs never need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from unified_auth.testing.clock import ManualClock

if TYPE_CHECKING:
    from unified_auth.testing.classic import ClassicCounters, ClassicEmulator
    from unified_auth.testing.environment import EmulatedEnvironment, write_secret
    from unified_auth.testing.isolated import load_isolated
    from unified_auth.testing.leaks import assert_no_leaks
    from unified_auth.testing.liana import CredentialInfo, LianaCounters, LianaEmulator
    from unified_auth.testing.liquidplanner import (
        Change,
        ExampleOrg,
        LiquidPlannerCounters,
        LiquidPlannerEmulator,
        TokenInfo,
    )
    from unified_auth.testing.oauth2 import OAuth2Counters, OAuth2Emulator

__all__ = [
    "Change",
    "ClassicCounters",
    "ClassicEmulator",
    "CredentialInfo",
    "EmulatedEnvironment",
    "ExampleOrg",
    "LianaCounters",
    "LianaEmulator",
    "LiquidPlannerCounters",
    "LiquidPlannerEmulator",
    "ManualClock",
    "OAuth2Counters",
    "OAuth2Emulator",
    "TokenInfo",
    "assert_no_leaks",
    "load_isolated",
    "write_secret",
]

_LAZY = {
    "ClassicCounters": "unified_auth.testing.classic",
    "ClassicEmulator": "unified_auth.testing.classic",
    "assert_no_leaks": "unified_auth.testing.leaks",
    "EmulatedEnvironment": "unified_auth.testing.environment",
    "write_secret": "unified_auth.testing.environment",  # nosec B105 # a module name
    "load_isolated": "unified_auth.testing.isolated",
    "CredentialInfo": "unified_auth.testing.liana",
    "LianaCounters": "unified_auth.testing.liana",
    "LianaEmulator": "unified_auth.testing.liana",
    "Change": "unified_auth.testing.liquidplanner",
    "ExampleOrg": "unified_auth.testing.liquidplanner",
    "LiquidPlannerCounters": "unified_auth.testing.liquidplanner",
    "LiquidPlannerEmulator": "unified_auth.testing.liquidplanner",
    "TokenInfo": "unified_auth.testing.liquidplanner",
    "OAuth2Counters": "unified_auth.testing.oauth2",
    "OAuth2Emulator": "unified_auth.testing.oauth2",
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
