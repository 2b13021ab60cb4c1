"""The CLI keeps tokens between runs: the file cache in the user cache directory by default."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redis_server import RedisServer, free_port

import unified_auth
from unified_auth import Credentials, Secret
from unified_auth.cache import CachedCredentials, MemoryCache
from unified_auth.cache.file import FileStore
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


def _cache_cli(box: EmulatedEnvironment, *args: str) -> Result:
    return CliRunner().invoke(cli, ["cache", *args, "--config", str(box.config_path)],
                              env={"COLUMNS": "200"})


def _plant(directory: Path, key: str, expires_in: float) -> None:
    """An entry another process wrote, for a target this config may not have."""
    now = time.time()
    entry = CachedCredentials(Credentials(Secret("planted-token-value"),
                                          datetime.fromtimestamp(now + expires_in, UTC)), now)
    if expires_in > 0:
        FileStore(directory).store(key, entry, now)
    else:  # already expired: written as a crashed or old process left it
        FileStore(directory).store(key, entry, now + expires_in - 1)


def test_cache_list_shows_each_target_and_its_expiry_never_the_token(
        box: EmulatedEnvironment, user_cache: Path) -> None:
    token = _token(box).stdout.strip()
    _plant(user_cache, "removed-target:0123abcd", 600)
    listed = _cache_cli(box, "list")
    assert listed.exit_code == 0, listed.output
    assert str(user_cache) in listed.stdout
    assert MAILER in listed.stdout and "credentials" in listed.stdout and "(in 15 min)" in \
        listed.stdout
    assert "removed-target" in listed.stdout and "not in the config" in listed.stdout
    document = json.loads(_cache_cli(box, "list", "--json").stdout)
    assert document["backend"] == "file"
    assert {(e["target"], e["record"], e["valid"]) for e in document["entries"]} == {
        (MAILER, "credentials", True), ("removed-target", "credentials", True)}
    assert_no_leaks([listed.output, json.dumps(document)],
                    [token, "planted-token-value", *box.secret_values()])


def test_cache_clear_target_drops_its_entry_and_the_next_run_fetches(
        box: EmulatedEnvironment, user_cache: Path) -> None:
    assert _token(box).exit_code == 0
    _plant(user_cache, "removed-target:0123abcd", 600)
    cleared = _cache_cli(box, "clear", MAILER)
    assert cleared.exit_code == 0, cleared.output
    assert "removed 1 entry of target mailer" in cleared.stdout
    assert MAILER not in _cache_cli(box, "list").stdout
    assert _token(box).exit_code == 0
    assert box.liana.counters.token_requests == 2
    assert _cache_cli(box, "clear", "removed-target").exit_code == 0, \
        "a target no longer in the config can be cleared"
    everything = _cache_cli(box, "clear")
    assert "removed 1 entry of all targets" in everything.stdout
    assert list(user_cache.iterdir()) == [], "entries and lock files all gone"


def test_cache_clear_of_an_unknown_target_is_one_line_naming_it(
        box: EmulatedEnvironment, user_cache: Path) -> None:
    result = _cache_cli(box, "clear", "no-such-target")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "'no-such-target'" in result.stderr and MAILER in result.stderr


def test_cache_commands_with_the_memory_backend_say_nothing_is_kept(
        box: EmulatedEnvironment, user_cache: Path) -> None:
    box.config_path.write_text(box.config_path.read_text() + '\n[cache]\nbackend = "memory"\n')
    for args in (["list"], ["clear"]):
        result = _cache_cli(box, *args)
        assert result.exit_code == 0 and "memory backend" in result.stdout


def test_an_unreachable_redis_is_one_line_naming_it_and_exit_1(
        box: EmulatedEnvironment, user_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("TEST_REDIS_PASSWORD", "unused-password")
    box.config_path.write_text(box.config_path.read_text() + (
        f'\n[cache]\nbackend = "redis"\nurl = "redis://127.0.0.1:{port}/0"\n'
        f'password = {{ env = "TEST_REDIS_PASSWORD" }}\ntimeout = 0.5\n'))
    for args in (["list"], ["clear"]):
        result = _cache_cli(box, *args)
        assert result.exit_code == 1, result.output
        assert result.stderr.count("\n") == 1
        assert f"error: Redis at 127.0.0.1:{port}/0: ConnectionError" in result.stderr
        assert "unused-password" not in result.output


def test_cache_list_and_clear_on_redis(box: EmulatedEnvironment, user_cache: Path,
                                       redis_server: RedisServer,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_REDIS_PASSWORD", redis_server.password)
    box.config_path.write_text(box.config_path.read_text() + (
        f'\n[cache]\nbackend = "redis"\nurl = "{redis_server.url}"\n'
        f'password = {{ env = "TEST_REDIS_PASSWORD" }}\nkey_prefix = "cli-cache:"\n'))
    token = _token(box).stdout.strip()
    listed = _cache_cli(box, "list", "--json")
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.stdout)
    assert document["cache"] == f"Redis at 127.0.0.1:{redis_server.port}/0"
    assert [(e["target"], e["valid"]) for e in document["entries"]] == [(MAILER, True)]
    assert token not in listed.output
    redis_server.client().set("other-app:mailer:0123", b"not ours")
    cleared = _cache_cli(box, "clear")
    assert cleared.exit_code == 0 and "removed 1 entry" in cleared.stdout
    assert redis_server.client().get("other-app:mailer:0123") == b"not ours", \
        "only keys under this config's key_prefix"
    assert json.loads(_cache_cli(box, "list", "--json").stdout)["entries"] == []
