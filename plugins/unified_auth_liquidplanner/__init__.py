"""The ``liquidplanner`` provider: a LiquidPlanner API token as ``Authorization: Bearer``.

API tokens don't expire, so the token from the config's secret reference is the
credential itself: no token endpoint, no refresh timer. After a 401 the core reads the
secret again (it may have been replaced) and retries once.
"""

from __future__ import annotations

from datetime import datetime

import requests

from unified_auth import AuthAnswer, Credentials, RegisterProvider, Target, bearer_headers, hookimpl
from unified_auth_liquidplanner.explain import cycling_warnings, explain
from unified_auth_liquidplanner.options import LiquidPlannerOptions
from unified_auth_liquidplanner.probe import probe_workspaces
from unified_auth_liquidplanner.token import token_credentials

__all__ = [
    "PROVIDER",
    "LiquidPlannerOptions",
    "auth_headers",
    "explain_response",
    "get_credentials",
    "probe",
    "register_providers",
    "target_warnings",
]

PROVIDER = "liquidplanner"


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(PROVIDER, LiquidPlannerOptions)


@hookimpl
def get_credentials(target: Target) -> Credentials | None:
    return token_credentials(target)


@hookimpl
def auth_headers(credentials: Credentials) -> dict[str, str] | None:
    return bearer_headers(credentials)


@hookimpl
def target_warnings(target: Target, now: datetime) -> list[str] | None:
    return cycling_warnings(target.options, now)


@hookimpl
def explain_response(target: Target, response: AuthAnswer) -> str | None:
    return explain(response)


@hookimpl
def probe(target: Target, http: requests.Session) -> str | None:
    return probe_workspaces(target, http)
