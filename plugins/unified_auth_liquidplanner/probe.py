"""``check``'s probe: the workspaces the token reaches, and whose token it is."""

from __future__ import annotations

from typing import Any

import requests

from unified_auth import Target
from unified_auth.errors import AccessDenied
from unified_auth_liquidplanner.explain import explain
from unified_auth_liquidplanner.options import LiquidPlannerOptions

__all__ = ["PROBE_TIMEOUT", "probe_workspaces"]

PROBE_TIMEOUT = (5.0, 15.0)
WORKSPACES = "/api/workspaces/v1"
ME = "/api/users/v1/me"
_MAX_LISTED = 10


def probe_workspaces(target: Target, http: requests.Session) -> str | None:
    """``"Eddie Editor, 2 workspaces"``; ``workspace_id``, when set, must be among them."""
    url = target.url(WORKSPACES)
    if url is None:
        return None
    response = http.get(url, timeout=PROBE_TIMEOUT)
    _refuse_unless_ok(target, response)
    workspaces = _data(response)
    ids = [ws.get("id") for ws in workspaces if isinstance(ws, dict)]
    owner = _owner(target, http)
    options: LiquidPlannerOptions = target.options
    if options.workspace_id is not None and options.workspace_id not in ids:
        reached = ", ".join(str(i) for i in ids[:_MAX_LISTED]) or "none"
        raise AccessDenied(
            f"target {target.name}: workspace_id {options.workspace_id} is not among the "
            f"workspaces the token's owner{f' ({owner})' if owner else ''} can reach "
            f"(ids: {reached}). An API token acts with its owner's access: a workspace admin "
            f"can add the owner to workspace {options.workspace_id}, or fix workspace_id in "
            f"{target.source}", target=target.name, response=response)
    count = f"{len(ids)} workspace{'' if len(ids) == 1 else 's'}"
    return f"{owner}, {count}" if owner else count


def _owner(target: Target, http: requests.Session) -> str | None:
    """The token owner's name, if the API says (a probe must not fail for want of it)."""
    url = target.url(ME)
    if url is None:
        return None
    response = http.get(url, timeout=PROBE_TIMEOUT)
    if not response.ok:
        return None
    members = _data(response)
    name = members[0].get("name") if members and isinstance(members[0], dict) else None
    return name if isinstance(name, str) and name else None


def _refuse_unless_ok(target: Target, response: requests.Response) -> None:
    # A 404 of the workspace list says the API is not at the target's host, nothing of the
    # token: raise_for_status lets `check` call it "not verified", not a refusal.
    if response.status_code == 403:
        raise AccessDenied(
            f"target {target.name}: {WORKSPACES} answered {response.status_code}: "
            f"{explain(response)}", target=target.name, response=response)
    response.raise_for_status()


def _data(response: requests.Response) -> list[Any]:
    try:
        document = response.json()
    except ValueError:
        return []
    data = document.get("data") if isinstance(document, dict) else None
    return data if isinstance(data, list) else []
