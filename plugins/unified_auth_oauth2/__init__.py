"""The ``oauth2`` provider: client-credentials tokens (RFC 6749 4.4) from any token endpoint.

Config keys are the fields of :class:`OAuth2Options`. The client authenticates with
``client_secret_basic`` (the default), ``client_secret_post`` or ``private_key_jwt`` (an
RFC 7523 assertion, extra ``unified-auth[jwt]``); tokens are sent as
``Authorization: Bearer``, and the core caches them and fetches a new one before
``expires_in`` runs out. Other providers of client-credentials tokens (``liana``) fetch
through :func:`request_token` with their own :class:`Wording`.
"""

from __future__ import annotations

from datetime import datetime

import requests

from unified_auth import AuthAnswer, Credentials, RegisterProvider, Target, bearer_headers, hookimpl
from unified_auth_oauth2.explain import explain
from unified_auth_oauth2.options import DEFAULT_TTL, OAuth2Options
from unified_auth_oauth2.probe import probe_url
from unified_auth_oauth2.token import GENERIC, Wording, request_token

__all__ = [
    "DEFAULT_TTL",
    "GENERIC",
    "PROVIDER",
    "OAuth2Options",
    "Wording",
    "auth_headers",
    "explain_response",
    "get_credentials",
    "probe",
    "register_providers",
    "request_token",
]

PROVIDER = "oauth2"


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(PROVIDER, OAuth2Options)


@hookimpl
def get_credentials(target: Target, http: requests.Session, now: datetime) -> Credentials | None:
    return request_token(target, http, now, target.options)


@hookimpl
def auth_headers(credentials: Credentials) -> dict[str, str] | None:
    return bearer_headers(credentials)


@hookimpl
def explain_response(target: Target, response: AuthAnswer) -> str | None:
    return explain(target, response)


@hookimpl
def probe(target: Target, http: requests.Session) -> str | None:
    return probe_url(target, http)
