"""Quality gates that CI enforces: ruff, bandit, mypy --strict, README's commands being true."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def test_ruff_is_clean() -> None:
    done = subprocess.run([_tool("ruff"), "check", "unified_auth", "plugins", "tests",
                           "benchmarks"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_bandit_is_clean_as_tox_lint_runs_it() -> None:
    import configparser

    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini", encoding="utf-8")
    commands = tox["testenv:lint"]["commands"].strip().splitlines()
    bandit = next(line.split() for line in commands if line.split()[0] == "bandit")
    assert bandit[-2:] == ["unified_auth", "plugins"]
    done = subprocess.run([_tool("bandit"), *bandit[1:]], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def _sh_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]


def test_ci_runs_exactly_the_test_command_of_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(b for b in _sh_blocks(readme) if "pytest" in b)
    ci_lines = [line.strip() for line in ci.splitlines()]
    assert test_command in ci_lines
    assert ci_lines[-1] == test_command


def test_the_readme_main_job_runs_the_demo() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert any(b.endswith("unified-auth demo") for b in _sh_blocks(readme))


def test_every_package_in_the_tree_is_shipped() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "unified_auth").rglob("__init__.py")}
    found |= {p.parent.name for p in (ROOT / "plugins").glob("*/__init__.py")}
    assert found - shipped == set(), "add these to [tool.setuptools] packages"
