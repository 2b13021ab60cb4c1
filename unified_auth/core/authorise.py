"""Putting a lease on a request and explaining an answer: what the flow asks of plugins.

:class:`Authoriser` is the one place the per-request hooks are called, for every client:

- :meth:`Authoriser.headers_for`: the headers a lease puts on every request (the
  ``auth_headers`` hook), computed once per lease, so a Bearer, Basic or API-key provider
  costs a dict update per request;
- :meth:`Authoriser.apply`: ``apply_auth`` on an :class:`~unified_auth.AuthRequest`, for
  providers whose headers depend on the request (signers);
- :meth:`Authoriser.failed` and :meth:`Authoriser.explain`: ``explain_response`` on an
  :class:`~unified_auth.AuthAnswer`, for the error a refused retry raises and the one-time
  log line of a 403 or 404.

Which lease a request gets, and what an answer means, is :mod:`unified_auth.core.flow`'s.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from unified_auth.core.broker import Broker, Lease
from unified_auth.core.clock import Clock, to_datetime
from unified_auth.core.messages import AuthAnswer, AuthRequest
from unified_auth.core.plugin_manager import Hooks
from unified_auth.errors import AuthFailed, PluginError
from unified_auth.model import Target

__all__ = ["EXPLAINED_STATUSES", "Authoriser", "replayable"]

log = logging.getLogger("unified_auth")

EXPLAINED_STATUSES = frozenset({403, 404})
"""Answers whose provider explanation is logged (once per target and status)."""

MAX_EXPLAINED_BODY = 64 * 1024
"""Bytes of an error answer read for a plugin's explanation; an API's refusal is small."""


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def replayable(body: object) -> bool:
    """Whether a request body can be sent a second time: none, bytes or a string."""
    return body is None or isinstance(body, bytes | str)


class Authoriser:
    """The per-request plugin calls, shared by every client."""

    def __init__(self, broker: Broker, hooks: Hooks, clock: Clock) -> None:
        self.broker = broker
        self.hooks = hooks
        self.clock = clock
        # Target name -> (the lease, its headers): one entry per target, replaced when the
        # lease is, and read without a lock (a dict item is replaced atomically).
        self._headers: dict[str, tuple[Lease, Mapping[str, str] | None]] = {}
        self._explained: set[tuple[str, int]] = set()
        self._explained_lock = threading.Lock()

    def headers_for(self, lease: Lease) -> Mapping[str, str] | None:
        """The headers ``lease`` puts on every request, or ``None`` when its plugin signs
        each request itself (then :meth:`apply` is called per request)."""
        known = self._headers.get(lease.target.name)
        if known is not None and known[0] is lease:
            return known[1]
        headers = self.hooks.auth_headers(lease.target, lease.credentials)
        if headers is not None:
            headers = self._checked(lease.target, dict(headers))
        self._headers[lease.target.name] = (lease, headers)
        return headers

    def _checked(self, target: Target, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not (isinstance(name, str) and _HEADER_NAME.fullmatch(name)):
                problem = "a header name that is not a token"
            elif not (isinstance(value, str) and _HEADER_VALUE.fullmatch(value)):
                problem = f"a {name} value with a line break or control character"
            else:
                continue
            plugin = self.hooks.owner(target.provider) or target.provider
            raise PluginError(f"target {target.name}: plugin {plugin!r} returned auth headers "
                              f"that cannot be sent: {problem} (not shown)", plugin=plugin)
        return headers

    def apply(self, lease: Lease, request: AuthRequest) -> None:
        """Let the owning plugin put ``lease`` on ``request`` (which it mutates)."""
        headers = self.headers_for(lease)
        if headers is not None:
            request.headers.update(headers)
            return
        applied = self.hooks.apply_auth(lease.target, lease.credentials, request, self._now)
        if not applied:
            target = lease.target
            raise PluginError(
                f"target {target.name}: no plugin applied credentials for provider "
                f"{target.provider!r}", plugin=self.hooks.owner(target.provider) or
                target.provider)

    def _now(self) -> datetime:
        # Handed over uncalled: a datetime is made only for a plugin that takes ``now``.
        return to_datetime(self.clock())

    def failed(self, target: Target, answer: AuthAnswer) -> AuthFailed:
        """The error for a 401 to the retry, with the owning plugin's explanation of it.

        The driver attaches its own response and request objects to the error.
        """
        host = urlsplit(answer.url).hostname or "the API"
        explanation = self.hooks.explain_response(target, answer) or (
            "check that the secret at its source is current and that these credentials may "
            "use this API")
        # Not "after fresh credentials were fetched": within the 401 back-off the broker
        # keeps the credentials a 401 refetched moments ago, and the retry carries those.
        return AuthFailed(
            f"target {target.name}: {host} answered 401 Unauthorized again when the request "
            f"was retried once with the target's current credentials. {explanation}",
            target=target.name)

    def explain(self, target: Target, answer: AuthAnswer) -> None:
        """Log the owning plugin's explanation of a 403/404 once per target and status."""
        if answer.status_code not in EXPLAINED_STATUSES:
            return
        explanation = self.hooks.explain_response(target, answer)
        if explanation and self.first_explanation(target, answer.status_code):
            log.warning("target %s: %s %s: %s", target.name, answer.status_code,
                        answer.reason, explanation)

    def first_explanation(self, target: Target, status: int) -> bool:
        """Whether ``target``'s explanation of a ``status`` answer is news (log it once)."""
        with self._explained_lock:
            seen = (target.name, status) in self._explained
            self._explained.add((target.name, status))
        return not seen
