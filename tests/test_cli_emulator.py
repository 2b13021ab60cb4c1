"""``unified-auth emulator``: the emulators until Ctrl-C, and a config for them on stdout."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from unified_auth.cli import cli
from unified_auth.cli.emulator import CONFIG_END, _pick
from unified_auth.testing import assert_no_leaks


def _read_config(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        if line.rstrip("\n") == CONFIG_END:
            return "".join(lines)
        lines.append(line)
    raise AssertionError(f"no config before the emulator stopped: {''.join(lines)!r}")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_runs_until_interrupted_and_its_config_works(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "unified_auth", "emulator", "--token-lifetime", "8"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env)
    try:
        text = _read_config(process)
        config = tomllib.loads(text)
        path = Path(text.splitlines()[1].removeprefix("# written to ").split(";")[0])
        assert tomllib.loads(path.read_text()) == config
        assert config["refresh"] == {"min_interval": 1.0}, "short tokens, short interval"
        secrets = []
        for target in config["targets"].values():
            ref = next(v for v in target.values() if isinstance(v, dict))
            secret_file = Path(ref["file"])
            assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
            secrets.append(secret_file.read_text().strip())
        checked = CliRunner().invoke(cli, ["check", "--json", "--config", str(path)])
        assert checked.exit_code == 0, checked.output
        assert all(t["ok"] for t in json.loads(checked.stdout)["targets"])
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Ctrl-C stops the emulators" in err
    assert "emulators stopped" in err
    assert not path.parent.exists(), "Ctrl-C deletes the config and secret files"
    assert not path.parent.exists(), "the secrets are deleted with the temporary directory"
    assert_no_leaks([text, out, err, checked.output], secrets)


def test_a_busy_port_is_one_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["emulator", "--liana-port", str(port)])
    assert result.exit_code == 1
    assert "error: cannot start the emulators" in result.stderr
    assert "Traceback" not in result.output


def test_ports_follow_the_first_port_unless_given() -> None:
    assert [_pick(None, 8000, n) for n in range(3)] == [8000, 8001, 8002]
    assert [_pick(None, 0, n) for n in range(3)] == [0, 0, 0]
    assert _pick(9000, 8000, 1) == 9000
