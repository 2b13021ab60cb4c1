"""Providers for APIs without OAuth: ``liana-legacy`` (signed requests), ``basic``, ``api-key``.

None of them fetches anything: the credentials are the secrets of the config, applied to
every request: as a signature (``liana-legacy``), an HTTP Basic header (``basic``, e.g.
LiquidPlanner Classic) or a key in a named header (``api-key``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs
import requests

from unified_auth import AuthAnswer, AuthRequest, Credentials, RegisterProvider, Target, hookimpl
from unified_auth_legacy.explain import explain
from unified_auth_legacy.legacy_provider import apply_signature, signing_credentials
from unified_auth_legacy.options import ApiKeyOptions, BasicOptions, LianaLegacyOptions
from unified_auth_legacy.probe import probe_echo, probe_url
from unified_auth_legacy.static import (
    api_key_credentials,
    api_key_headers,
    basic_credentials,
    basic_headers,
)

__all__ = [
    "ApiKeyOptions",
    "BasicOptions",
    "LianaLegacyOptions",
    "apply_auth",
    "auth_headers",
    "explain_response",
    "get_credentials",
    "probe",
    "register_providers",
]


@attrs.frozen
class _Provider:
    options_class: type[Any]
    credentials: Callable[[Target], Credentials]
    probe: Callable[[Target, requests.Session], str | None]
    headers: Callable[[Target, Credentials], Mapping[str, str]] | None = None
    """The same headers on every request; ``None``: the provider signs each request."""


def _probe_basic(target: Target, http: requests.Session) -> str | None:
    return probe_url(target, http, f"user {target.options.username}")


def _probe_api_key(target: Target, http: requests.Session) -> str | None:
    return probe_url(target, http, f"the key in {target.options.header}")


_PROVIDERS = {
    "liana-legacy": _Provider(LianaLegacyOptions, signing_credentials, probe_echo),
    "basic": _Provider(BasicOptions, basic_credentials, _probe_basic, basic_headers),
    "api-key": _Provider(ApiKeyOptions, api_key_credentials, _probe_api_key,
                         api_key_headers),
}


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    for name, provider in _PROVIDERS.items():
        register(name, provider.options_class)


@hookimpl
def get_credentials(target: Target) -> Credentials | None:
    return _PROVIDERS[target.provider].credentials(target)


@hookimpl
def auth_headers(target: Target, credentials: Credentials) -> Mapping[str, str] | None:
    headers = _PROVIDERS[target.provider].headers
    return None if headers is None else headers(target, credentials)


@hookimpl
def apply_auth(target: Target, credentials: Credentials, request: AuthRequest,
               now: datetime) -> bool | None:
    # Only the signer gets here: the core puts the other providers' auth_headers on.
    apply_signature(target, credentials, request, now)
    return True


@hookimpl
def explain_response(target: Target, response: AuthAnswer) -> str | None:
    return explain(target.provider, response)


@hookimpl
def probe(target: Target, http: requests.Session) -> str | None:
    return _PROVIDERS[target.provider].probe(target, http)
