"""The benchmark runner: ``python -m benchmarks --quick`` runs every section and skips politely.

These tests check that the benchmarks run and report, not how fast anything is: figures
are measured by the full run (docs/performance.md), never asserted in a test.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_run_prints_every_table_with_its_rows() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Machine: " in out and "Python " in out
    for row in ("| plain requests + fixed header | ",
                "| plain requests + fixed header, a second session (A/A control) | ",
                "| plain httpx + fixed header, a second client (A/A control) | ",
                "| **unified-auth** `ua.session()` | ",
                "| **unified-auth** `ua.auth(name)` | ", "| plain httpx + fixed header | ",
                "| **unified-auth** `ua.httpx_client()` | ", "| plain aiohttp + fixed header | ",
                "| **unified-auth** `ua.aiohttp_session()` | ", "| 1 | ", "| 100 | ",
                "| 10,000 | ", "| 1,000 | ", "| route: `flow.owner(url)` | ",
                "| copy + apply: `requests_edge.authorised_copy` (incl. `headers_for`) | ",
                "| proxy rule: `environment_proxy` + `bypasses_proxy` | ",
                "| token fetches (ideal) | ", "| most token requests in flight at once | ",
                "| requests sent with an expired token | ",
                "| 401s (and other refusals) from the API | ",
                "| p99 latency, overlapping a refresh | "):
        assert row in out, row
    # Every per-request table measures both URLs: plain http (intranet) and https.
    for table in ("### requests, stubbed", "### requests, loopback", "### httpx sync, stubbed",
                  "### httpx async (asyncio), stubbed", "### httpx sync, loopback",
                  "### httpx async (asyncio), loopback", "### aiohttp, loopback"):
        header = out.split(table, 1)[1].split("\n")[2]
        assert "| http us/GET |" in header and "| https us/GET |" in header, table
    assert "| http ns | http x fastest peer |" in out
    # The OpenTelemetry section: the per-request path with the plugin, a slow observer.
    assert "| **unified-auth** `ua.session()`, with the plugin + SDK | " in out
    assert "| an observer sleeping 1.5 s per event | " in out
    assert "### targets of issue 16" in out
    for peer in ("Authlib", "requests-auth", "requests-oauthlib"):
        assert f"| {peer} " in out or "pip install -e '.[bench]'" in out, peer
    assert "| httpx-auth " in out or "pip install httpx-auth" in out
    assert "Traceback" not in done.stderr


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT))
    package = importlib.import_module("benchmarks")
    # Sections of our own, next to the real ones, without writing into the package.
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    return importlib.import_module("benchmarks.__main__")


def test_a_missing_section_or_dependency_is_skipped_with_the_reason(
        runner: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "needs_a_peer.py").write_text("import no_such_peer_library\n")
    options = importlib.import_module("benchmarks._report").Options(quick=True)
    assert runner.run_section("not_written", options) == "not written yet"
    assert runner.run_section("needs_a_peer", options) == (
        "needs no_such_peer_library, which is not installed")


def test_a_section_is_one_line_in_the_list(runner: ModuleType, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tiny.py").write_text(
        "from benchmarks._report import Table\n"
        "TITLE = 'tiny'\n"
        "def run(options):\n"
        "    return [Table('tiny', ('a', 'b'), (('1', '2'),))]\n")
    monkeypatch.setattr(runner, "SECTIONS", ("tiny", "not_written"))
    assert runner.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "| 1 | 2 |" in out and "### not_written: skipped, not written yet" in out


def test_a_section_returning_named_tuples_gets_a_table_of_them(
        runner: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rows.py").write_text(
        "from typing import NamedTuple\n"
        "class Row(NamedTuple):\n"
        "    mode: str\n"
        "    plain_us: float\n"
        "    ours_us: float\n"
        "    @property\n"
        "    def ratio(self):\n"
        "        return self.ours_us / self.plain_us\n"
        "def run(options):\n"
        "    return [Row('sync', 100.0, 101.0)]\n")
    monkeypatch.setattr(runner, "SECTIONS", ("rows",))
    assert runner.main([]) == 0
    out = capsys.readouterr().out
    assert "### rows" in out and "| mode | plain_us | ours_us | ratio |" in out
    assert "| sync | 100.000 | 101.000 | 1.010 |" in out
