"""``unified-auth check``: per target, secret source, credentials, expiry and warnings."""

from __future__ import annotations

import contextlib
import http.server
import importlib
import io
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
import tomli_w
from click.testing import CliRunner, Result
from rich.console import Console
from tables import table_rows
from toy_provider import ToyPlugin

import unified_auth
from unified_auth.cli import check, cli
from unified_auth.testing import assert_no_leaks
from unified_auth.testing.environment import (
    CLASSIC,
    CLASSIC_KEY,
    LEGACY,
    MAILER,
    PLANNER,
    REPORTS,
    EmulatedEnvironment,
)

ALL = [CLASSIC, CLASSIC_KEY, MAILER, LEGACY, PLANNER, REPORTS]


@pytest.fixture
def box(tmp_path: Path) -> Iterator[EmulatedEnvironment]:
    with EmulatedEnvironment(directory=tmp_path / "box") as sandbox:
        yield sandbox


def _check(config: Path, *args: str, columns: int = 80) -> Result:
    runner = CliRunner(env={"COLUMNS": str(columns)})
    return runner.invoke(cli, ["check", "--config", str(config), *args])


def _json(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _write(box: EmulatedEnvironment, config: dict[str, Any]) -> Path:
    path = box.directory / "custom.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def test_all_good_exits_0_with_sources_and_expiry(box: EmulatedEnvironment) -> None:
    result = _check(box.config_path, "--json")
    assert result.exit_code == 0, result.output
    report = _json(result)
    assert report["ok"] is True
    assert report["config"] == str(box.config_path)
    targets = {t["name"]: t for t in report["targets"]}
    assert sorted(targets) == sorted(ALL)
    mailer = targets[MAILER]
    assert mailer["provider"] == "liana"
    assert mailer["hosts"] == [f"{box.liana.url}/v1/"]
    assert mailer["secrets"] == [{"key": "client_secret",
                                  "source": f"file {box.secret_file(MAILER)}"}]
    expires = datetime.fromisoformat(mailer["expires_at"])
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    assert targets[PLANNER]["expires_at"] is None
    assert targets[REPORTS]["provider"] == "oauth2"
    assert targets[REPORTS]["verified"] is True
    assert targets[REPORTS]["acts_as"] == (f"client {box.config['targets'][REPORTS]['client_id']}"
                                           f" (GET {box.oauth2.url}/api/whoami: 200 OK)")
    assert all(t["ok"] and t["credentials"] and t["error"] is None and t["warnings"] == []
               for t in targets.values())
    assert_no_leaks(result.output, box.secret_values())


def _assert_path_shown(shown: str, path: Path) -> None:
    """Each folder of ``path`` whole, or cut with "..." when it is wider than the column."""
    parts = shown.split("/")
    assert len(parts) == len(path.parts), shown
    for part, actual in zip(parts[1:], path.parts[1:], strict=True):
        assert part == actual or (part.endswith("...") and actual.startswith(part[:-3])), shown
    assert parts[-1] == path.name


@pytest.fixture
def deep_box(tmp_path: Path) -> Iterator[EmulatedEnvironment]:
    """A sandbox in a deep folder, as under macOS's TMPDIR: the table must wrap its paths."""
    deep = tmp_path.joinpath(*(f"nested-folder-{n}" for n in range(8)))
    with EmulatedEnvironment(directory=deep / "box") as sandbox:
        yield sandbox


def test_the_table_for_people(deep_box: EmulatedEnvironment) -> None:
    box = deep_box
    wide = _check(box.config_path, columns=220)
    assert wide.exit_code == 0
    rows = table_rows(wide.stdout)
    assert rows[0] == ["target", "provider", "hosts", "secret source", "credentials",
                       "expires", "warnings"]
    planner = next(row for row in rows if row[0] == PLANNER)
    assert planner[:3] + planner[4:] == [
        PLANNER, "liquidplanner", f"{box.planner.url}/",
        "ok, acts as Eddie Editor, 1 workspace", "never", "-"]
    _assert_path_shown(planner[3].removeprefix("token: file "), box.secret_file(PLANNER))
    assert "6 target(s): 6 ok, 0 failed, 0 not verified, 0 with warnings." in wide.stdout
    narrow = _check(box.config_path)
    assert narrow.exit_code == 0
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines())
    assert "expires:" in narrow.stdout
    assert "never" in narrow.stdout
    assert_no_leaks(wide.output + narrow.output, box.secret_values())


@pytest.mark.parametrize("columns", [60, 80, 120, 220])
def test_the_table_never_splits_a_name(deep_box: EmulatedEnvironment, columns: int) -> None:
    result = _check(deep_box.config_path, columns=columns)
    assert result.exit_code == 0
    assert all(len(line) <= columns for line in result.stdout.splitlines())
    words = set(re.findall(r"[\w.-]+", result.stdout))
    names = {part for part in deep_box.secret_file(PLANNER).parts[1:] if len(part) < columns // 4}
    names |= {"liquidplanner", "liana-legacy", "api-key", "workspace"}
    assert names <= words, names - words


def test_only_the_targets_named(box: EmulatedEnvironment) -> None:
    result = _check(box.config_path, "--json", PLANNER, MAILER)
    assert [t["name"] for t in _json(result)["targets"]] == [PLANNER, MAILER]


def test_an_unknown_target_is_a_config_error(box: EmulatedEnvironment) -> None:
    result = _check(box.config_path, "nope")
    assert result.exit_code == 2
    assert "no target named 'nope'" in result.stderr


def test_a_rejected_credential_fails_its_target_and_exits_1(box: EmulatedEnvironment) -> None:
    box.write_secret(MAILER, "not-the-real-secret")
    result = _check(box.config_path, "--json")
    assert result.exit_code == 1
    report = _json(result)
    assert report["ok"] is False
    targets = {t["name"]: t for t in report["targets"]}
    assert targets[MAILER]["ok"] is False
    assert "mailer" in targets[MAILER]["error"]
    assert targets[MAILER]["expires_at"] is None
    assert all(targets[name]["ok"] for name in ALL if name != MAILER)
    table = _check(box.config_path, columns=220)
    assert table.exit_code == 1
    assert "FAILED: " in table.stdout
    assert "6 target(s): 5 ok, 1 failed" in table.stdout
    assert_no_leaks(result.output + table.output, box.secret_values())


def test_a_missing_secret_file_names_file_target_and_key(box: EmulatedEnvironment) -> None:
    box.secret_file(PLANNER).unlink()
    result = _check(box.config_path, "--json", PLANNER)
    assert result.exit_code == 1
    error = _json(result)["targets"][0]["error"]
    assert f"targets.{PLANNER}.token" in error
    assert str(box.secret_file(PLANNER)) in error


def test_warnings_clear_text_plain_http_and_expiry(box: EmulatedEnvironment) -> None:
    config = box.config
    soon = date.today() + timedelta(days=3)
    config["targets"][MAILER]["expires_on"] = soon
    # The real password (check asks the API with it), written in clear text.
    config["targets"][CLASSIC]["password"] = box.secret_file(CLASSIC).read_text().strip()
    config["targets"]["remote-key"] = {"provider": "api-key", "hosts": ["http://api.example.com/"],
                                      "key": {"file": str(box.secret_file(CLASSIC_KEY))}}
    result = _check(_write(box, config), "--json", MAILER, CLASSIC, "remote-key")
    assert result.exit_code == 0, "warnings are not failures"
    targets = {t["name"]: t for t in _json(result)["targets"]}
    assert any("expires in 3 days" in w for w in targets[MAILER]["warnings"])
    assert targets[CLASSIC]["secrets"] == [{"key": "password", "source": "config (clear text)"}]
    assert any("password is written in clear text" in w for w in targets[CLASSIC]["warnings"])
    assert any("plain http" in w for w in targets["remote-key"]["warnings"])
    assert "clear text" not in result.stderr, "shown in the report, not logged again"
    assert "expires in 3 days" not in result.stderr
    assert_no_leaks(result.output, box.secret_values())


def test_a_token_endpoint_on_plain_http_is_warned_about(
        box: EmulatedEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
    def load_with_toy(config_path: Path | None) -> unified_auth.UnifiedAuth:
        return unified_auth.load(config_path, plugins=[ToyPlugin()])

    monkeypatch.setattr(check, "load_hub", load_with_toy)
    config = {"targets": {"toy": {
        "provider": "toy", "hosts": ["toy.example.com"], "client_id": "id",
        "client_secret": {"file": str(box.secret_file(MAILER))},
        "token_url": "http://tokens.example.com/token"}}}
    result = _check(_write(box, config), "--json")
    assert result.exit_code == 1
    toy = _json(result)["targets"][0]
    assert toy["warnings"] == [
        "the token endpoint http://tokens.example.com/token is on plain http: the client "
        "secret would cross the network unencrypted (the token request is refused); use https"]
    assert "plain http" in toy["error"]


def test_fetches_run_concurrently(box: EmulatedEnvironment) -> None:
    client_id = box.client_id
    config: dict[str, Any] = {"targets": {
        f"mailer-{n}": {"provider": "liana", "hosts": [f"{box.liana.url}/{n}/"],
                        "client_id": client_id,
                        "client_secret": {"file": str(box.secret_file(MAILER))},
                        "token_url": box.liana.token_url}
        for n in range(4)}}
    box.liana.inject_fault("delay", seconds=0.5, times=4)
    started = time.monotonic()
    result = _check(_write(box, config), "--json")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert box.liana.counters.token_requests == 4
    assert elapsed < 1.5, f"4 fetches of 0.5 s each took {elapsed:.2f} s"


def test_progress_is_shown_on_a_terminal(box: EmulatedEnvironment,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(check.output, "stderr_console",
                        lambda: Console(file=terminal, force_terminal=True, width=80))
    result = _check(box.config_path, "--json")
    assert result.exit_code == 0
    assert "fetching credentials" in terminal.getvalue()
    assert result.stderr == ""


def test_an_empty_config_has_nothing_to_check_and_exits_1(box: EmulatedEnvironment) -> None:
    result = _check(_write(box, {"targets": {}}))
    assert result.exit_code == 1
    assert "no targets configured, so nothing was checked" in result.stderr
    assert "error: " in result.stderr
    as_json = _check(_write(box, {"targets": {}}), "--json")
    assert as_json.exit_code == 1
    assert _json(as_json) == {"config": str(box.directory / "custom.toml"), "ok": False,
                              "targets": []}


# -- verdicts: accepted, refused, or "not verified" when the API cannot say ------------

class _Api(http.server.BaseHTTPRequestHandler):
    """An API that answers every request with the server's ``status`` after ``delay`` s."""

    server: _ApiServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(length, 1 << 16))
        time.sleep(self.server.delay)
        body = b'{"message": "canned"}'
        try:
            self.send_response(self.server.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (the timeout case)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ApiServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int, delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Api)
        self.status, self.delay = status, delay
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def _api(status: int, delay: float = 0.0) -> Iterator[_ApiServer]:
    server = _ApiServer(status, delay)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _mailer_at(box: EmulatedEnvironment, api_url: str) -> Path:
    """The sandbox's liana target (its real token endpoint) with its API at ``api_url``."""
    target = dict(box.config["targets"][MAILER], hosts=[f"{api_url}/v1/"])
    return _write(box, {"targets": {MAILER: target}})


def _verdict(result: Result) -> dict[str, Any]:
    (report,) = _json(result)["targets"]
    return report


def _assert_clean(result: Result, box: EmulatedEnvironment) -> None:
    """No raw exception text, no traceback, no secret."""
    for raw in ("Traceback", "HTTPError", "Client Error:", "0 Server Error:", "for url:",
                "ConnectionError", "ReadTimeout", "HTTPConnectionPool", "Max retries"):
        assert raw not in result.output, result.output
    assert_no_leaks(result.output, box.secret_values())


@pytest.mark.parametrize(("status", "why"), [
    (404, "answered 404 Not Found: the API is not there, so the credentials were not tried "
          "(check the target's hosts)"),
    (500, "answered 500 Internal Server Error: the API may be having trouble"),
    (502, "answered 502 Bad Gateway: the API may be having trouble"),
])
def test_a_probe_the_api_cannot_answer_is_not_verified_and_exits_0(
        box: EmulatedEnvironment, status: int, why: str) -> None:
    with _api(status) as api:
        config = _mailer_at(box, api.url)
        result = _check(config, "--json")
        table = _check(config)
    assert result.exit_code == 0, result.output
    report = _verdict(result)
    assert report["verdict"] == "not_verified"
    assert report["ok"] is True and report["credentials"] is True  # the token was issued
    assert report["verified"] is False and report["acts_as"] is None
    assert report["error"] is None
    assert report["not_verified"] == f"POST {api.url}/v1/echoMessage {why}"
    assert report["expires_at"] is not None
    assert table.exit_code == 0
    assert "not verified: POST" in table.stdout
    assert "FAILED" not in table.stdout
    assert "1 target(s): 0 ok, 0 failed, 1 not verified, 0 with warnings." in table.stdout
    _assert_clean(result, box)
    _assert_clean(table, box)


def test_a_probe_that_times_out_is_not_verified(box: EmulatedEnvironment,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # The package exports its hook as `probe`, which hides the module of that name.
    probe_module = importlib.import_module("unified_auth_liana.probe")
    monkeypatch.setattr(probe_module, "PROBE_TIMEOUT", (2.0, 0.3))
    with _api(200, delay=1.5) as api:
        result = _check(_mailer_at(box, api.url), "--json")
    assert result.exit_code == 0, result.output
    report = _verdict(result)
    assert (report["verdict"], report["credentials"]) == ("not_verified", True)
    assert report["not_verified"] == f"POST {api.url}/v1/echoMessage did not answer in time"
    _assert_clean(result, box)


def test_a_probe_that_cannot_connect_is_not_verified(box: EmulatedEnvironment) -> None:
    url = _closed_port_url()
    result = _check(_mailer_at(box, url), "--json")
    assert result.exit_code == 0, result.output
    report = _verdict(result)
    assert report["verdict"] == "not_verified"
    assert report["not_verified"] == (f"cannot connect to POST {url}/v1/echoMessage: "
                                      f"Connection refused")
    _assert_clean(result, box)


@pytest.mark.parametrize(("status", "said"), [
    (401, "answered 401"),
    (403, "answered 403 Forbidden: the token was accepted but may not use this API"),
])
def test_an_api_that_refuses_the_credentials_fails_the_target(
        box: EmulatedEnvironment, status: int, said: str) -> None:
    with _api(status) as api:
        config = _mailer_at(box, api.url)
        result = _check(config, "--json")
        table = _check(config)
    assert result.exit_code == 1, result.output
    report = _verdict(result)
    assert report["verdict"] == "refused"
    assert report["ok"] is False and report["credentials"] is True
    assert said in report["error"]
    assert report["not_verified"] is None
    assert table.exit_code == 1
    assert "FAILED" in table.stdout
    assert "1 target(s): 0 ok, 1 failed, 0 not verified" in table.stdout
    _assert_clean(result, box)


def test_a_rejected_secret_is_refused(box: EmulatedEnvironment) -> None:
    box.write_secret(MAILER, "not-the-real-secret")
    result = _check(box.config_path, "--json", MAILER)
    assert result.exit_code == 1
    report = _verdict(result)
    assert (report["verdict"], report["credentials"]) == ("refused", False)
    _assert_clean(result, box)


def test_a_token_endpoint_that_is_down_is_not_verified(box: EmulatedEnvironment) -> None:
    box.liana.inject_fault("status", status=503, times=50)
    result = _check(box.config_path, "--json", MAILER)
    assert result.exit_code == 0, result.output
    report = _verdict(result)
    assert (report["verdict"], report["credentials"]) == ("not_verified", False)
    assert "answered 503" in report["not_verified"]
    assert report["expires_at"] is None
    table = _check(box.config_path, MAILER)
    assert table.exit_code == 0
    assert "not obtained" in table.stdout and "not verified: " in table.stdout
    _assert_clean(result, box)
    _assert_clean(table, box)


def test_a_missing_secret_fails_without_being_called_refused(box: EmulatedEnvironment) -> None:
    box.secret_file(PLANNER).unlink()
    report = _verdict(_check(box.config_path, "--json", PLANNER))
    assert (report["verdict"], report["ok"]) == ("failed", False)


def test_every_verdict_has_a_meaning() -> None:
    assert set(check.VERDICTS) == set(get_args(check.Verdict))


def test_a_liquidplanner_api_without_its_workspace_list_is_not_verified(
        box: EmulatedEnvironment) -> None:
    with _api(404) as api:
        target = dict(box.config["targets"][PLANNER], hosts=[f"{api.url}/"])
        result = _check(_write(box, {"targets": {PLANNER: target}}), "--json")
    assert result.exit_code == 0, result.output
    report = _verdict(result)
    assert report["verdict"] == "not_verified"
    assert report["not_verified"].startswith(f"GET {api.url}/api/workspaces/v1 answered 404")
    _assert_clean(result, box)
