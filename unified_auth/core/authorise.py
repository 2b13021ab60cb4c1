"""The one authorisation decision every entry point shares, whatever the HTTP library.

The session's adapter, ``ua.auth(name)`` (and the httpx clients) ask the same questions, and
a copy of the answer written per entry point drifts: a drifted copy once sent credentials to
a foreign host. So the answers live here, once:

1. **Whose request is this?** ``router.match(url)`` on the URL as it goes on the wire (see
   :mod:`unified_auth.core.routing`). A request no target owns is sent exactly as the caller
   made it.
2. **What is sent?** :meth:`Authoriser.authorised_copy`: the owning plugin applies the
   target's lease to a *copy* of the request; the caller's request object, which an HTTP
   library re-sends when it follows a redirect, never carries credentials.
3. **What does an answer mean?** :meth:`Authoriser.verdict`, from the target the answer's
   URL belongs to, the lease the request carried and the status: a 401 to a request that
   carried credentials drops exactly that lease; a replayable request is retried once with
   fresh credentials; a 401 to that retry is final. An answer from a URL of another target
   (or of none) is never handled: the caller gets it as it is.

Only :meth:`Authoriser.apply` touches a request object (the ``apply_auth`` hook takes a
:class:`requests.PreparedRequest`); everything else takes URLs, statuses and leases, so an
httpx transport calls the same functions, with thin wrappers for its own types.
"""

from __future__ import annotations

import enum
import logging
import threading
from datetime import datetime
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from unified_auth.core.broker import Broker, Lease
from unified_auth.core.clock import Clock, to_datetime
from unified_auth.core.plugin_manager import Hooks
from unified_auth.errors import AuthFailed, PluginError
from unified_auth.model import Target

__all__ = ["EXPLAINED_STATUSES", "Authoriser", "Verdict", "copy_for_auth", "copy_headers",
           "replayable"]

log = logging.getLogger("unified_auth")

EXPLAINED_STATUSES = frozenset({403, 404})
"""Answers whose provider explanation is logged (once per target and status)."""


class Verdict(enum.Enum):
    """What to do with an answer from a target's URL (see :meth:`Authoriser.verdict`)."""

    KEEP = "keep"
    """The answer stands: hand it to the caller."""
    RETRY = "retry"
    """Send the request once more, with the target's fresh credentials on a new copy."""
    NOT_REPLAYABLE = "not_replayable"
    """A 401 whose request body cannot be sent again: hand the 401 to the caller."""
    FAILED = "failed"
    """A 401 to the retry with fresh credentials: raise :class:`AuthFailed`."""


def copy_headers(headers: CaseInsensitiveDict[str]) -> CaseInsensitiveDict[str]:
    """``headers.copy()`` in one step: requests' own copy re-inserts them one by one."""
    if type(headers) is not CaseInsensitiveDict:
        return headers.copy()
    copied: CaseInsensitiveDict[str] = object.__new__(CaseInsensitiveDict)
    copied._store = headers._store.copy()  # type: ignore[attr-defined]
    return copied


def copy_for_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """A copy of ``request`` that owns what auth changes: its headers.

    ``PreparedRequest.copy()`` also rebuilds the cookie jar and the headers key by key,
    several microseconds per request. A plugin sets headers (a signer reads the body; one
    that rewrites it assigns a new body to the copy), so the copy gets headers of its own
    and shares the rest, as ``copy()`` already shares the body and the hooks. The cookie
    jar is shared too: it became the ``Cookie`` header when the request was prepared, and
    sending does not touch it.
    """
    if type(request) is not requests.PreparedRequest or request.headers is None:
        return request.copy()
    attributes = vars(request).copy()
    attributes["headers"] = copy_headers(request.headers)
    copy: requests.PreparedRequest = object.__new__(requests.PreparedRequest)
    copy.__dict__ = attributes
    return copy


def replayable(body: object) -> bool:
    """Whether a request body can be sent a second time: none, bytes or a string."""
    return body is None or isinstance(body, bytes | str)


class Authoriser:
    """Leases, applying them, and the verdict on an answer; shared by every entry point."""

    def __init__(self, broker: Broker, hooks: Hooks, clock: Clock) -> None:
        self.broker = broker
        self.hooks = hooks
        self.clock = clock
        self._explained: set[tuple[str, int]] = set()
        self._explained_lock = threading.Lock()

    def lease(self, target: Target) -> Lease:
        """The target's current lease (fetched or refreshed by the broker as needed)."""
        return self.broker.lease(target)

    def apply(self, lease: Lease, request: requests.PreparedRequest) -> None:
        """Let the owning plugin put ``lease`` on ``request`` (which it mutates)."""
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

    def authorised_copy(self, lease: Lease,
                        request: requests.PreparedRequest) -> requests.PreparedRequest:
        """A copy of ``request`` carrying ``lease``; ``request`` itself is left as it was."""
        prepared = copy_for_auth(request)
        self.apply(lease, prepared)
        return prepared

    def verdict(self, target: Target, sent: Lease | None, status: int, *, retry: bool,
                can_replay: bool) -> Verdict:
        """Judge an answer from a URL that ``target`` owns; drops the lease a 401 refused.

        :param target: the target that owns the URL the answer came from. The caller checks
            this (``router.match``): an answer from anywhere else is not judged at all.
        :param sent: the lease the request carried, or ``None`` if it carried none (a
            redirected copy ``ua.auth()`` could not authorise before it was sent).
        :param status: the answer's HTTP status.
        :param retry: whether the request was already the retry with fresh credentials.
        :param can_replay: whether the request's body can be sent again (:func:`replayable`).
        :returns: what the caller does next; only a 401 is ever anything but ``KEEP``.
        """
        if status != 401:
            return Verdict.KEEP
        if sent is not None:
            # Exactly the lease that was refused: a newer one another thread fetched stays.
            self.broker.invalidate(sent)
        if retry:
            return Verdict.FAILED
        if not can_replay:
            log.info("target %s: 401 on a request whose body cannot be sent again; it is not "
                     "retried%s", target.name,
                     "" if sent is None else " (the credentials it carried were dropped)")
            return Verdict.NOT_REPLAYABLE
        return Verdict.RETRY

    def failed(self, target: Target, response: requests.Response) -> AuthFailed:
        """The error for a 401 to the retry, with the owning plugin's explanation of it."""
        host = urlsplit(response.url).hostname or "the API"
        explanation = self.hooks.explain_response(target, response) or (
            "check that the secret at its source is current and that these credentials may "
            "use this API")
        # Not "after fresh credentials were fetched": within the 401 back-off the broker
        # keeps the credentials a 401 refetched moments ago, and the retry carries those.
        return AuthFailed(
            f"target {target.name}: {host} answered 401 Unauthorized again when the request "
            f"was retried once with the target's current credentials. {explanation}",
            target=target.name, response=response, request=response.request)

    def explain(self, target: Target, response: requests.Response) -> None:
        """Log the owning plugin's explanation of a 403/404 once per target and status."""
        if response.status_code not in EXPLAINED_STATUSES:
            return
        explanation = self.hooks.explain_response(target, response)
        if explanation and self.first_explanation(target, response.status_code):
            log.warning("target %s: %s %s: %s", target.name, response.status_code,
                        response.reason, explanation)

    def first_explanation(self, target: Target, status: int) -> bool:
        """Whether ``target``'s explanation of a ``status`` answer is news (log it once)."""
        with self._explained_lock:
            seen = (target.name, status) in self._explained
            self._explained.add((target.name, status))
        return not seen
