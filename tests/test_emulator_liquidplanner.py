"""The LiquidPlanner emulator: API tokens act as their owner, over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from unified_auth.testing import ExampleOrg, LiquidPlannerEmulator, ManualClock

TIMEOUT = 5
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def lp() -> Iterator[LiquidPlannerEmulator]:
    with LiquidPlannerEmulator(clock=ManualClock(NOW)) as emulator:
        yield emulator


@pytest.fixture
def org(lp: LiquidPlannerEmulator) -> ExampleOrg:
    return lp.add_example_org()


@pytest.fixture
def token(lp: LiquidPlannerEmulator, org: ExampleOrg) -> str:
    return lp.create_token(org.editor_id, name="ci", created_by=org.admin_id)


def get(lp: LiquidPlannerEmulator, path: str, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{lp.url}{path}", headers=headers, timeout=TIMEOUT)


def comment(
    lp: LiquidPlannerEmulator, token: str, workspace_id: int, item_id: int, text: str = "hi"
) -> requests.Response:
    return requests.post(
        f"{lp.url}/api/workspaces/v1/{workspace_id}/items/{item_id}/comments",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )


def me(lp: LiquidPlannerEmulator, token: str) -> requests.Response:
    return get(lp, "/api/users/v1/me", token)


@pytest.mark.parametrize("path", ["/api/users/v1/me", "/api/users/v1"])
def test_token_reads_its_owner(
    lp: LiquidPlannerEmulator, org: ExampleOrg, token: str, path: str
) -> None:
    response = get(lp, path, token)

    assert response.status_code == 200
    assert response.json() == {
        "data": [{"id": org.editor_id, "name": "Eddie Editor", "email": "eddie@example.com"}]
    }


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic Zm9vOmJhcg=="])
def test_missing_or_unknown_token_is_401(lp: LiquidPlannerEmulator, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}

    response = requests.get(f"{lp.url}/api/users/v1/me", headers=headers, timeout=TIMEOUT)

    assert response.status_code == 401
    assert response.json() == {"error": "Authentication required"}


def test_disabled_token_is_401_until_enabled_again(lp: LiquidPlannerEmulator, token: str) -> None:
    lp.disable_token(token)

    assert me(lp, token).status_code == 401
    assert me(lp, token).json() == {"error": "Authentication required"}
    assert lp.counters.disabled_token_requests == 2
    lp.enable_token(token)
    assert me(lp, token).status_code == 200


def test_disconnecting_the_owner_from_a_workspace_disables_the_token(
    lp: LiquidPlannerEmulator, org: ExampleOrg, token: str
) -> None:
    lp.disconnect_member(org.editor_id, org.workspace_id)

    assert me(lp, token).status_code == 401
    assert lp.token_info(token).enabled is False
    lp.enable_token(token)
    assert me(lp, token).status_code == 200
    assert get(lp, "/api/workspaces/v1", token).json() == {"data": []}
    assert get(lp, f"/api/workspaces/v1/{org.workspace_id}/items", token).status_code == 404


def test_owner_leaving_the_organization_needs_a_transfer_before_reenabling(
    lp: LiquidPlannerEmulator, org: ExampleOrg, token: str
) -> None:
    lp.disconnect_member(org.editor_id)

    with pytest.raises(ValueError, match="disconnected"):
        lp.enable_token(token)
    lp.transfer_token(token, org.admin_id)
    assert me(lp, token).status_code == 401
    lp.enable_token(token)

    assert me(lp, token).json()["data"][0]["id"] == org.admin_id
    assert comment(lp, token, org.workspace_id, org.item_id).status_code == 201
    assert lp.changes[-1].member_id == org.admin_id


def test_transfer_keeps_the_secret_and_changes_who_acts(
    lp: LiquidPlannerEmulator, org: ExampleOrg, token: str
) -> None:
    lp.transfer_token(token, org.admin_id)

    assert me(lp, token).json()["data"][0]["email"] == "ada@example.com"
    assert lp.token_info(token).owner_id == org.admin_id


def test_workspaces_list_only_the_owners(
    lp: LiquidPlannerEmulator, org: ExampleOrg, token: str
) -> None:
    lp.add_workspace("Secret plans")

    response = get(lp, "/api/workspaces/v1", token)

    assert response.json() == {"data": [{"id": org.workspace_id, "name": "Example workspace"}]}


def test_foreign_workspace_looks_the_same_as_a_missing_one(
    lp: LiquidPlannerEmulator, org: ExampleOrg, token: str
) -> None:
    foreign = lp.add_workspace("Secret plans")
    lp.add_item(foreign, "Secret task")

    hidden = get(lp, f"/api/workspaces/v1/{foreign}/items", token)
    missing = get(lp, "/api/workspaces/v1/9999/items", token)

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"error": "Not found"}


def test_items_of_own_workspace(lp: LiquidPlannerEmulator, org: ExampleOrg, token: str) -> None:
    response = get(lp, f"/api/workspaces/v1/{org.workspace_id}/items", token)

    assert response.json() == {
        "data": [{"id": org.item_id, "name": "Example task", "workspaceId": org.workspace_id}]
    }


def test_viewer_cannot_write(lp: LiquidPlannerEmulator, org: ExampleOrg) -> None:
    viewer = lp.add_member("Vic Viewer", "vic@example.com")
    lp.grant(viewer, org.workspace_id, "viewer")
    viewer_token = lp.create_token(viewer, created_by=org.admin_id)

    response = comment(lp, viewer_token, org.workspace_id, org.item_id)

    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden: requires project editor access or higher"}
    assert lp.changes == []
    assert lp.counters.rejected_requests == 1


def test_editor_write_is_recorded_as_the_owners(
    lp: LiquidPlannerEmulator, org: ExampleOrg, token: str
) -> None:
    response = comment(lp, token, org.workspace_id, org.item_id, text="Done ✓")

    assert response.status_code == 201
    created = response.json()["data"]
    assert created["text"] == "Done ✓"
    assert created["createdBy"]["id"] == org.editor_id
    (change,) = lp.changes
    assert change.member_id == org.editor_id
    assert change.at == NOW
    assert (change.workspace_id, change.item_id) == (org.workspace_id, org.item_id)


def test_comment_without_text_is_400(
    lp: LiquidPlannerEmulator, org: ExampleOrg, token: str
) -> None:
    response = comment(lp, token, org.workspace_id, org.item_id, text="")

    assert response.status_code == 400


def test_only_an_org_admin_creates_tokens(lp: LiquidPlannerEmulator, org: ExampleOrg) -> None:
    with pytest.raises(ValueError, match="not an org admin"):
        lp.create_token(org.admin_id, created_by=org.editor_id)


def test_no_token_for_a_disconnected_member(lp: LiquidPlannerEmulator, org: ExampleOrg) -> None:
    lp.disconnect_member(org.editor_id)

    with pytest.raises(ValueError, match="disconnected"):
        lp.create_token(org.editor_id, created_by=org.admin_id)


def test_unknown_access_level_is_refused(lp: LiquidPlannerEmulator, org: ExampleOrg) -> None:
    with pytest.raises(ValueError, match="access must be one of"):
        lp.grant(org.editor_id, org.workspace_id, "owner")


def test_counters(lp: LiquidPlannerEmulator, token: str) -> None:
    me(lp, token)
    me(lp, "bad")

    assert lp.stats() == {"api_requests": 2, "rejected_requests": 1, "disabled_token_requests": 0}
    lp.reset_counters()
    assert lp.counters.api_requests == 0
