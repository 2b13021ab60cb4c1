"""One fetch of a target's credentials: the plugin's call, retries, deadlines, and a check.

The broker decides *when* to fetch (and for how many callers); this module does one fetch:
it calls the owning plugin's ``get_credentials`` through the token session, retries a
:class:`~unified_auth.errors.TokenEndpointError` with backoff and full jitter (or what a
429/503 answer's ``Retry-After`` asks) within the :class:`~unified_auth.RetryPolicy`'s
attempts and deadlines, and checks what the plugin returned: a ``Credentials``, not yet
expired, fit for an HTTP header. That check is here once, for every provider.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import attrs

from unified_auth.core.clock import Clock, to_datetime
from unified_auth.core.plugin_manager import Hooks
from unified_auth.core.token_session import RetryPolicy, TokenSession, retry_after
from unified_auth.errors import PluginError, TokenEndpointError
from unified_auth.model import Credentials, Target, header_problem

__all__ = ["FAILURE_BACKOFF_MAX", "Fetcher", "GaveUp"]

log = logging.getLogger("unified_auth")

FAILURE_BACKOFF_MAX = 60.0
"""The longest pause (seconds) a failure or a server's ``Retry-After`` makes the core wait."""


class GaveUp(TokenEndpointError):
    """The retries of one fetch are spent; ``retry_after`` is what the server last asked."""

    def __init__(self, message: str, *, retry_after: float | None, **context: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **context)


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
        parts = [("value", credentials.value.reveal())]
        if credentials.token_type:  # empty for a key sent bare, as an api-key target may
            parts.append(("token_type", credentials.token_type))
        for part, text in parts:
            problem = header_problem(text)
            if problem is not None:
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
