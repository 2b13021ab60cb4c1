import logging
from collections.abc import Iterator

import pytest
from redis_server import RedisServer, running_redis

from unified_auth.testing import LianaEmulator, ManualClock

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True, scope="session")
def _private_user_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CLI keeps tokens in the user cache dir: never the real one during tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
        yield


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


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server with a password on a free loopback port, for the whole session.

    Tests keep apart by key prefix. Skips without the binary, unless CI requires it.
    """
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server
