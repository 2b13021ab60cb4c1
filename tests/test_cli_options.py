"""The CLI's shared options, on either side of the command name, and its usage errors."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from unified_auth.cli import cli

KEY = "a-static-api-key-123"
CONFIG = """
[targets.keyed]
provider = "api-key"
hosts = ["api.example.com"]
key = { env = "UA_TEST_KEY" }
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "custom.toml"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize("order", ["before", "after"])
def test_config_is_accepted_before_or_after_the_command(config: Path, order: str) -> None:
    args = (["-c", str(config), "token", "keyed"] if order == "before"
            else ["token", "keyed", "-c", str(config)])
    result = CliRunner(env={"UA_TEST_KEY": KEY}).invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{KEY}\n"


def test_the_same_config_given_twice_differently_is_a_usage_error(
        config: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-c", str(config), "token", "keyed", "-c",
                                      str(tmp_path / "other.toml")])
    assert result.exit_code == 2
    assert "given twice" in result.stderr


@pytest.mark.parametrize("args", [["--debug", "check", "-c"], ["check", "--debug", "-c"]])
def test_debug_is_accepted_before_or_after_the_command(config: Path, args: list[str]) -> None:
    level = logging.getLogger("unified_auth").level
    result = CliRunner(env={"UA_TEST_KEY": KEY}).invoke(cli, [*args, str(config), "--no-probe"])
    assert result.exit_code == 0, result.output
    assert " debug [" in result.stderr  # the --debug format: time, level, thread
    assert logging.getLogger("unified_auth").level == level  # put back as it was


def test_a_usage_error_says_error_like_every_other_message() -> None:
    result = CliRunner().invoke(cli, ["check", "--no-such-option"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: unified-auth check")
    assert lines[-1] == "error: No such option '--no-such-option'."
    assert "Error:" not in result.stderr


def test_a_missing_argument_is_a_usage_error_too() -> None:
    result = CliRunner().invoke(cli, ["token"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "error: Missing argument 'TARGET'."


def test_shell_completion_offers_the_configs_target_names(config: Path) -> None:
    env = {"COMP_WORDS": f"unified-auth -c {config} token k", "COMP_CWORD": "4",
           "_UNIFIED_AUTH_COMPLETE": "bash_complete", "PATH": str(Path(sys.executable).parent)}
    completed = subprocess.run([sys.executable, "-m", "unified_auth"], env=env,
                               capture_output=True, text=True, timeout=30, check=True)
    assert completed.stdout.split() == ["plain,keyed"]


def test_the_command_alone_shows_the_help_not_an_error() -> None:
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 2  # click's status for "no command given"
    assert result.output.startswith("Usage: unified-auth [OPTIONS] COMMAND [ARGS]...")
    assert "error:" not in result.output
    assert "which" in result.output
