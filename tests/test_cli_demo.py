"""``unified-auth demo``: the whole story against the emulators, as a user runs it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from unified_auth.testing import assert_no_leaks

# Tokens and secrets of the emulators are 32+ characters of base64url or hex.
_SECRET_SHAPED = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")


def _summary(stdout: str) -> dict[str, list[str]]:
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 6 and cells[2].isdigit():
            rows[cells[0]] = cells[1:]
    return rows


def test_the_demo_runs_green_in_under_20_seconds(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "unified_auth", "demo", "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", "HOME": str(tmp_path)})
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert elapsed < 20, f"the demo took {elapsed:.1f} s"
    summary = _summary(done.stdout)
    provider, requests, fetches, unauthorized, proactive = summary["mailer"]
    assert provider == "liana"
    assert int(requests) > 20
    assert unauthorized == "0"
    assert int(proactive) >= 1
    assert int(fetches) >= 3
    assert summary["planner"][3] == "2", "the disconnected owner: one 401, one retry"
    for name in ("mailer-legacy", "classic", "classic-key"):
        assert summary[name][3] == "0"
    assert "FAIL" not in done.stdout
    assert re.search(r"All \d+ checks passed in \d+\.\d s", done.stdout)
    output = done.stdout + done.stderr
    secrets = [p.read_text().strip() for p in (tmp_path / "work").glob("*.secret")]
    assert len(secrets) == 5
    assert_no_leaks(output, secrets)
    shaped = [w for w in _SECRET_SHAPED.findall(output) if w not in tmp_path.parts]  # TMPDIR
    assert shaped == [], "nothing shaped like a token or secret"
