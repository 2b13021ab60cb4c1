"""The ``liquidplanner`` provider: a non-expiring API token, and what LiquidPlanner's 4xx mean."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import unified_auth_liquidplanner
from toy_provider import assert_never_offered_a_foreign_target

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.errors import AuthFailed, ConfigError, TokenEndpointError
from unified_auth.testing import ExampleOrg, LiquidPlannerEmulator, ManualClock, assert_no_leaks

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CANARY = "canary-9f8e7d6c5b4a"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def planner(clock: ManualClock) -> Iterator[LiquidPlannerEmulator]:
    with LiquidPlannerEmulator(clock=clock) as emulator:
        emulator.add_example_org()
        yield emulator


@pytest.fixture
def org(planner: LiquidPlannerEmulator) -> ExampleOrg:
    assert planner.example is not None
    return planner.example


@pytest.fixture
def write_token(tmp_path: Path) -> Callable[[str], dict[str, str]]:
    path = tmp_path / "lp.token"

    def write(token: str) -> dict[str, str]:
        path.write_text(token + "\n", encoding="utf-8")
        return {"file": str(path)}

    return write


def load(clock: ManualClock, planner: LiquidPlannerEmulator, token: Any,
         **options: Any) -> unified_auth.UnifiedAuth:
    target = {"provider": "liquidplanner", "hosts": [f"{planner.url}/api/"], "token": token,
              **options}
    return unified_auth.load({"targets": {"planner": target}}, clock=clock,
                             retry=RetryPolicy(sleep=lambda s: None))


def test_token_is_sent_as_bearer(planner: LiquidPlannerEmulator, org: ExampleOrg,
                                 clock: ManualClock, write_token: Any,
                                 logs: pytest.LogCaptureFixture) -> None:
    token = planner.create_token(org.editor_id, created_by=org.admin_id)
    hub = load(clock, planner, write_token(token))

    response = hub.session().get(f"{planner.url}/api/workspaces/v1")

    assert response.status_code == 200
    assert response.json()["data"] == [{"id": org.workspace_id, "name": "Example workspace"}]
    assert response.request.headers["Authorization"] == f"Bearer {token}"
    assert_no_leaks([logs.text, repr(hub.credentials("planner")), repr(hub.targets)], [token])


def test_token_never_expires_and_is_not_refreshed_on_a_timer(
        planner: LiquidPlannerEmulator, org: ExampleOrg, clock: ManualClock,
        write_token: Any) -> None:
    token = planner.create_token(org.editor_id)
    hub = load(clock, planner, write_token(token))
    session = hub.session()
    assert session.get(f"{planner.url}/api/workspaces/v1").status_code == 200
    credentials = hub.credentials("planner")

    write_token("not-the-token-in-use")  # re-reading it would break the next request
    clock.advance(10 * 365 * 24 * 3600)

    assert credentials.expires_at is None
    assert hub.credentials("planner") is credentials
    assert session.get(f"{planner.url}/api/workspaces/v1").status_code == 200


def test_owner_disconnected_fails_with_what_happened_and_who_can_fix_it(
        planner: LiquidPlannerEmulator, org: ExampleOrg, clock: ManualClock,
        write_token: Any, logs: pytest.LogCaptureFixture) -> None:
    token = planner.create_token(org.editor_id)
    hub = load(clock, planner, write_token(token))
    session = hub.session()
    assert session.get(f"{planner.url}/api/workspaces/v1").status_code == 200
    planner.disconnect_member(org.editor_id)
    planner.reset_counters()

    with pytest.raises(AuthFailed) as caught:
        session.get(f"{planner.url}/api/workspaces/v1")

    message = str(caught.value)
    for needed in ("target planner", "deleted or disabled", "disconnected from the workspace",
                   "disables", "Org Admin", "reassign", "re-enable"):
        assert needed in message
    assert planner.counters.api_requests == 2  # one retry after re-reading the secret, no loop
    assert_no_leaks([message, repr(caught.value), logs.text], [token])


def test_replaced_token_is_picked_up_after_a_401(
        planner: LiquidPlannerEmulator, org: ExampleOrg, clock: ManualClock,
        write_token: Any) -> None:
    old = planner.create_token(org.editor_id)
    hub = load(clock, planner, write_token(old))
    session = hub.session()
    assert session.get(f"{planner.url}/api/workspaces/v1").status_code == 200

    planner.disable_token(old)
    write_token(planner.create_token(org.editor_id))
    response = session.get(f"{planner.url}/api/workspaces/v1")

    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]


def test_403_is_explained_by_the_owners_access_level(
        planner: LiquidPlannerEmulator, org: ExampleOrg, clock: ManualClock,
        write_token: Any, logs: pytest.LogCaptureFixture) -> None:
    viewer = planner.add_member("Vera Viewer", "vera@example.com")
    planner.grant(viewer, org.workspace_id, "viewer")
    hub = load(clock, planner, write_token(planner.create_token(viewer)))
    url = f"{planner.url}/api/workspaces/v1/{org.workspace_id}/items/{org.item_id}/comments"

    response = hub.session().post(url, json={"text": "hello"})

    assert response.status_code == 403
    explained = [r for r in logs.records if "owner's access level" in r.getMessage()]
    assert len(explained) == 1
    assert explained[0].levelno == logging.WARNING


def test_404_is_explained_once(planner: LiquidPlannerEmulator, org: ExampleOrg,
                               clock: ManualClock, write_token: Any,
                               logs: pytest.LogCaptureFixture) -> None:
    elsewhere = planner.add_workspace("Elsewhere")
    hub = load(clock, planner, write_token(planner.create_token(org.editor_id)))
    session = hub.session()

    for _ in range(2):
        response = session.get(f"{planner.url}/api/workspaces/v1/{elsewhere}/items")
        assert response.status_code == 404

    explained = [r for r in logs.records if "owner's access level" in r.getMessage()]
    assert len(explained) == 1


@pytest.mark.parametrize(("age", "warns"), [(121, True), (120, False), (5, False)])
def test_old_token_gets_a_cycling_reminder(planner: LiquidPlannerEmulator,
                                           clock: ManualClock, age: int,
                                           warns: bool) -> None:
    issued_on = START.date() - timedelta(days=age)
    hub = load(clock, planner, {"env": "LP_TOKEN"}, issued_on=issued_on.isoformat())

    warnings = hub.warnings("planner")

    if not warns:
        assert warnings == []
        return
    assert len(warnings) == 1
    assert f"{age} days ago" in warnings[0]
    assert "don't expire" in warnings[0]
    assert "4-6 months" in warnings[0]


def test_no_issue_date_means_no_reminder(planner: LiquidPlannerEmulator,
                                         clock: ManualClock) -> None:
    assert load(clock, planner, {"env": "LP_TOKEN"}).warnings("planner") == []


def test_token_that_cannot_go_in_a_header_is_refused_without_showing_it(
        planner: LiquidPlannerEmulator, clock: ManualClock, write_token: Any,
        logs: pytest.LogCaptureFixture) -> None:
    hub = load(clock, planner, write_token(f"{CANARY}\n{CANARY}"))

    # The core's check of every provider's credentials, naming the key to copy again.
    with pytest.raises(TokenEndpointError) as caught:
        hub.session().get(f"{planner.url}/api/workspaces/v1")

    assert "targets.planner.token" in str(caught.value)
    assert "a line break" in str(caught.value)
    assert planner.counters.api_requests == 0
    assert_no_leaks([str(caught.value), repr(caught.value), logs.text], [CANARY])


def test_workspace_id_and_issued_on_are_validated(planner: LiquidPlannerEmulator,
                                                  clock: ManualClock) -> None:
    options = load(clock, planner, {"env": "LP_TOKEN"}, workspace_id=42,
                   issued_on="2026-01-02").targets["planner"].options
    assert options.workspace_id == 42
    assert str(options.issued_on) == "2026-01-02"
    with pytest.raises(ConfigError, match=r"targets\.planner\.workspace_id"):
        load(clock, planner, {"env": "LP_TOKEN"}, workspace_id="main")
    with pytest.raises(ConfigError, match=r"targets\.planner\.workspace_id"):
        load(clock, planner, {"env": "LP_TOKEN"}, workspace_id=0)
    with pytest.raises(ConfigError, match=r"targets\.planner\.issued_on"):
        load(clock, planner, {"env": "LP_TOKEN"}, issued_on="last spring")


def test_the_core_never_offers_it_another_providers_target() -> None:
    assert_never_offered_a_foreign_target(unified_auth_liquidplanner)
