"""The docs site builds with ``mkdocs build --strict`` and renders the reference from code.

The hook reference, the public API and ``unified_auth.testing`` come from their docstrings
(mkdocstrings), so what a reader sees there cannot drift from what the code says.
"""

from __future__ import annotations

import html
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import unified_auth
import unified_auth.testing
from unified_auth import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = {name: spec for name, spec in vars(hookspecs).items()
         if hasattr(spec, f"{hookspecs.PROJECT}_spec")}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def _text(site: Path, page: str) -> str:
    raw = (site / page / "index.html").read_text(encoding="utf-8")
    inline = re.sub(r"</?(?:span|code|a|em|strong|b)\b[^>]*>", "", raw)  # highlighted code
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline)))


def _summary(obj: object) -> str:
    """The docstring's first line as the page shows it: roles and backticks gone."""
    first = (inspect.getdoc(obj) or "").splitlines()[0]
    first = re.sub(r":\w+:`~[\w.]*?(\w+)`", r"\1", first)
    return re.sub(r":\w+:`([\w.]+)`", r"\1", first).replace("`", "")


@pytest.mark.parametrize("page", ["plugins", "reference/hooks"])
def test_every_hook_is_rendered_from_its_docstring(site: Path, page: str) -> None:
    text = _text(site, page)
    for name, spec in HOOKS.items():
        assert _summary(spec) in text, name
        for param in inspect.signature(spec).parameters:
            assert param in text, (name, param)


def test_the_public_api_is_rendered(site: Path) -> None:
    text = _text(site, "reference/api")
    for name in unified_auth.__all__:
        assert name in text, name
    for method in ("target_for", "headers", "adapter", "probe", "auth", "credentials"):
        assert f"{method}(" in text, method
    assert _summary(unified_auth.UnifiedAuth.target_for) in text


def test_unified_auth_testing_is_rendered(site: Path) -> None:
    text = _text(site, "reference/testing")
    for name in unified_auth.testing.__all__:
        assert name in text, name
    assert _summary(unified_auth.testing.ClassicEmulator) in text
    for fixture in ("liana_emulator", "liquidplanner_emulator", "unified_auth_config"):
        assert fixture in text


def test_shell_completion_and_which_are_documented(site: Path) -> None:
    text = _text(site, "cli")
    assert "_UNIFIED_AUTH_COMPLETE=bash_source unified-auth" in text
    assert "unified-auth which" in text


def test_the_changelog_is_on_the_site(site: Path) -> None:
    assert "Changelog" in _text(site, "changelog")
