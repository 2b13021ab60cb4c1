"""``unified-auth plugins``: installed plugins with versions and providers; broken ones listed."""

from __future__ import annotations

import importlib.metadata
import json
from typing import Any

import pytest
from click.testing import CliRunner

from unified_auth.cli import cli

BUNDLED = {
    "legacy": ("unified_auth_legacy", ["api-key", "basic", "liana-legacy"]),
    "liana": ("unified_auth_liana", ["liana"]),
    "liquidplanner": ("unified_auth_liquidplanner", ["liquidplanner"]),
}


def test_json_lists_the_bundled_plugins_with_their_providers() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    found = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    version = importlib.metadata.version("unified-auth")
    for name, (module, providers) in BUNDLED.items():
        assert found[name] == {"name": name, "module": module, "distribution": "unified-auth",
                               "version": version, "providers": providers, "ok": True,
                               "error": None}


def test_table_shows_plugin_distribution_version_module_and_providers() -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["plugins"])
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if "| legacy " in line)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells == ["legacy", "unified-auth", importlib.metadata.version("unified-auth"),
                     "unified_auth_legacy", "api-key, basic, liana-legacy"]


@pytest.fixture
def broken_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.metadata.entry_points
    broken = importlib.metadata.EntryPoint(
        name="broken", value="unified_auth_no_such_module", group="unified_auth")

    def entry_points(**selection: Any) -> importlib.metadata.EntryPoints:
        found = real(**selection)
        if selection.get("group") == "unified_auth":
            return importlib.metadata.EntryPoints([*found, broken])
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


@pytest.mark.usefixtures("broken_entry_point")
def test_a_broken_plugin_is_listed_with_its_error_and_the_rest_still_work() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0
    found = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    assert found["broken"]["ok"] is False
    assert found["broken"]["error"].startswith("ModuleNotFoundError")
    assert found["broken"]["module"] == "unified_auth_no_such_module"
    assert found["liana"]["providers"] == ["liana"]
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("broken_entry_point")
def test_a_broken_plugin_in_the_table() -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["plugins"])
    assert result.exit_code == 0
    assert "BROKEN: ModuleNotFoundError" in result.stdout
    assert "1 plugin(s) failed to load" in result.stderr
    assert "failed to load and is skipped" not in result.stderr, "said once, in the table"
