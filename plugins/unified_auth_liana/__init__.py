"""The ``liana`` provider: OAuth 2.0 client-credentials tokens from Liana's token endpoint.

Config keys are the fields of :class:`LianaOptions`. Tokens are fetched through the ``oauth2``
provider (one request, one answer parser) with a form post of
``grant_type``, ``client_id`` and ``client_secret`` and sent as ``Authorization: Bearer``;
the core caches them and fetches a new one before ``expires_in`` runs out.
"""

from __future__ import annotations

from datetime import datetime

import requests

from unified_auth import AuthAnswer, Credentials, RegisterProvider, Target, bearer_headers, hookimpl
from unified_auth_liana.expiry import expiry_warnings, refuse_if_expired
from unified_auth_liana.explain import explain
from unified_auth_liana.options import LianaOptions
from unified_auth_liana.probe import probe_echo
from unified_auth_liana.token import request_liana_token

__all__ = [
    "PROVIDER",
    "LianaOptions",
    "auth_headers",
    "explain_response",
    "get_credentials",
    "probe",
    "register_providers",
    "target_warnings",
]

PROVIDER = "liana"


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(PROVIDER, LianaOptions)


@hookimpl
def get_credentials(target: Target, http: requests.Session, now: datetime) -> Credentials | None:
    refuse_if_expired(target, target.options, now)
    return request_liana_token(target, http, now)


@hookimpl
def auth_headers(credentials: Credentials) -> dict[str, str] | None:
    return bearer_headers(credentials)


@hookimpl
def target_warnings(target: Target, now: datetime) -> list[str] | None:
    return expiry_warnings(target.options, now)


@hookimpl
def explain_response(target: Target, response: AuthAnswer) -> str | None:
    return explain(target, response)


@hookimpl
def probe(target: Target, http: requests.Session) -> str | None:
    return probe_echo(target, http)
