"""unified-auth: one requests.Session, many APIs, each with its own way of authenticating.

>>> import unified_auth
>>> session = unified_auth.session("unified-auth.toml")        # doctest: +SKIP
>>> session.get("https://rest.lianamailer.com/v1/lists")        # doctest: +SKIP

The names below are imported on first use: the pytest plugin in ``unified_auth.testing``
is loaded by every pytest run of an environment that has unified-auth, and importing a
submodule runs this file, so it must not pull in requests and the whole core.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from unified_auth.hookspecs import hookimpl

if TYPE_CHECKING:
    from unified_auth.cache import CachedCredentials, CredentialCache, MemoryCache
    from unified_auth.clients.requests_adapter import AuthAdapter
    from unified_auth.clients.requests_auth import TargetAuth
    from unified_auth.core.messages import AuthAnswer, AuthRequest
    from unified_auth.core.redaction import redact
    from unified_auth.core.token_session import RetryPolicy
    from unified_auth.events import CredentialsEvent, TargetStats
    from unified_auth.hookspecs import RegisterProvider
    from unified_auth.hub import UnifiedAuth, load, session
    from unified_auth.model import (
        Credentials,
        Origin,
        Secret,
        SecretRef,
        Target,
        bearer_headers,
    )
    from unified_auth.notices import Notice

__all__ = [
    "AuthAdapter",
    "AuthAnswer",
    "AuthRequest",
    "CachedCredentials",
    "CredentialCache",
    "Credentials",
    "CredentialsEvent",
    "MemoryCache",
    "Notice",
    "Origin",
    "RegisterProvider",
    "RetryPolicy",
    "Secret",
    "SecretRef",
    "Target",
    "TargetAuth",
    "TargetStats",
    "UnifiedAuth",
    "bearer_headers",
    "hookimpl",
    "load",
    "redact",
    "session",
]

_LAZY = {
    "AuthAdapter": "unified_auth.clients.requests_adapter",
    "TargetAuth": "unified_auth.clients.requests_auth",
    "AuthAnswer": "unified_auth.core.messages",
    "AuthRequest": "unified_auth.core.messages",
    "bearer_headers": "unified_auth.model",
    "CachedCredentials": "unified_auth.cache",
    "CredentialCache": "unified_auth.cache",
    "MemoryCache": "unified_auth.cache",
    "RegisterProvider": "unified_auth.hookspecs",
    "RetryPolicy": "unified_auth.core.token_session",
    "CredentialsEvent": "unified_auth.events",
    "TargetStats": "unified_auth.events",
    "UnifiedAuth": "unified_auth.hub",
    "load": "unified_auth.hub",
    "session": "unified_auth.hub",
    "Credentials": "unified_auth.model",
    "Origin": "unified_auth.model",
    "Secret": "unified_auth.model",  # nosec B105 # a module name
    "SecretRef": "unified_auth.model",
    "Target": "unified_auth.model",
    "Notice": "unified_auth.notices",
    "redact": "unified_auth.core.redaction",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'unified_auth' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
