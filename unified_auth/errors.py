"""The exception hierarchy of unified-auth.

Every error is a :class:`UnifiedAuthError`. Errors that can be raised while a request is
being sent also subclass :class:`requests.RequestException`, so code that already handles
``requests`` failures keeps working. Messages name the file, target and key (or host and
provider) and say what to do next; they never contain a secret.
"""

from __future__ import annotations

from typing import Any

import requests

__all__ = [
    "AccessDenied",
    "AuthFailed",
    "ConfigError",
    "CredentialsRejected",
    "InsecureTransportError",
    "PluginError",
    "SecretError",
    "TokenEndpointError",
    "UnifiedAuthError",
]

DOCS_URL = "https://unified-auth.readthedocs.io/en/latest/"
"""The documentation site, which messages link to (the docs/ folder is not installed)."""


class UnifiedAuthError(Exception):
    """Base class of every error unified-auth raises."""

    def __init__(self, message: str, **context: Any) -> None:
        # ``context`` carries ``response=``/``request=`` through to RequestException.
        super().__init__(message, **context)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return self.message


class _LocatedError(UnifiedAuthError):
    """An error about a place in the config: the message starts with the file, target and key."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        target: str | None = None,
        key: str | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.key = key
        super().__init__(_locate(message, source, target, key))


class _TargetError(UnifiedAuthError):
    """An error about one target's credentials; ``response=``/``request=`` pass through."""

    def __init__(self, message: str, *, target: str | None = None, **context: Any) -> None:
        self.target = target
        super().__init__(message, **context)


class ConfigError(_LocatedError, ValueError):
    """The configuration is invalid: the message names the file, target and key."""


class SecretError(_LocatedError, requests.RequestException):
    """A secret reference could not be resolved (missing variable, unreadable file, ...)."""


class PluginError(UnifiedAuthError, requests.RequestException):
    """A plugin failed in a way it did not report itself: the message names the plugin."""

    def __init__(self, message: str, *, plugin: str) -> None:
        self.plugin = plugin
        super().__init__(message)


class CredentialsRejected(_TargetError, requests.RequestException):
    """The provider refused the client's credentials. Retrying will not help: fix them."""


class TokenEndpointError(_TargetError, requests.RequestException):
    """The token endpoint was unreachable, failed (5xx) or answered nonsense, after retries."""


class InsecureTransportError(UnifiedAuthError, requests.RequestException):
    """Credentials would have gone over plain http to a host that is not loopback."""


class AuthFailed(_TargetError, requests.HTTPError):
    """The API answered 401 again when the request was retried once with the current credentials."""


class AccessDenied(_TargetError, requests.HTTPError):
    """The API understood the credentials but refused the request (e.g. an API not licensed)."""


def _locate(message: str, source: str | None, target: str | None, key: str | None) -> str:
    """Prefix ``message`` with where the problem is: ``file: targets.NAME.KEY: message``."""
    where = []
    if source:
        where.append(source)
    path = ".".join(part for part in ("targets" if target else None, target, key) if part)
    if path:
        where.append(path)
    return ": ".join([*where, message])
