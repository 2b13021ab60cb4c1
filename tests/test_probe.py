"""The ``probe`` hook: ``check`` asks each API who the credentials act as.

Every probe goes to a real emulator on loopback through the hub's own session, so a refusal
arrives exactly as it would from the provider.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests
import tomli_w
from click.testing import CliRunner, Result
from tables import table_rows
from unified_auth_liquidplanner.explain import explain

import unified_auth
from unified_auth.cli import cli
from unified_auth.errors import AccessDenied, AuthFailed, ConfigError
from unified_auth.testing import (
    ClassicEmulator,
    LianaEmulator,
    LiquidPlannerEmulator,
    ManualClock,
    assert_no_leaks,
)

DISABLED = ("LiquidPlanner does not accept this API token: it was deleted or disabled, or "
            "its owner was disconnected from the workspace or organization")


@pytest.fixture
def planner() -> Iterator[LiquidPlannerEmulator]:
    with LiquidPlannerEmulator() as emulator:
        emulator.add_example_org()
        yield emulator


@pytest.fixture
def classic() -> Iterator[ClassicEmulator]:
    with ClassicEmulator() as emulator:
        yield emulator


def _secret(tmp_path: Path, name: str, value: str) -> dict[str, str]:
    path = tmp_path / f"{name}.secret"
    path.write_text(value)
    path.chmod(0o600)
    return {"file": str(path)}


def _planner_config(tmp_path: Path, planner: LiquidPlannerEmulator, token: str,
                    **options: Any) -> Path:
    config = {"targets": {"planner": {
        "provider": "liquidplanner", "hosts": [f"{planner.url}/"],
        "token": _secret(tmp_path, "planner", token), **options}}}
    path = tmp_path / "unified-auth.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def _check(config: Path, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, ["check", "--config", str(config), *args])


def _editor_token(planner: LiquidPlannerEmulator) -> str:
    assert planner.example is not None
    return planner.create_token(planner.example.editor_id, name="ci",
                                created_by=planner.example.admin_id)


def test_an_enabled_liquidplanner_token_names_its_member(
        tmp_path: Path, planner: LiquidPlannerEmulator) -> None:
    token = _editor_token(planner)
    result = _check(_planner_config(tmp_path, planner, token), "--json")
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)["targets"]
    assert report["ok"] and report["verified"]
    assert report["acts_as"] == "Eddie Editor, 1 workspace"
    people = _check(_planner_config(tmp_path, planner, token))
    (row,) = [r for r in table_rows(people.stdout) if r[0] == "planner"]
    assert row[4] == "ok, acts as Eddie Editor, 1 workspace"
    assert_no_leaks(result.output + people.output, [token])


def test_a_disconnected_member_fails_check_with_the_providers_explanation(
        tmp_path: Path, planner: LiquidPlannerEmulator) -> None:
    token = _editor_token(planner)
    assert planner.example is not None
    planner.disconnect_member(planner.example.editor_id, planner.example.workspace_id)
    result = _check(_planner_config(tmp_path, planner, token), "--json")
    assert result.exit_code == 1
    (report,) = json.loads(result.stdout)["targets"]
    assert report["ok"] is False
    assert DISABLED in report["error"]
    assert planner.counters.disabled_token_requests == 2  # the probe, and its one retry
    assert_no_leaks(result.output, [token])


def test_a_workspace_the_token_cannot_see_fails_check(
        tmp_path: Path, planner: LiquidPlannerEmulator) -> None:
    elsewhere = planner.add_workspace("Someone else's")
    config = _planner_config(tmp_path, planner, _editor_token(planner), workspace_id=elsewhere)
    result = _check(config, "--json")
    assert result.exit_code == 1
    (report,) = json.loads(result.stdout)["targets"]
    assert f"workspace_id {elsewhere} is not among the workspaces" in report["error"]
    assert "(Eddie Editor)" in report["error"]
    assert planner.example is not None
    reachable = _planner_config(tmp_path, planner, _editor_token(planner),
                                workspace_id=planner.example.workspace_id)
    assert _check(reachable).exit_code == 0


def test_no_probe_skips_the_api_and_says_so(
        tmp_path: Path, planner: LiquidPlannerEmulator) -> None:
    token = _editor_token(planner)
    planner.disable_token(token)
    result = _check(_planner_config(tmp_path, planner, token), "--no-probe", "--json")
    assert result.exit_code == 0  # the token is obtained; nobody asked the API
    assert planner.counters.api_requests == 0
    (report,) = json.loads(result.stdout)["targets"]
    assert report["verified"] is False
    people = _check(_planner_config(tmp_path, planner, token), "--no-probe")
    (row,) = [r for r in table_rows(people.stdout) if r[0] == "planner"]
    assert row[4] == "ok, not probed (--no-probe)"


def test_the_liana_legacy_probe_echoes_hello(tmp_path: Path, liana_emulator: LianaEmulator,
                                            unified_auth_clock: ManualClock) -> None:
    secret = "a-legacy-signing-secret"
    liana_emulator.add_legacy_user("1001", secret, realm="LianaMailer")
    hub = unified_auth.load({"targets": {"legacy": {
        "provider": "liana-legacy", "hosts": [f"{liana_emulator.url}/api/"], "realm": "LianaMailer",
        "user_id": "1001", "secret": _secret(tmp_path, "legacy", secret)}}},
        clock=unified_auth_clock)
    with hub:
        assert hub.probe("legacy") == "user 1001 in realm LianaMailer"
    assert liana_emulator.counters.api_requests == 1


def test_a_refused_legacy_signature_raises_auth_failed(
        tmp_path: Path, liana_emulator: LianaEmulator, unified_auth_clock: ManualClock) -> None:
    liana_emulator.add_legacy_user("1001", "a-legacy-signing-secret", realm="LianaMailer")
    hub = unified_auth.load({"targets": {"legacy": {
        "provider": "liana-legacy", "hosts": [f"{liana_emulator.url}/api/"], "realm": "LianaMailer",
        "user_id": "1001", "secret": _secret(tmp_path, "legacy", "not-the-secret")}}},
        clock=unified_auth_clock)
    with hub, pytest.raises(AuthFailed, match="refused the request signature"):
        hub.probe("legacy")


def test_the_liana_probe_echoes_with_the_clients_token(
        tmp_path: Path, liana_emulator: LianaEmulator, unified_auth_clock: ManualClock) -> None:
    client_id, secret = liana_emulator.create_credential("probe")
    hub = unified_auth.load({"targets": {"mailer": {
        "provider": "liana", "hosts": [f"{liana_emulator.url}/v1/"], "client_id": client_id,
        "client_secret": _secret(tmp_path, "mailer", secret),
        "token_url": liana_emulator.token_url}}},
        clock=unified_auth_clock)
    with hub:
        assert hub.probe("mailer") == f"client {client_id}"
        liana_emulator.api_enabled = False
        with pytest.raises(AccessDenied):
            hub.probe("mailer")


def _classic_hub(tmp_path: Path, classic: ClassicEmulator, **basic: Any) -> Any:
    password = classic.add_user("me@example.com")
    return unified_auth.load({"targets": {"classic": {
        "provider": "basic", "hosts": [f"{classic.url}/basic/"], "username": "me@example.com",
        "password": _secret(tmp_path, "classic", password), **basic}}})


def test_basic_without_probe_url_is_not_verified(
        tmp_path: Path, classic: ClassicEmulator) -> None:
    with _classic_hub(tmp_path, classic) as hub:
        assert hub.probe("classic") is None
    assert classic.counters.api_requests == 0


def test_basic_with_probe_url_gets_it(tmp_path: Path, classic: ClassicEmulator) -> None:
    url = f"{classic.url}/basic/me"
    with _classic_hub(tmp_path, classic, probe_url=url) as hub:
        assert hub.probe("classic") == f"user me@example.com (GET {url}: 200 OK)"
        classic.remove_user("me@example.com")
        with pytest.raises(AuthFailed, match="refused the username and password"):
            hub.probe("classic")


def test_a_probe_url_off_the_targets_hosts_is_a_config_error(
        tmp_path: Path, classic: ClassicEmulator) -> None:
    with (_classic_hub(tmp_path, classic, probe_url=f"{classic.url}/keyed/me") as hub,
          pytest.raises(ConfigError, match=r"targets\.classic\.probe_url: .* not on one of")):
        hub.probe("classic")
    assert classic.counters.api_requests == 0


def test_an_api_key_probe(tmp_path: Path, classic: ClassicEmulator) -> None:
    key = classic.create_api_key("ci")
    url = f"{classic.url}/keyed/whoami"
    hub = unified_auth.load({"targets": {"keyed": {
        "provider": "api-key", "hosts": [f"{classic.url}/keyed/"],
        "key": _secret(tmp_path, "key", key), "probe_url": url}}})
    with hub:
        assert hub.probe("keyed") == f"the key in X-API-Key (GET {url}: 200 OK)"


def test_target_url_stays_inside_the_targets_patterns() -> None:
    target = unified_auth.Target("t", "p", ("*.example.com", "http://127.0.0.1:8080/api/",
                                            "api.example.com"), None)
    assert target.url("/api/v1/echoMessage") == "http://127.0.0.1:8080/api/v1/echoMessage"
    assert target.url("/v1/lists") == "https://api.example.com/v1/lists"
    assert unified_auth.Target("t", "p", ("*.example.com",), None).url("/x") is None
    assert target.covers("https://a.example.com/x")
    assert not target.covers("https://example.com/x")
    assert not target.covers("http://127.0.0.1:8080/apix")


def test_the_explanation_of_a_disabled_token_is_the_plugins() -> None:
    # The probe's refusal carries explain_response: pin that the text tested above is it.
    response = requests.Response()
    response.status_code = 401
    assert (explain(response) or "").startswith(DISABLED)


@attrs.frozen
class _OtherOptions:
    key: str = ""


class _Meddler:
    """Another provider's plugin, whose probe would answer for any target if it were asked."""

    @unified_auth.hookimpl
    def register_providers(self, register: Any) -> None:
        register("other", _OtherOptions)

    @unified_auth.hookimpl
    def probe(self) -> str:
        return "someone else"


def test_only_the_providers_own_plugin_is_asked(
        tmp_path: Path, planner: LiquidPlannerEmulator) -> None:
    config = _planner_config(tmp_path, planner, _editor_token(planner))
    with unified_auth.load(config, plugins=[_Meddler()]) as hub:
        assert hub.probe("planner") == "Eddie Editor, 1 workspace"
