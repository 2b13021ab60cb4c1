"""unified-auth: one requests.Session, many APIs, each with its own way of authenticating.

>>> import unified_auth
>>> session = unified_auth.session("unified-auth.toml")        # doctest: +SKIP
>>> session.get("https://rest.lianamailer.com/v1/lists")        # doctest: +SKIP
"""

from __future__ import annotations

from unified_auth.adapter import AuthAdapter, TargetAuth
from unified_auth.cache import CachedCredentials, CredentialCache
from unified_auth.hookspecs import hookimpl
from unified_auth.http import RetryPolicy
from unified_auth.hub import UnifiedAuth, load, session
from unified_auth.model import Credentials, Origin, Secret, SecretRef, Target

__all__ = [
    "AuthAdapter",
    "CachedCredentials",
    "CredentialCache",
    "Credentials",
    "Origin",
    "RetryPolicy",
    "Secret",
    "SecretRef",
    "Target",
    "TargetAuth",
    "UnifiedAuth",
    "hookimpl",
    "load",
    "session",
]
