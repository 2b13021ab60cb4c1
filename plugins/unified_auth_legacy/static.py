"""The ``basic`` and ``api-key`` providers: a fixed header built from a secret."""

from __future__ import annotations

import base64

from unified_auth import Credentials, Secret, Target
from unified_auth_legacy.options import ApiKeyOptions, BasicOptions

__all__ = ["api_key_credentials", "api_key_headers", "basic_credentials", "basic_headers"]



def basic_credentials(target: Target) -> Credentials:
    """``base64(username:password)``: what follows ``Basic`` in the header."""
    options: BasicOptions = target.options
    # RFC 7617 charset=UTF-8; requests' own helper would use latin-1 and fail on others.
    pair = f"{options.username}:{options.password.reveal()}".encode()
    encoded = base64.b64encode(pair).decode("ascii")
    scheme = "Basic"  # nosec B105 # a scheme name, not a password
    return Credentials(value=Secret(encoded), expires_at=None, token_type=scheme)


def basic_headers(target: Target, credentials: Credentials) -> dict[str, str]:
    return {"Authorization": f"Basic {credentials.value.reveal()}"}


def api_key_credentials(target: Target) -> Credentials:
    """The key itself (the core checks it fit for a header, as every provider's)."""
    options: ApiKeyOptions = target.options
    return Credentials(value=options.key, expires_at=None, token_type=options.prefix or "")


def api_key_headers(target: Target, credentials: Credentials) -> dict[str, str]:
    options: ApiKeyOptions = target.options
    key = credentials.value.reveal()
    return {options.header: f"{options.prefix} {key}" if options.prefix else key}
