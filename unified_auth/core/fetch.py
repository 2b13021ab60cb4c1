"""One fetch of a target's credentials: the plugin's call, retries, deadlines, and a check.

The broker decides *when* to fetch (and for how many callers); this module does one fetch:
it calls the owning plugin's ``get_credentials`` through the token session, retries a
:class:`~unified_auth.errors.TokenEndpointError` with backoff and full jitter (or what a
429/503 answer's ``Retry-After`` asks) within the :class:`~unified_auth.RetryPolicy`'s
attempts and deadlines, and checks what the plugin returned: a ``Credentials``, not yet
expired, fit for an HTTP header. That check is here once, for every provider.

What a failed fetch leaves for the callers after it is here too: a :class:`Failure`, the
error's type and redacted message, which the broker raises again (as a fresh exception)
while it backs off, and which a shared cache carries to the other processes of a fleet.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import time
from collections.abc import Iterable
from typing import Any

import attrs
import requests

from unified_auth.core.clock import Clock, to_datetime
from unified_auth.core.plugin_manager import Hooks
from unified_auth.core.redaction import MASK, redact
from unified_auth.core.token_session import RetryPolicy, TokenSession, retry_after
from unified_auth.errors import (
    CredentialsRejected,
    InsecureTransportError,
    PluginError,
    SecretError,
    TokenEndpointError,
    UnifiedAuthError,
)
from unified_auth.model import Credentials, Secret, Target, unsendable

__all__ = ["FAILURE_BACKOFF_MAX", "FAILURE_BACKOFF_MIN", "Failure", "Fetcher", "GaveUp",
           "failure_backoff"]

log = logging.getLogger("unified_auth")

FAILURE_BACKOFF_MIN = 1.0
"""The pause (seconds) after a first failed fetch before the token endpoint is asked again."""
FAILURE_BACKOFF_MAX = 60.0
"""The longest pause (seconds) a failure or a server's ``Retry-After`` makes the core wait."""

_MAX_MESSAGE = 1000
# The attributes of the core's errors that name a place (never a value): kept on a copy.
_NAMES = ("target", "source", "key", "plugin")


def failure_backoff(strikes: int) -> float:
    """The pause after ``strikes`` failed fetches in a row: 1, 2, 4, ... up to 60 seconds."""
    return min(FAILURE_BACKOFF_MAX, FAILURE_BACKOFF_MIN * 2.0 ** min(max(strikes, 1) - 1, 16))


class GaveUp(TokenEndpointError):
    """The retries of one fetch are spent; ``retry_after`` is what the server last asked."""

    def __init__(self, message: str, *, retry_after: float | None, **context: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **context)


@attrs.frozen
class Failure:
    """A failed fetch as the callers after it get it again: its type and redacted message.

    Only the error's type, its message with the target's secrets masked, the names it
    carries (target, source, key, plugin) and the ``Retry-After`` the server asked are
    kept: never the answer or the request, which hold what was sent (a client secret).
    """

    kind: type[Exception]
    message: str
    names: tuple[tuple[str, str], ...] = ()
    asked: float | None = None
    """Seconds the token endpoint asked to wait (``Retry-After``), if it did."""

    @classmethod
    def of(cls, error: Exception, secrets: Iterable[str | Secret | None]) -> Failure:
        try:
            text = str(error) or "no details"
        except Exception:  # noqa: BLE001 - describing a failure must not fail in turn
            text = "no details (its message could not be read)"
        names = tuple((name, value) for name in _NAMES
                      if isinstance(value := getattr(error, name, None), str))
        asked = error.retry_after if isinstance(error, GaveUp) else None
        return cls(type(error), _bounded(redact(text, secrets, MASK)), names, asked)

    def again(self, note: str) -> Exception:
        """A fresh exception of the same type, its message followed by ``note``.

        Fresh, not the original raised again: one object raised in many threads at once
        gathers their tracebacks, and the original carries the token request's answer.
        """
        error = self.kind.__new__(self.kind)
        Exception.__init__(error, f"{self.message}{note}")
        for name, value in self.names:
            setattr(error, name, value)
        if isinstance(error, requests.RequestException):
            error.response = error.request = None
        if isinstance(error, GaveUp):
            error.retry_after = self.asked
        return error

    def encode(self, strikes: int) -> Secret:
        """This failure and the fleet's count of failures in a row, for a shared cache entry.

        Base64 of JSON, so the value is one run of visible ASCII like any token.
        """
        # A plugin's own subclass travels as the core type it extends.
        kind = next((c.__name__ for c in self.kind.__mro__ if _REPLAYED.get(c.__name__) is c),
                    TokenEndpointError.__name__)
        document = {"format": 1, "kind": kind, "message": self.message,
                    "names": dict(self.names), "asked": self.asked, "strikes": strikes}
        return Secret(base64.urlsafe_b64encode(json.dumps(document).encode()).decode())

    @classmethod
    def decode(cls, value: Secret) -> tuple[Failure, int] | None:
        """What :meth:`encode` wrote, or ``None`` for anything else (a shared cache is
        untrusted input: only the core's own error types, names and bounded text)."""
        try:
            document: Any = json.loads(base64.urlsafe_b64decode(value.reveal().encode()))
        except (binascii.Error, UnicodeError, ValueError):
            return None
        if not isinstance(document, dict) or document.get("format") != 1:
            return None
        kind = _REPLAYED.get(document.get("kind"))  # type: ignore[arg-type]
        message, names, asked, strikes = (
            document.get(k) for k in ("message", "names", "asked", "strikes"))
        if not (kind is not None and isinstance(message, str) and isinstance(names, dict)
                and all(k in _NAMES and isinstance(v, str) for k, v in names.items())
                and (asked is None or (isinstance(asked, int | float) and math.isfinite(asked)))
                and isinstance(strikes, int) and not isinstance(strikes, bool)):
            return None
        text = " ".join(message.split()) or "no details"
        names_kept = tuple((k, _bounded(v)) for k, v in names.items())
        return cls(kind, _bounded(text), names_kept, asked), min(max(strikes, 1), 64)


def _bounded(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE - 3] + "..."


class Fetcher:
    """Fetches one target's credentials from its plugin, within a :class:`RetryPolicy`."""

    def __init__(self, hooks: Hooks, http: TokenSession, clock: Clock,
                 retry: RetryPolicy) -> None:
        self._hooks = hooks
        self._http = http
        self._clock = clock
        self._retry = retry

    def fetch(self, target: Target, obtained_at: float) -> Credentials:
        """Call the owning plugin's ``get_credentials``, retrying within the policy's bounds.

        :param target: the target, its secrets resolved.
        :param obtained_at: when the fetch began (the clock's seconds): lifetimes count from it.
        :raises GaveUp: when the tries are spent or the fetch deadline would pass.
        """
        policy = self._retry
        # Time spent counts real seconds for the attempts and the nominal pauses, so the
        # bound holds (and tests see it) whatever ``sleep`` does.
        spent = 0.0
        for attempt in range(policy.attempts):
            if attempt:
                obtained_at = self._clock()
            budget = policy.fetch_deadline - spent
            started = time.monotonic()
            try:
                with self._http.deadline(min(policy.attempt_deadline, budget)):
                    return self._call(target, obtained_at)
            except TokenEndpointError as exc:
                spent += time.monotonic() - started
                asked = retry_after(exc.response, self._clock())
                pause = min(asked, FAILURE_BACKOFF_MAX) if asked is not None else \
                    policy.pause(attempt)
                last = attempt + 1 >= policy.attempts
                if last or spent + pause >= policy.fetch_deadline:
                    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                    why = (f"giving up after {tries}" if last else
                           f"giving up after {tries}, as the next could not finish within "
                           f"the fetch deadline ({policy.fetch_deadline:g} s)")
                    raise GaveUp(
                        f"target {target.name}: {why}: {exc}", target=target.name,
                        response=exc.response, request=exc.request,
                        retry_after=asked) from exc
                log.info("target %s: token request failed (%s); retrying in %.2f s",
                         target.name, exc, pause)
                self._retry.sleep(pause)
                spent += pause
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, target: Target, obtained_at: float) -> Credentials:
        credentials = self._hooks.get_credentials(target, self._http, to_datetime(obtained_at))
        if credentials is None:
            raise PluginError(
                f"target {target.name}: no plugin returned credentials for provider "
                f"{target.provider!r}; its plugin registered the provider but does not "
                f"handle it in get_credentials", plugin=self._plugin_of(target))
        if not isinstance(credentials, Credentials):
            raise PluginError(
                f"target {target.name}: get_credentials returned "
                f"{type(credentials).__name__}, not Credentials", plugin=self._plugin_of(target))
        self._refuse_unsendable(target, credentials)
        expires_at = credentials.expires_at
        if expires_at is not None and expires_at.timestamp() <= self._clock():
            raise TokenEndpointError(
                f"target {target.name}: the provider handed out credentials that have "
                f"already expired; check this machine's clock", target=target.name)
        return credentials

    def _refuse_unsendable(self, target: Target, credentials: Credentials) -> None:
        """Every provider's credentials are checked here, once, before anything sends them."""
        found = unsendable(credentials.value.reveal(), credentials.token_type)
        if found is not None:
            part, problem = found
            # Retried like any bad answer: a token endpoint's garbled answer may pass.
            raise TokenEndpointError(
                f"target {target.name}: plugin {self._plugin_of(target)!r} returned "
                f"credentials whose {part} holds {problem}, which cannot go in an HTTP "
                f"header; {_fix_for(target, credentials)}", target=target.name)

    def _plugin_of(self, target: Target) -> str:
        return self._hooks.owner(target.provider) or target.provider


def _fix_for(target: Target, credentials: Credentials) -> str:
    """How to fix unsendable credentials: the config key they were copied from, if any."""
    options = target.options
    for field in attrs.fields(type(options)):
        if getattr(options, field.name) == credentials.value:
            return (f"they are the secret of {target.source}: targets.{target.name}."
                    f"{field.alias}: copy it again, without line breaks or spaces")
    return "the provider handed out a value no API can be sent (retried, as it may pass)"


# Error types a failure read from a shared cache may come back as: the core's own, by name.
_REPLAYED: dict[str, type[Exception]] = {cls.__name__: cls for cls in (
    CredentialsRejected, GaveUp, InsecureTransportError, PluginError, SecretError,
    TokenEndpointError, UnifiedAuthError)}
