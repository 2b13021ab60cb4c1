import logging
from collections.abc import Iterator

import pytest

from unified_auth.testing import LianaEmulator, ManualClock

pytest_plugins = ["pytester"]


@pytest.fixture
def clock() -> ManualClock:
    """A hand-moved clock at a fixed instant, shared by a hub and its emulators."""
    return ManualClock(1_800_000_000.0)


@pytest.fixture
def liana(clock: ManualClock) -> Iterator[LianaEmulator]:
    """The Liana emulator on ``clock``, tokens living 900 s."""
    with LianaEmulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captured logs, DEBUG included, for tests that look for leaks in them."""
    caplog.set_level(logging.DEBUG)
    return caplog
