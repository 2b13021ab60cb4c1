"""The CLI keeps tokens between runs: the file cache in the user cache directory by default."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import unified_auth
from unified_auth.cache import MemoryCache
from unified_auth.cli import cli
from unified_auth.testing import assert_no_leaks
from unified_auth.testing.environment import MAILER, EmulatedEnvironment


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "unified-auth"


@pytest.fixture
def box(tmp_path: Path) -> Iterator[EmulatedEnvironment]:
    with EmulatedEnvironment(directory=tmp_path / "box") as sandbox:
        yield sandbox


def _token(box: EmulatedEnvironment) -> Result:
    return CliRunner().invoke(cli, ["token", "--config", str(box.config_path), MAILER])


def test_token_twice_fetches_once_and_prints_the_same_token(box: EmulatedEnvironment,
                                                            user_cache: Path) -> None:
    first, second = _token(box), _token(box)
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout
    assert box.liana.counters.token_requests == 1
    assert stat.S_IMODE(user_cache.stat().st_mode) == 0o700
    files = list(user_cache.iterdir())
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert_no_leaks([p.read_bytes() for p in files], box.secret_values())


def test_request_and_check_use_the_same_cache(box: EmulatedEnvironment, user_cache: Path) -> None:
    runner = CliRunner()
    assert _token(box).exit_code == 0
    url = f"{box.liana.url}/v1/lists"
    request = runner.invoke(cli, ["request", "GET", url, "--config", str(box.config_path)])
    assert request.exit_code == 0, request.output
    check = runner.invoke(cli, ["check", "--config", str(box.config_path), MAILER])
    assert check.exit_code == 0, check.output
    assert box.liana.counters.token_requests == 1


def test_a_cache_table_turns_the_file_default_off(box: EmulatedEnvironment,
                                                  user_cache: Path) -> None:
    box.config_path.write_text(box.config_path.read_text() + '\n[cache]\nbackend = "memory"\n')
    first, second = _token(box), _token(box)
    assert first.stdout != second.stdout
    assert box.liana.counters.token_requests == 2
    assert not user_cache.exists()


def test_the_python_api_default_stays_memory(box: EmulatedEnvironment, user_cache: Path) -> None:
    with unified_auth.load(box.config_path) as hub:
        assert isinstance(hub._cache, MemoryCache)
        hub.credentials(MAILER)
    assert not user_cache.exists()
