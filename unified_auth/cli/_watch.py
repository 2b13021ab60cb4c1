"""What the demo counts, per target: requests, 401s, credential fetches, proactive refreshes.

:class:`Watcher` is at once a plugin (a wrapper around ``get_credentials``, which sees every
fetch any plugin makes) and a ``response`` hook for the demo's sessions. It sees no more
than any plugin could, and keeps no secret: only counts and times.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Generator
from datetime import datetime
from typing import Any

import attrs
import requests

from unified_auth import Credentials, Target, hookimpl
from unified_auth.errors import AuthFailed, CredentialsRejected

__all__ = ["Tally", "Watcher"]


@attrs.define
class Tally:
    """One target's counts."""

    requests: int = 0
    unauthorized: int = 0
    """401 answers, including the ones the core retried."""
    fetches: int = 0
    """Credentials obtained from the provider."""
    rejected_fetches: int = 0
    """Fetches the provider refused (CredentialsRejected), e.g. with a rotated-out secret."""
    proactive: int = 0
    """Fetches made while the previous credentials were still valid (renewed before expiry)."""
    last_margin: float | None = None
    """Seconds the previous credentials had left at the last proactive refresh."""


class Watcher:
    """Counts per target; register it as a plugin of one hub and :meth:`watch` its sessions.

    One watcher per hub: it tells a refresh from a first fetch by the credentials it saw
    last for the target, and two hubs each have their own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # The requests a plugin authenticated, and for which target: a response carries
        # the very request object that was sent.
        self._sent: weakref.WeakKeyDictionary[requests.PreparedRequest, str] = \
            weakref.WeakKeyDictionary()
        self._tallies: dict[str, Tally] = {}
        self._current: dict[str, Credentials] = {}

    def tally(self, target: str) -> Tally:
        """A copy of ``target``'s counts."""
        with self._lock:
            return attrs.evolve(self._tallies.get(target, Tally()))

    @hookimpl(wrapper=True)
    def get_credentials(self, target: Target, now: datetime) -> Generator[None, Any, Any]:
        try:
            credentials = yield
        except CredentialsRejected:
            with self._lock:
                self._tally(target.name).rejected_fetches += 1
            raise
        if isinstance(credentials, Credentials):
            self._fetched(target.name, credentials, now)
        return credentials

    @hookimpl(wrapper=True)
    def apply_auth(self, target: Target,
                   request: requests.PreparedRequest) -> Generator[None, Any, Any]:
        applied = yield
        if applied:
            with self._lock:
                self._sent[request] = target.name
        return applied

    def watch(self, session: requests.Session) -> requests.Session:
        """Count ``session``'s answers; returns it."""
        session.hooks["response"].append(self.on_response)
        return session

    def on_response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """A ``response`` hook: counts the answer and those the core retried before it."""
        with self._lock:
            for answer in [*response.history, response]:
                target = self._sent.get(answer.request)
                if target is not None:
                    tally = self._tally(target)
                    tally.requests += 1
                    tally.unauthorized += answer.status_code == 401
        return response

    def absorb(self, other: Watcher) -> None:
        """Add ``other``'s counts (another hub's) to this one's."""
        with other._lock:
            theirs = {name: attrs.evolve(t) for name, t in other._tallies.items()}
        with self._lock:
            for name, their in theirs.items():
                mine = self._tally(name)
                for field in ("requests", "unauthorized", "fetches", "rejected_fetches",
                              "proactive"):
                    setattr(mine, field, getattr(mine, field) + getattr(their, field))

    def failed(self, exc: AuthFailed) -> None:
        """Count a request that ended in :class:`AuthFailed`: a 401, a retry, a 401 again."""
        if exc.target is not None:
            with self._lock:
                tally = self._tally(exc.target)
                tally.requests += 2
                tally.unauthorized += 2

    def _fetched(self, name: str, credentials: Credentials, now: datetime) -> None:
        with self._lock:
            tally = self._tally(name)
            tally.fetches += 1
            previous = self._current.get(name)
            self._current[name] = credentials
            if previous is not None and previous.expires_at is not None \
                    and now < previous.expires_at:
                tally.proactive += 1
                tally.last_margin = (previous.expires_at - now).total_seconds()

    def _tally(self, name: str) -> Tally:
        return self._tallies.setdefault(name, Tally())
