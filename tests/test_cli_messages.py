"""Messages a newcomer meets: each says what is wrong, where it came from and the fix."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import unified_auth
from unified_auth.cli import cli
from unified_auth.errors import DOCS_URL, ConfigError
from unified_auth.testing import LiquidPlannerEmulator


def test_a_port_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=rf"cannot listen on 127\.0\.0\.1:{port}: "):
            LiquidPlannerEmulator(port=port).start()
        # The command says it too (run as a user would: its own process, bounded).
        done = subprocess.run(
            [sys.executable, "-m", "unified_auth", "emulator", "--lp-port", str(port)],
            capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert f"127.0.0.1:{port}" in done.stderr


def test_a_missing_file_from_the_environment_says_where_the_path_came_from(
        tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = CliRunner(env={"UNIFIED_AUTH_CONFIG": str(missing)}).invoke(cli, ["check"])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {missing}: the config file does not exist (the path "
                             f"comes from $UNIFIED_AUTH_CONFIG); fix or unset the variable\n")


def test_no_config_at_all_links_the_docs_site(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNIFIED_AUTH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    with pytest.raises(ConfigError) as error:
        unified_auth.load()
    assert f"see {DOCS_URL}config/" in str(error.value)
    assert "docs/config.md" not in str(error.value)


def _target(**table: object) -> dict[str, object]:
    return {"targets": {"planner": {"provider": "liquidplanner", **table}}}


def test_host_instead_of_hosts_is_reported_as_the_unknown_key_it_is() -> None:
    with pytest.raises(ConfigError) as error:
        unified_auth.load(_target(host=["next.liquidplanner.com"], token="x" * 20))
    assert str(error.value).startswith(
        "<dict>: targets.planner.host: unknown key for provider 'liquidplanner'; did you "
        "mean 'hosts'? expected one of: provider, hosts, token")


@pytest.mark.parametrize(("table", "key", "suggestion"), [
    ({"hosts": ["a.example.com"], "tokn": "x"}, "tokn", "token"),
    ({"hosts": ["a.example.com"], "token": "x", "workspace": 1}, "workspace", "workspace_id"),
])
def test_unknown_keys_suggest_the_closest_one(table: dict[str, object], key: str,
                                              suggestion: str) -> None:
    with pytest.raises(ConfigError, match=f"targets.planner.{key}: .*did you mean "
                                          f"'{suggestion}'"):
        unified_auth.load(_target(**table))


def test_a_misspelt_provider_or_table_gets_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="did you mean 'liquidplanner'"):
        unified_auth.load({"targets": {"p": {"provider": "liquidplaner", "hosts": ["a.b.c"]}}})
    with pytest.raises(ConfigError, match="did you mean 'targets'"):
        unified_auth.load({"target": {}})
    with pytest.raises(ConfigError, match="did you mean 'backend'"):
        unified_auth.load({"cache": {"backnd": "memory"}, "targets": {}})


def test_no_suggestion_when_nothing_is_close() -> None:
    with pytest.raises(ConfigError) as error:
        unified_auth.load(_target(hosts=["a.example.com"], token="x", zzz=1))
    assert "did you mean" not in str(error.value)
