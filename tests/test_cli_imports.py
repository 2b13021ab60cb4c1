"""Commands import what they use, no more: ``unified-auth token`` sits in shell loops.

Timing belongs in benchmarks/; here, which modules a command loads (deterministic). Before
commands loaded on demand, every run paid for rich, the check table, the progress bar and
the emulators: 0.21 s per ``token`` call on the 2-core CI machine, 0.15 s after (with
``import requests`` alone at 0.085 s there).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ["rich", "rich.progress", "unified_auth.cli.check", "unified_auth.cli.demo",
         "unified_auth.cli.emulator", "unified_auth.cli.request", "unified_auth.testing.liana"]
PROBE = """
import json, sys
from unified_auth.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, timeout=60, check=False, env=env)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    return set(report["modules"])


def test_token_loads_neither_rich_nor_other_commands(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[targets.k]\nprovider = "api-key"\nhosts = ["api.example.com"]\n'
                      'key = { env = "UA_KEY" }\n')
    loaded = _modules("token", "k", "-c", str(config),
                      env={"UA_KEY": "a-key-for-the-test", "PATH": ""})
    assert sorted(set(HEAVY) & loaded) == []


# (The group's own --help lists every command's summary, so it loads them all.)
@pytest.mark.parametrize("command", [["which", "--help"], ["token", "--help"]])
def test_help_loads_no_other_command(command: list[str]) -> None:
    loaded = _modules(*command)
    assert sorted({"rich.progress", "unified_auth.cli.check", "unified_auth.cli.demo"}
                  & loaded) == []
