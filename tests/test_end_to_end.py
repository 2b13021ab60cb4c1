"""All six bundled providers through one session, against the emulators (issue: emulators).

Uses the pytest plugin's own fixtures, as a user's suite would.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.errors import AuthFailed
from unified_auth.testing import (
    ClassicEmulator,
    LianaEmulator,
    LiquidPlannerEmulator,
    ManualClock,
    OAuth2Emulator,
    assert_no_leaks,
)


@pytest.fixture
def six_targets(unified_auth_config: dict[str, Any]) -> dict[str, Any]:
    return unified_auth_config


@pytest.fixture
def classic(classic_emulator: ClassicEmulator) -> ClassicEmulator:
    return classic_emulator


def secret_file(config: dict[str, Any], target: str, key: str) -> Path:
    return Path(config["targets"][target][key]["file"])


def test_one_session_for_six_providers_with_rotation_and_owner_disconnect(
        six_targets: dict[str, Any], liana_emulator: LianaEmulator,
        liquidplanner_emulator: LiquidPlannerEmulator, classic: ClassicEmulator,
        oauth2_emulator: OAuth2Emulator, unified_auth_clock: ManualClock,
        caplog: pytest.LogCaptureFixture) -> None:
    liana, lp, clock = liana_emulator, liquidplanner_emulator, unified_auth_clock
    hub = unified_auth.load(six_targets, clock=clock, retry=RetryPolicy(sleep=lambda s: None))
    assert set(hub.targets) == {"liana", "liana-legacy", "liquidplanner", "basic", "api-key",
                                "oauth2"}
    session = hub.session()
    outputs: list[str] = []

    def call(method: str, url: str, **kwargs: Any) -> Any:
        response = session.request(method, url, timeout=5, **kwargs)
        outputs.append(response.text)
        assert response.status_code in (200, 201), (url, response.status_code, response.text)
        return response.json()

    with caplog.at_level(logging.DEBUG):
        assert call("GET", f"{liana.url}/v1/lists")["succeed"] is True
        assert call("POST", f"{liana.url}/api/v1/echoMessage", json=["hello"])["result"] == [
            "hello"]
        assert call("POST", f"{liana.url}/api/v1/echoMessage",
                    json={"text": "Hyvää päivää"})["result"] == {"text": "Hyvää päivää"}
        assert call("GET", f"{liana.url}/api/v1/lists?page=2")["succeed"] is True
        assert call("GET", f"{lp.url}/api/workspaces/v1")["data"]
        assert call("GET", f"{classic.url}/basic/me")["method"] == "basic"
        assert call("GET", f"{classic.url}/keyed/status")["method"] == "api-key"
        assert call("GET", f"{oauth2_emulator.url}/api/whoami")["scope"] == "reports:read"

        # Rotation in LianaAccount mid-run: the old secret dies at once; the new one is
        # written where the config points, and the next refresh picks it up.
        client_id = six_targets["targets"]["liana"]["client_id"]
        old_secret = secret_file(six_targets, "liana", "client_secret").read_text().strip()
        new_secret = liana.rotate_secret(client_id)
        secret_file(six_targets, "liana", "client_secret").write_text(new_secret)
        clock.advance(900 * 0.95)
        assert call("GET", f"{liana.url}/v1/lists")["succeed"] is True
        assert call("POST", f"{liana.url}/api/v1/echoMessage", json=["after"])["result"] == [
            "after"]

        # The LiquidPlanner token's owner leaves the workspace: its tokens are disabled.
        lp.disconnect_member(lp.example.editor_id)
        with pytest.raises(AuthFailed) as failure:
            session.get(f"{lp.url}/api/workspaces/v1", timeout=5)

    message = str(failure.value)
    assert "target liquidplanner" in message
    assert "disconnected" in message and "Org Admin" in message
    counters = liana.counters
    assert counters.tokens_issued == 2
    assert counters.expired_token_requests == 0
    assert counters.token_requests == 3  # first, the rejected old secret, the new one
    assert classic.counters.basic_requests == 1 and classic.counters.api_key_requests == 1
    assert oauth2_emulator.counters.tokens_issued == 1
    secrets = [old_secret, new_secret]
    secrets += [secret_file(six_targets, t, k).read_text().strip() for t, k in (
        ("liana-legacy", "secret"), ("liquidplanner", "token"),
        ("basic", "password"), ("api-key", "key"), ("oauth2", "client_secret"))]
    assert_no_leaks([*outputs, caplog.text, message, repr(failure.value)], secrets)
