"""The README's two commands, in essence, on a fresh clone with a macOS-length ``TMPDIR``.

The clone is installed (``pip install -e``, as the README says) into a new virtual
environment that borrows this one's dependencies, then ``unified-auth demo`` and one test
module run from it. Neither may leave an ``unified-auth-*`` folder in ``TMPDIR``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# As deep as macOS's /var/folders/xx/yyyyyyyy/T: long paths must not change any output.
LONG_TMPDIR = "a/very/long/path/like/macos/T"
OWN_INSTALL = ("unified_auth", "unified-auth", "__editable__")


def run(*command: str | Path, cwd: Path, env: dict[str, str],
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done


def borrowed_dependencies(into: Path) -> Path:
    """This environment's installed packages, as links, without this checkout's own install."""
    into.mkdir()
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if entry.name.startswith(OWN_INSTALL) or entry.suffix == ".pth":
            continue
        (into / entry.name).symlink_to(entry)
    return into


def test_a_fresh_clone_runs_the_demo_and_its_tests_leaving_nothing_in_tmpdir(
        tmp_path: Path) -> None:
    tmpdir = tmp_path / LONG_TMPDIR
    tmpdir.mkdir(parents=True)
    env = {"PATH": f"{tmp_path / 'venv' / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
           "TMPDIR": str(tmpdir), "COLUMNS": "80"}
    # pip keeps the user's own settings (an index, a certificate) found through HOME.
    pip_env = {**os.environ, "TMPDIR": str(tmpdir)}
    git = shutil.which("git")
    assert git is not None, "the fresh-clone test needs git"
    clone = tmp_path / "clone"
    run(git, "clone", "--quiet", "--no-hardlinks", ROOT, clone, cwd=tmp_path, env=env)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path, env=env)
    python = venv / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
               cwd=tmp_path, env=env).stdout.strip()
    deps = borrowed_dependencies(tmp_path / "deps")
    Path(site, "borrowed.pth").write_text(f"{deps}\n", encoding="utf-8")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "-e", ".", cwd=clone, env=pip_env, timeout=300)

    assert str(clone / "unified_auth") in run(
        python, "-c", "import unified_auth; print(unified_auth.__file__)", cwd=tmp_path,
        env=env).stdout, "the clone's code ran, not this checkout's"
    # The two commands at once: they share nothing but TMPDIR, which is the point.
    tests = subprocess.Popen(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_environment.py",
         "-k", "environment or start"], cwd=clone, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        demo = run(venv / "bin" / "unified-auth", "demo", "--speed", "5", cwd=clone, env=env)
        tested, _ = tests.communicate(timeout=120)
    finally:
        tests.kill()
    assert "All " in demo.stdout and "checks passed" in demo.stdout
    assert tests.returncode == 0, tested

    assert sorted(p.name for p in tmpdir.iterdir() if p.name.startswith("unified-auth-")) \
        == []
