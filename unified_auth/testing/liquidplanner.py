"""An emulator of LiquidPlanner (next.liquidplanner.com) API tokens and a slice of its API.

An API token acts as its owner: what it may see and write follows the owner's workspace
access, and a write is recorded as the owner's. Tokens are created by an org admin, can be
disabled, re-enabled and transferred, and are disabled when their owner is disconnected.

It runs past 300 lines because the token rules above and the slice of API they guard
share one state (org, members, tokens, items) under one lock; the routes are small.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from typing import Any

import attrs

from unified_auth.testing._server import Clock, CountingEmulator, Request, Response

__all__ = [
    "ACCESS_LEVELS",
    "Change",
    "ExampleOrg",
    "LiquidPlannerCounters",
    "LiquidPlannerEmulator",
    "TokenInfo",
]

ACCESS_LEVELS = ("viewer", "project_editor", "workspace_admin")
"""Workspace access levels, weakest first."""

_UNAUTHENTICATED = Response.json(
    401,
    {"error": "Authentication required"},
    headers=(("WWW-Authenticate", 'Bearer realm="LiquidPlanner"'),),
)
_NOT_FOUND = Response.json(404, {"error": "Not found"})
_FORBIDDEN = Response.json(403, {"error": "Forbidden: requires project editor access or higher"})
_ITEMS = re.compile(r"/api/workspaces/v1/(\d+)/items")
_COMMENTS = re.compile(r"/api/workspaces/v1/(\d+)/items/(\d+)/comments")


@attrs.frozen
class Change:
    """One write made through the API, attributed to the token's owner at the time."""

    member_id: int
    what: str
    at: datetime
    workspace_id: int
    item_id: int


@attrs.frozen
class TokenInfo:
    """What the admin UI shows about an API token: never its secret."""

    name: str
    owner_id: int
    enabled: bool
    created_at: datetime
    created_by: int | None


@attrs.frozen
class LiquidPlannerCounters:
    """A snapshot of what the emulator has seen since start or :meth:`reset_counters`."""

    api_requests: int = 0
    rejected_requests: int = 0
    """401 and 403 answers."""
    disabled_token_requests: int = 0
    """Requests that carried a token that exists but is disabled."""


@attrs.frozen
class ExampleOrg:
    """The ids of the small organization :meth:`LiquidPlannerEmulator.add_example_org` makes."""

    admin_id: int
    editor_id: int
    workspace_id: int
    item_id: int


@attrs.define
class _Member:
    id: int
    name: str
    email: str
    org_admin: bool
    active: bool = True


@attrs.define
class _Token:
    name: str
    owner_id: int
    created_at: datetime
    created_by: int | None
    enabled: bool = True


class LiquidPlannerEmulator(CountingEmulator[LiquidPlannerCounters]):
    """LiquidPlanner's API under ``/api/...``, authenticated by ``Bearer <API token>``."""

    counters_class = LiquidPlannerCounters

    def __init__(self, *, clock: Clock | None = None, port: int = 0) -> None:
        super().__init__(clock=clock, port=port)
        self.example: ExampleOrg | None = None
        """Set by :meth:`add_example_org`."""
        self._members: dict[int, _Member] = {}
        self._workspaces: dict[int, str] = {}
        self._access: dict[tuple[int, int], str] = {}
        self._items: dict[int, tuple[int, str]] = {}
        self._tokens: dict[str, _Token] = {}
        self._changes: list[Change] = []
        self._next_id = 1

    # -- admin: organization -----------------------------------------------------------

    def add_member(self, name: str, email: str, *, org_admin: bool = False) -> int:
        """Add a member to the organization; returns its id."""
        with self._lock:
            member_id = self._new_id()
            self._members[member_id] = _Member(member_id, name, email, org_admin)
        return member_id

    def add_workspace(self, name: str) -> int:
        """Add a workspace; returns its id."""
        with self._lock:
            workspace_id = self._new_id()
            self._workspaces[workspace_id] = name
        return workspace_id

    def grant(self, member_id: int, workspace_id: int, access: str) -> None:
        """Give an active member ``access`` (one of :data:`ACCESS_LEVELS`) to a workspace."""
        if access not in ACCESS_LEVELS:
            raise ValueError(f"access must be one of {ACCESS_LEVELS}, got {access!r}")
        with self._lock:
            self._active_member(member_id)
            self._workspace(workspace_id)
            self._access[member_id, workspace_id] = access

    def add_item(self, workspace_id: int, name: str) -> int:
        """Add an item (task, project...) to a workspace; returns its id."""
        with self._lock:
            self._workspace(workspace_id)
            item_id = self._new_id()
            self._items[item_id] = (workspace_id, name)
        return item_id

    def disconnect_member(self, member_id: int, workspace_id: int | None = None) -> None:
        """Remove a member from a workspace, or from the organization if ``None``.

        Either way every token the member owns is disabled.
        """
        with self._lock:
            member = self._member(member_id)
            if workspace_id is None:
                member.active = False
                self._access = {k: v for k, v in self._access.items() if k[0] != member_id}
            else:
                self._workspace(workspace_id)
                self._access.pop((member_id, workspace_id), None)
            for token in self._tokens.values():
                if token.owner_id == member_id:
                    token.enabled = False

    def add_example_org(self) -> ExampleOrg:
        """An org admin, a workspace, a project editor and an item; also kept as ``.example``."""
        admin_id = self.add_member("Ada Admin", "ada@example.com", org_admin=True)
        editor_id = self.add_member("Eddie Editor", "eddie@example.com")
        workspace_id = self.add_workspace("Example workspace")
        self.grant(admin_id, workspace_id, "workspace_admin")
        self.grant(editor_id, workspace_id, "project_editor")
        item_id = self.add_item(workspace_id, "Example task")
        self.example = ExampleOrg(admin_id, editor_id, workspace_id, item_id)
        return self.example

    # -- admin: API tokens -------------------------------------------------------------

    def create_token(self, owner_id: int, *, name: str = "", created_by: int | None = None) -> str:
        """Create an enabled API token for an active member; returns its secret.

        ``created_by``, if given, must be an active org admin, as only they create tokens.
        """
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._active_member(owner_id)
            if created_by is not None:
                creator = self._active_member(created_by)
                if not creator.org_admin:
                    raise ValueError(f"member {created_by} is not an org admin")
            self._tokens[token] = _Token(name, owner_id, self._now(), created_by)
        return token

    def disable_token(self, token: str) -> None:
        """Disable a token: requests with it get 401 until it is enabled again."""
        with self._lock:
            self._token(token).enabled = False

    def enable_token(self, token: str) -> None:
        """Enable a token again; its owner must still be in the organization."""
        with self._lock:
            info = self._token(token)
            self._active_member(info.owner_id)
            info.enabled = True

    def transfer_token(self, token: str, new_owner_id: int) -> None:
        """Give a token to another active member. The secret and enabled flag are unchanged."""
        with self._lock:
            self._active_member(new_owner_id)
            self._token(token).owner_id = new_owner_id

    def token_info(self, token: str) -> TokenInfo:
        """What the admin UI shows about a token."""
        with self._lock:
            t = self._token(token)
            return TokenInfo(t.name, t.owner_id, t.enabled, t.created_at, t.created_by)

    # -- admin: observation ------------------------------------------------------------

    @property
    def changes(self) -> list[Change]:
        """The writes made through the API, oldest first (a copy)."""
        with self._lock:
            return list(self._changes)

    # -- HTTP --------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self._counts["api_requests"] += 1
            response = self._answer(request)
            if response.status in (401, 403):
                self._counts["rejected_requests"] += 1
        return response

    def _answer(self, request: Request) -> Response:
        """Called with the lock held: every answer is a few dict look-ups."""
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        info = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if info is None or not info.enabled:
            if info is not None:
                self._counts["disabled_token_requests"] += 1
            return _UNAUTHENTICATED
        owner = self._members[info.owner_id]
        if request.path in ("/api/users/v1", "/api/users/v1/me"):
            return _get_only(request, {"data": [_member_json(owner)]})
        if request.path == "/api/workspaces/v1":
            workspaces = [
                {"id": ws, "name": name}
                for ws, name in self._workspaces.items()
                if (owner.id, ws) in self._access
            ]
            return _get_only(request, {"data": workspaces})
        if match := _ITEMS.fullmatch(request.path):
            workspace_id = int(match[1])
            if (owner.id, workspace_id) not in self._access:
                return _NOT_FOUND
            items = [
                {"id": item, "name": name, "workspaceId": ws}
                for item, (ws, name) in self._items.items()
                if ws == workspace_id
            ]
            return _get_only(request, {"data": items})
        if match := _COMMENTS.fullmatch(request.path):
            return self._comment(request, owner, int(match[1]), int(match[2]))
        return _NOT_FOUND

    def _comment(
        self, request: Request, owner: _Member, workspace_id: int, item_id: int
    ) -> Response:
        access = self._access.get((owner.id, workspace_id))
        if access is None or self._items.get(item_id, (None,))[0] != workspace_id:
            return _NOT_FOUND
        if request.method != "POST":
            return Response.json(405, {"error": "Method not allowed"}, headers=(("Allow", "POST"),))
        if ACCESS_LEVELS.index(access) < ACCESS_LEVELS.index("project_editor"):
            return _FORBIDDEN
        text = _json_field(request.body, "text")
        if text is None:
            return Response.json(400, {"error": 'Body must be JSON {"text": "..."}'})
        now = self._now()
        self._changes.append(
            Change(owner.id, f"commented on item {item_id}: {text}", now, workspace_id, item_id)
        )
        comment = {
            "id": self._new_id(),
            "itemId": item_id,
            "text": text,
            "createdBy": _member_json(owner),
            "createdAt": now.isoformat(),
        }
        return Response.json(201, {"data": comment})

    def _new_id(self) -> int:
        new_id, self._next_id = self._next_id, self._next_id + 1
        return new_id

    def _member(self, member_id: int) -> _Member:
        if member_id not in self._members:
            raise ValueError(f"no member {member_id}")
        return self._members[member_id]

    def _active_member(self, member_id: int) -> _Member:
        member = self._member(member_id)
        if not member.active:
            raise ValueError(f"member {member_id} is disconnected from the organization")
        return member

    def _workspace(self, workspace_id: int) -> str:
        if workspace_id not in self._workspaces:
            raise ValueError(f"no workspace {workspace_id}")
        return self._workspaces[workspace_id]

    def _token(self, token: str) -> _Token:
        if token not in self._tokens:
            raise ValueError("no such API token")
        return self._tokens[token]


def _get_only(request: Request, payload: Any) -> Response:
    if request.method != "GET":
        return Response.json(405, {"error": "Method not allowed"}, headers=(("Allow", "GET"),))
    return Response.json(200, payload)


def _member_json(member: _Member) -> dict[str, Any]:
    return {"id": member.id, "name": member.name, "email": member.email}


def _json_field(body: bytes, name: str) -> str | None:
    try:
        document = json.loads(body.decode("utf-8"))
    except ValueError:
        return None
    value = document.get(name) if isinstance(document, dict) else None
    return value if isinstance(value, str) and value else None
