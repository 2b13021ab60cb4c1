"""What LiquidPlanner's 401, 403 and 404 mean for an API token, and when to cycle it."""

from __future__ import annotations

from datetime import datetime

import requests

from unified_auth import AuthAnswer
from unified_auth_liquidplanner.options import LiquidPlannerOptions

__all__ = ["CYCLE_AFTER_DAYS", "cycling_warnings", "explain"]

CYCLE_AFTER_DAYS = 120
"""Tokens never expire; past this age the user is reminded to cycle theirs."""

_UNAUTHORIZED = (
    "LiquidPlanner does not accept this API token: it was deleted or disabled, or its owner "
    "was disconnected from the workspace or organization, which disables the owner's "
    "tokens. An Org Admin can reassign the token to an active member and re-enable it "
    "(or create a new one: then update the secret the target's token points to).")
_OWNER_ACCESS = (
    "a LiquidPlanner API token acts with its owner's access level, so this may mean the "
    "token's owner cannot see or change the resource, not that the token is wrong. A "
    "workspace admin can give the owner access, or an Org Admin can assign the token to a "
    "member who has it.")


def explain(response: AuthAnswer | requests.Response) -> str | None:
    """The explanation of a 401, 403 or 404 from LiquidPlanner."""
    if response.status_code == 401:
        return _UNAUTHORIZED
    if response.status_code in (403, 404):
        return _OWNER_ACCESS
    return None


def cycling_warnings(options: LiquidPlannerOptions, now: datetime) -> list[str]:
    """A reminder to cycle a token issued more than :data:`CYCLE_AFTER_DAYS` ago."""
    if options.issued_on is None:
        return []
    age = (now.date() - options.issued_on).days
    if age <= CYCLE_AFTER_DAYS:
        return []
    return [f"the LiquidPlanner API token was issued on {options.issued_on}, {age} days "
            f"ago; tokens don't expire, but cycling them every 4-6 months is recommended: "
            f"have an Org Admin create a new one, put it where token points, update "
            f"issued_on and delete the old token"]
