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
# The story runs this many times faster than at a user's terminal: its checks stay the same.
SPEED = "5"


def _summary(stdout: str) -> dict[str, list[str]]:
    """target -> provider, calls, token fetches, renewed early, failed fetches, 401s."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 7 and cells[2].isdigit():
            rows[cells[0]] = cells[1:]
    return rows


def _steps(stdout: str) -> dict[str, str]:
    """Step title -> its text."""
    parts = re.split(r"^(\d+)\. (.+)$", stdout, flags=re.MULTILINE)
    return {parts[i + 1]: parts[i + 2] for i in range(1, len(parts) - 2, 3)}


def test_the_demo_runs_green_and_its_steps_agree_with_its_summary(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "unified_auth", "demo", "--speed", SPEED,
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", "HOME": str(tmp_path)})
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert elapsed < 15, f"the demo took {elapsed:.1f} s"
    summary = _summary(done.stdout)
    provider, calls, fetches, early, failed, unauthorized = summary["mailer"]
    assert provider == "liana"
    assert int(calls) > 20
    assert unauthorized == "0"
    assert int(early) >= 1, "renewed in the background, before expiry"
    assert int(fetches) >= 3
    assert failed == "1", "the rotated-out secret, refused once"
    assert summary["planner"][5] == "2", "the disconnected owner: one 401, one retry"
    for name in ("mailer-legacy", "classic", "classic-key", "reports"):
        assert summary[name][2:] == ["1", "0", "0", "0"], name
    assert summary["reports"][:2] == ["oauth2", "2"]
    # The emulator's own count agrees with the summary: every fetch and refusal is a request.
    emulator = re.search(r"Liana emulator: (\d+) token requests", done.stdout)
    assert emulator is not None
    assert int(emulator[1]) == int(fetches) + int(failed)

    steps = _steps(done.stdout)
    isolation = steps["Credentials go only to their target's hosts"]
    assert "-> 401 (no target claims localhost)" in isolation
    assert "-> 302 -> 401" in isolation
    rotation = steps["Liana: a rotated secret is picked up from its file"]
    assert f"refused {failed} time(s)" in rotation
    assert re.search(r"token digest [0-9a-f]{8} -> [0-9a-f]{8}", rotation)
    assert "FAIL" not in done.stdout
    assert re.search(r"All \d+ checks passed in \d+\.\d s", done.stdout)

    output = done.stdout + done.stderr
    secrets = [p.read_text().strip() for p in (tmp_path / "work").glob("*.secret")]
    assert len(secrets) == 6
    assert_no_leaks(output, secrets)
    shaped = [w for w in _SECRET_SHAPED.findall(output) if w not in tmp_path.parts]  # TMPDIR
    assert shaped == [], "nothing shaped like a token or secret"
