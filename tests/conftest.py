import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer, running_redis

pytest_plugins = ["pytester"]

LEFTOVER = "unified-auth-*"
"""What the emulated environment names its temporary folders: none may outlive a run."""


def pytest_configure(config: pytest.Config) -> None:
    # A private temporary directory for the whole run (subprocesses inherit it through
    # TMPDIR), so the leftover check below sees this run's folders only, not those of
    # another suite running on the same machine.
    # pytest's own tmp_path folders stay where they were.
    private = Path(tempfile.mkdtemp(prefix="ua-suite-"))
    config.stash[_PRIVATE_TMP] = (private, os.environ.get("TMPDIR"), tempfile.tempdir)
    if "PYTEST_DEBUG_TEMPROOT" not in os.environ:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = tempfile.gettempdir()
        config.add_cleanup(lambda: os.environ.pop("PYTEST_DEBUG_TEMPROOT", None))
    os.environ["TMPDIR"] = str(private)
    tempfile.tempdir = str(private)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    private = session.config.stash[_PRIVATE_TMP][0]
    left = sorted(path.name for path in private.glob(LEFTOVER))
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(f"the test run left temporary folders behind: {left}",
                                red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    private, previous_env, previous_tempdir = config.stash[_PRIVATE_TMP]
    if previous_env is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = previous_env
    tempfile.tempdir = previous_tempdir
    shutil.rmtree(private, ignore_errors=True)


_PRIVATE_TMP = pytest.StashKey[tuple[Path, str | None, str | None]]()


@pytest.fixture(autouse=True, scope="session")
def _private_user_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CLI keeps tokens in the user cache dir: never the real one during tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
        yield


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
