"""The worked third-party plugin, docs/examples/unified-auth-acme, installed as a user would.

It is built and installed beside unified-auth (``pip install --target``, no network, no
build isolation), then found through its entry point alone: ``unified-auth plugins`` lists
it, and a config using its provider works end to end against a loopback server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from unified_auth.testing import LianaEmulator, assert_no_leaks

PACKAGE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "unified-auth-acme"


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the plugin is installed: a directory to put on PYTHONPATH."""
    work = tmp_path_factory.mktemp("acme")
    source = work / "source"
    # Built from a copy: a build writes build/ and *.egg-info/ beside the sources.
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("__pycache__"))
    target = work / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
         str(source)],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def test_its_own_tests_pass_on_the_installed_package(site_dir: Path, tmp_path: Path) -> None:
    # Its tests use unified-auth's pytest plugin (fixtures liana_emulator,
    # unified_auth_clock), found through unified-auth's own pytest11 entry point.
    tests = tmp_path / "tests"
    shutil.copytree(PACKAGE / "tests", tests, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(site_dir)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tests)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout


def _cli(site_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site_dir)}
    env.pop("UNIFIED_AUTH_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "unified_auth", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def liana() -> Iterator[LianaEmulator]:
    with LianaEmulator() as emulator:
        yield emulator


def test_unified_auth_plugins_lists_it_with_its_distribution(site_dir: Path) -> None:
    done = _cli(site_dir, "plugins", "--json")
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    assert plugins["acme"] == {
        "name": "acme", "module": "unified_auth_acme", "distribution": "unified-auth-acme",
        "version": "0.1.0", "providers": ["acme"], "ok": True, "error": None}


def test_a_config_using_it_works_end_to_end(site_dir: Path, liana: LianaEmulator,
                                            tmp_path: Path) -> None:
    client_id, secret = liana.create_credential("acme, installed")
    secret_file = tmp_path / "acme.secret"
    secret_file.write_text(secret)
    config = tmp_path / "unified-auth.toml"
    config.write_text(tomli_w.dumps({"cache": {"backend": "memory"}, "targets": {"acme": {
        "provider": "acme", "hosts": [f"{liana.url}/v1/"], "client_id": client_id,
        "client_secret": {"file": str(secret_file)}, "token_url": liana.token_url}}}))

    check = _cli(site_dir, "check", "-c", str(config), "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    (report,) = json.loads(check.stdout)["targets"]
    assert report["acts_as"] == f"client {client_id}"

    request = _cli(site_dir, "request", "GET", f"{liana.url}/v1/lists", "-c", str(config))
    assert request.returncode == 0, request.stderr
    assert json.loads(request.stdout)["succeed"] is True
    assert liana.counters.tokens_issued == 2  # one per process: memory cache
    assert_no_leaks(check.stdout + check.stderr + request.stdout + request.stderr, [secret])
