"""``unified-auth check``: per target, secret source, credentials, expiry and warnings."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner, Result
from rich.console import Console
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
    EmulatedEnvironment,
)

ALL = [CLASSIC, CLASSIC_KEY, MAILER, LEGACY, PLANNER]


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
    assert all(t["ok"] and t["credentials"] and t["error"] is None and t["warnings"] == []
               for t in targets.values())
    assert_no_leaks(result.output, box.secret_values())


def test_the_table_for_people(box: EmulatedEnvironment) -> None:
    wide = _check(box.config_path, columns=220)
    assert wide.exit_code == 0
    header = next(line for line in wide.stdout.splitlines() if "| target" in line)
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "target", "provider", "hosts", "secret source", "credentials", "expires", "warnings"]
    planner = next(line for line in wide.stdout.splitlines() if f"| {PLANNER} " in line)
    assert [c.strip() for c in planner.strip("|").split("|")] == [
        PLANNER, "liquidplanner", f"{box.planner.url}/", f"token: file {box.secret_file(PLANNER)}",
        "ok", "never", "-"]
    assert "5 target(s): 5 ok, 0 failed, 0 with warnings." in wide.stdout
    narrow = _check(box.config_path)
    assert narrow.exit_code == 0
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines())
    assert "expires:" in narrow.stdout
    assert "never" in narrow.stdout
    assert_no_leaks(wide.output + narrow.output, box.secret_values())


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
    assert "5 target(s): 4 ok, 1 failed" in table.stdout
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
    config["targets"][CLASSIC]["password"] = "clear-text-password"
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
    assert_no_leaks(result.output, ["clear-text-password", *box.secret_values()])


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


def test_an_empty_config(box: EmulatedEnvironment) -> None:
    result = _check(_write(box, {"targets": {}}))
    assert result.exit_code == 0
    assert "no targets configured" in result.stdout
