"""``unified_auth.__all__``: every name imports, lazily, and the newer ones do their job."""

from __future__ import annotations

import inspect
import subprocess
import sys
import time
import typing
from typing import Any

import unified_auth
from unified_auth import MemoryCache, RegisterProvider, RetryPolicy, hookspecs
from unified_auth.testing import LianaEmulator, ManualClock


def test_every_public_name_imports_without_loading_the_core_at_import_time() -> None:
    program = (
        "import sys, unified_auth\n"
        "assert 'requests' not in sys.modules and 'unified_auth.cache' not in sys.modules\n"
        "from unified_auth import *\n"
        "from unified_auth import MemoryCache, RegisterProvider\n"
        "print(len(unified_auth.__all__))\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(unified_auth.__all__)
    assert {"MemoryCache", "RegisterProvider"} <= set(unified_auth.__all__)


def test_a_memory_cache_given_to_load_keeps_the_token_it_fetched(
        unified_auth_config: dict[str, Any], liana_emulator: LianaEmulator,
        unified_auth_clock: ManualClock) -> None:
    cache = MemoryCache(unified_auth_clock)
    first = unified_auth.load(unified_auth_config, clock=unified_auth_clock, cache=cache)
    token = first.credentials("liana").value
    second = unified_auth.load(unified_auth_config, clock=unified_auth_clock, cache=cache)
    assert second.credentials("liana").value == token
    assert liana_emulator.counters.token_requests == 1


def test_register_provider_is_the_type_the_hook_declares() -> None:
    hints = typing.get_type_hints(hookspecs.register_providers)
    assert hints["register"] == RegisterProvider


def test_load_takes_no_test_knobs() -> None:
    # Tests reach them through RetryPolicy(sleep=...) and unified_auth.testing.load_isolated.
    parameters = inspect.signature(unified_auth.load).parameters
    assert "sleep" not in parameters and "entry_points" not in parameters


def test_a_retry_policy_carries_its_sleep_outside_equality_and_repr() -> None:
    pauses: list[float] = []
    recording = RetryPolicy(attempts=2, sleep=pauses.append)
    assert RetryPolicy().sleep is time.sleep
    assert recording == RetryPolicy(attempts=2)
    assert "sleep" not in repr(recording)


def test_the_broker_pauses_through_the_policys_sleep(
        unified_auth_config: dict[str, Any], liana_emulator: LianaEmulator,
        unified_auth_clock: ManualClock) -> None:
    pauses: list[float] = []
    hub = unified_auth.load(unified_auth_config, clock=unified_auth_clock,
                            retry=RetryPolicy(attempts=3, sleep=pauses.append))
    liana_emulator.inject_fault("status", times=2)
    assert hub.credentials("liana").value.reveal()
    assert len(pauses) == 2
