"""Run requests' or httpx's own test suite plain and with unified-auth mounted, side by side.

    python -m benchmarks.third_party_suites requests [--source DIR] [--tree DIR] [-k EXPR]
    python -m benchmarks.third_party_suites httpx ...

"Mounted" means every ``requests.Session`` gets two ``hub.adapter()`` (``https://`` and
``http://``) and every httpx client our transports around its own, from a hub whose one
target claims a host no test uses (:mod:`benchmarks._suite_mount`). Nothing is ours, so a
test that passes plain and fails mounted is a transparency bug.

The suite's sources: ``--source DIR`` (an unpacked sdist or checkout with ``tests/``), else
an sdist of the *installed* version fetched once with ``pip download --no-binary :all:``
(through pip's own configuration) into ``~/.cache/unified-auth/suites/``. Each run copies
``tests/`` into a fresh temporary directory; the installed packages are never touched.
Every run goes through the socket guard ``netguard`` (``../shared/tools`` or
``$NETGUARD_DIR``): some of these tests dial 10.255.255.1 or public names.
Without pytest-httpbin, requests' ``httpbin`` fixtures come from a stand-in
(:mod:`benchmarks._httpbin_standin`), and the summary says so.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "unified-auth" / "suites"
SUITES = ("requests", "httpx")
_TEST_REQUIREMENTS = {
    "requests": ("trustme",),
    "httpx": ("uvicorn", "trustme", "chardet", "brotli", "zstandard", "h2", "socksio", "trio"),
}
"""Modules the suite's tests import beyond pytest and the library itself."""
_TIMEOUT = 1800
"""Seconds for one run of a suite (requests' takes about a minute)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.third_party_suites",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", choices=SUITES)
    parser.add_argument("--source", type=Path,
                        help="an unpacked sdist or checkout of the suite's project (has tests/)")
    parser.add_argument("--tree", type=Path,
                        help="the unified-auth tree to mount (default: the installed one)")
    parser.add_argument("--only", choices=("plain", "mounted"), help="run one side only")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression, for both runs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args(argv)

    version = importlib.metadata.version(args.suite)
    source = args.source or _fetch(args.suite, version)
    if not (source / "tests").is_dir():
        print(f"{source} has no tests/: {args.suite} {version}'s sdist ships without its test "
              f"suite; give an unpacked checkout of its tag with --source", file=sys.stderr)
        return 2
    notes = _notes(args.suite, version, source)
    results = {}
    for mode in ("plain", "mounted"):
        if args.only in (None, mode):
            results[mode] = _run(args.suite, source, mode, args)
    print(_summary(args.suite, version, results, notes))
    return 0


def _fetch(suite: str, version: str) -> Path:
    """An unpacked sdist of ``suite==version`` in the cache, fetched by pip if not there yet."""
    unpacked = CACHE / f"{suite}-{version}"
    if (unpacked / "PKG-INFO").is_file():
        return unpacked
    with tempfile.TemporaryDirectory() as download:
        done = subprocess.run(
            # pip reads the sdist's metadata with its build backend (hatchling for httpx),
            # which it installs from the same indexes in an isolated environment.
            [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
             "-d", download, f"{suite}=={version}"],
            capture_output=True, text=True, timeout=300, check=False)
        archives = list(Path(download).glob("*.tar.gz"))
        if done.returncode or not archives:
            raise SystemExit(f"no sdist of {suite}=={version} from pip's indexes "
                             f"({done.stderr.strip().splitlines()[-1:] or 'none found'}); "
                             "give an unpacked source with --source")
        CACHE.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archives[0]) as sdist:
            sdist.extractall(CACHE, filter="data")
    return unpacked


def _notes(suite: str, version: str, source: Path) -> list[str]:
    notes = []
    found = _source_version(suite, source)
    if found and found != version:
        notes.append(f"the tests are {suite} {found}'s, run against the installed {version}")
    if suite == "requests" and importlib.util.find_spec("pytest_httpbin") is None:
        notes.append("pytest-httpbin is not installed: httpbin fixtures from "
                     "benchmarks/_httpbin_standin.py (a subset of httpbin's endpoints)")
    missing = [name for name in _TEST_REQUIREMENTS[suite]
               if importlib.util.find_spec(name) is None]
    if missing:
        notes.append(f"not installed: {', '.join(missing)} (from {suite}'s test requirements): "
                     f"the tests that import them fail on both sides")
    return notes


def _source_version(suite: str, source: Path) -> str | None:
    for candidate in (source / "PKG-INFO", source / "src" / suite / "__version__.py",
                      source / suite / "__version__.py"):
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8", errors="replace")
            match = re.search(r'^(?:Version: |__version__ = ")([^"\s]+)', text, re.M)
            if match:
                return match.group(1)
    return None


def _netguard_dir() -> Path:
    for candidate in (os.environ.get("NETGUARD_DIR"), ROOT.parent / "shared" / "tools"):
        if candidate and (Path(candidate) / "netguard.py").is_file():
            return Path(candidate)
    raise SystemExit("netguard.py not found (../shared/tools or $NETGUARD_DIR): "
                     "third-party suites never run without the socket guard")


def _run(suite: str, source: Path, mode: str, args: argparse.Namespace) -> dict[str, str]:
    """Outcome per test id (``passed``, ``failed``, ``error``, ``skipped``) of one run."""
    work = Path(tempfile.mkdtemp(prefix=f"{suite}-{mode}-"))
    try:
        shutil.copytree(source / "tests", work / "tests")
        for item in source.iterdir():  # files some tests read from the project's root
            if item.is_file():
                shutil.copy(item, work)
        # Our own pytest config (and the suite's --doctest-modules over its sources) stay out.
        (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        # The plugins go in as top-level modules of their own, so that a --tree (which has a
        # benchmarks package of its own) can't shadow them.
        (work / "plugins").mkdir()
        for plugin in ("_suite_mount", "_httpbin_standin"):
            shutil.copy(Path(__file__).with_name(f"{plugin}.py"), work / "plugins")
        path = [str(work / "plugins"), str(_netguard_dir())]
        if args.tree:
            path[:0] = [str(args.tree.resolve()), str(args.tree.resolve() / "plugins")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path),
               "NETGUARD_LOG": str(work / "netguard.log")}
        # Our own pytest plugin stays out: the suite runs as it would without us installed.
        plugins = ["netguard", "no:cacheprovider", "no:unified_auth"]
        if suite == "requests" and importlib.util.find_spec("pytest_httpbin") is None:
            plugins.append("_httpbin_standin")
        if mode == "mounted":
            plugins.append("_suite_mount")
        options = [item for plugin in plugins for item in ("-p", plugin)]
        options += ["-q", "--tb=line", "-o", "junit_family=xunit1",
                    f"--junitxml={work / 'junit.xml'}", "tests"]
        if args.keyword:
            options += ["-k", args.keyword]
        command = [sys.executable, "-m", "pytest", *options]
        print(f"--- {suite} {mode}: pytest {' '.join(options)}", file=sys.stderr, flush=True)
        with open(work / "output.txt", "w", encoding="utf-8") as log:
            subprocess.run(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                           timeout=_TIMEOUT, check=False)
        if not (work / "junit.xml").is_file():
            raise SystemExit(f"pytest wrote no report; see {work / 'output.txt'}")
        return _outcomes(work / "junit.xml", work)
    finally:
        if args.keep:
            print(f"    kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def _outcomes(junit: Path, work: Path) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for case in ET.parse(junit).iter("testcase"):
        # Parameters naming a path of the run's own directory are the same test either side.
        name = f"{case.get('classname', '')}::{case.get('name', '')}".replace(str(work), "<tmp>")
        kinds = {child.tag for child in case}
        outcome = ("error" if "error" in kinds else "failed" if "failure" in kinds
                   else "skipped" if "skipped" in kinds else "passed")
        # A teardown error is reported as a second case of the same name: the worse wins.
        if outcomes.get(name) not in ("failed", "error"):
            outcomes[name] = outcome
    return outcomes


def _count(outcomes: dict[str, str]) -> str:
    passed = sum(o == "passed" for o in outcomes.values())
    failed = sum(o in ("failed", "error") for o in outcomes.values())
    skipped = sum(o == "skipped" for o in outcomes.values())
    return f"{passed} passed, {failed} failed, {skipped} skipped"


def _summary(suite: str, version: str, results: dict[str, dict[str, str]],
             notes: list[str]) -> str:
    lines = [f"suite: {suite} {version}"]
    lines += [f"note: {note}" for note in notes]
    for mode, outcomes in results.items():
        lines.append(f"{mode:>8}: {_count(outcomes)}")
    if len(results) == 2:
        plain, mounted = results["plain"], results["mounted"]
        differ = sorted(name for name in plain.keys() | mounted.keys()
                        if plain.get(name) != mounted.get(name))
        lines.append(f"differ: {len(differ)}")
        lines += [f"  {name}: plain {plain.get(name, 'absent')}, "
                  f"mounted {mounted.get(name, 'absent')}" for name in differ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
