"""The command line as a whole: --version, python -m, exit statuses, errors, --debug, logs."""

from __future__ import annotations

import copy
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner, Result

from unified_auth.cli import cli
from unified_auth.testing import assert_no_leaks
from unified_auth.testing.environment import MAILER, EmulatedEnvironment


@pytest.fixture
def box(tmp_path: Path) -> Iterator[EmulatedEnvironment]:
    with EmulatedEnvironment(directory=tmp_path / "box") as sandbox:
        yield sandbox


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_version() -> None:
    result = _invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("unified-auth, version ")


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run([sys.executable, "-m", "unified_auth", "--help"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0
    assert "Usage: unified-auth" in done.stdout
    for command in ("plugins", "check", "token", "request", "emulator", "demo"):
        assert command in done.stdout


def test_a_missing_config_file_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = _invoke("check", "--config", str(missing))
    assert result.exit_code == 2
    assert f"error: {missing}: the config file does not exist" in result.stderr
    assert "Traceback" not in result.output


def test_no_default_config_exits_2_and_says_where_it_looked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNIFIED_AUTH_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    result = _invoke("token", "mailer")
    assert result.exit_code == 2
    assert "no config found" in result.stderr
    assert "UNIFIED_AUTH_CONFIG" in result.stderr


def test_an_unknown_key_exits_2_naming_file_target_and_key(box: EmulatedEnvironment) -> None:
    config = box.config_path
    config.write_text(config.read_text().replace(
        'provider = "liana"', 'provider = "liana"\ncolour = "blue"'))
    result = _invoke("check", "--config", str(config))
    assert result.exit_code == 2
    assert f"{config}: targets.mailer.colour: unknown key" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_invalid_toml_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[targets.mailer\n")
    result = _invoke("token", "mailer", "--config", str(config))
    assert result.exit_code == 2
    assert f"{config}: not valid TOML" in result.stderr


def test_debug_shows_the_traceback_of_a_config_error(tmp_path: Path) -> None:
    result = _invoke("--debug", "check", "--config", str(tmp_path / "nowhere.toml"))
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "ConfigError" in result.stderr


def test_a_rejected_credential_exits_1_without_a_traceback(box: EmulatedEnvironment) -> None:
    box.write_secret(MAILER, "not-the-real-secret")
    result = _invoke("token", MAILER, "--config", str(box.config_path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "mailer" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_debug_logs_go_to_stderr_without_secrets(box: EmulatedEnvironment) -> None:
    result = _invoke("--debug", "token", MAILER, "--config", str(box.config_path))
    assert result.exit_code == 0
    assert "debug" in result.stderr
    assert "fetched credentials" in result.stderr
    token = result.stdout.strip()
    assert_no_leaks(result.stderr, [*box.secret_values(), token])


def test_library_warnings_reach_stderr_in_a_readable_form(box: EmulatedEnvironment) -> None:
    document = copy.deepcopy(box.config)
    document["targets"]["classic"]["password"] = "clear-text-password"
    config = box.config_path
    config.write_text(tomli_w.dumps(document))
    result = _invoke("token", "classic", "--config", str(config))
    assert result.exit_code == 0
    assert "warning: " in result.stderr
    assert "targets.classic.password: a secret is written in clear text" in result.stderr
    assert "clear-text-password" not in result.stderr


def test_the_logger_is_left_as_it_was() -> None:
    logger = logging.getLogger("unified_auth")
    handlers, level = list(logger.handlers), logger.level
    _invoke("--debug", "plugins")
    assert logger.handlers == handlers
    assert logger.level == level
