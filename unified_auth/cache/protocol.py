"""What the broker needs of a cache, and what a shared store needs to offer the layered cache."""

from __future__ import annotations

import contextlib
import math
from typing import Protocol

import attrs

from unified_auth.config.secret_sources import COMMAND_TIMEOUT
from unified_auth.core.token_session import RetryPolicy
from unified_auth.model import Credentials, Secret

__all__ = [
    "HOLD_LIMIT",
    "CachedCredentials",
    "CredentialCache",
    "SharedStore",
    "StoreUnavailable",
    "StoredEntry",
    "hold_limit",
]

def hold_limit(retry: RetryPolicy) -> float:
    """The longest a fetch under ``retry`` may hold a shared cache's lock: the broker's own
    bound on one fetch (two deadlines, and a secret command's timeout)."""
    return 2 * retry.fetch_deadline + COMMAND_TIMEOUT


HOLD_LIMIT = hold_limit(RetryPolicy())
"""Seconds a live process may hold a fetch lock (and the others wait for it): as long as the
broker waits for a fetch in its own process (its secrets read, its tries and pauses). A
holder still at it after that is stuck; the others then fetch themselves."""


@attrs.frozen
class CachedCredentials:
    """Credentials and when their fetch began (the start of their lifetime)."""

    credentials: Credentials
    obtained_at: float

    @property
    def expires_ts(self) -> float:
        expires_at = self.credentials.expires_at
        return math.inf if expires_at is None else expires_at.timestamp()


@attrs.frozen
class StoredEntry:
    """What ``cache list`` shows of one entry in a shared store: never the token."""

    key: str | None
    """The cache key (``target:fingerprint``, maybe ``!record``), ``None`` if unknown."""
    expires_ts: float | None = None
    """When the entry stops being served (``inf``: never), ``None`` if it is not valid."""
    obtained_at: float | None = None
    problem: str | None = None
    """Why the entry is not valid (corrupt, not a regular file), without its content."""

    @property
    def target(self) -> str | None:
        """The target the entry is for, as its key names it."""
        if self.key is None:
            return None
        name, colon, _ = self.key.partition("!")[0].rpartition(":")
        return name if colon else None

    @property
    def record(self) -> str:
        """``credentials``, or the kind of record the broker keeps beside them (``failed``)."""
        return (self.key or "").partition("!")[2] or "credentials"


class CredentialCache(Protocol):
    """What the broker needs of a cache."""

    shared: bool
    """Whether other processes see this cache: static credentials are not written to it."""

    def get(self, key: str) -> CachedCredentials | None:
        """The unexpired credentials stored under ``key``, if any."""

    def put(self, key: str, entry: CachedCredentials) -> None:
        """Store ``entry`` under ``key`` until its credentials expire."""

    def discard(self, key: str, value: Secret) -> None:
        """Drop the entry under ``key`` only if it still holds ``value`` (after a 401)."""

    def fetch_lock(self, key: str, *,
                   wait: bool = True) -> contextlib.AbstractContextManager[bool | None]:
        """Held around a fetch, so one process fetches while the others wait and re-read.

        With ``wait=False`` (a background refresh) it yields ``False`` at once when another
        process holds the lock: the caller skips its fetch. Otherwise it yields a true value
        (or ``None``) once the caller may fetch, after a bounded wait.
        """

    def close(self) -> None:
        """Release connections and files."""


class StoreUnavailable(Exception):
    """A shared store failed (I/O error, Redis down or slow): the layered cache falls back.

    The message says what failed in words fit for a log: names and error kinds, never a
    value read from the store.
    """


class SharedStore(Protocol):
    """A cache other processes see (a directory, a Redis server), below the memory cache.

    Every method may raise :class:`StoreUnavailable`; anything it reads that is not a valid
    entry is treated as absent (a store logs that once itself).
    """

    description: str
    """Where the entries live, for log lines: ``file cache /path``, ``Redis at host:port``."""

    def load(self, key: str, now: float) -> CachedCredentials | None:
        """The entry under ``key`` if there is a valid, unexpired one."""

    def store(self, key: str, entry: CachedCredentials, now: float) -> None:
        """Write ``entry``, to live as long as its credentials (``expires_ts - now``)."""

    def discard(self, key: str, value: Secret) -> None:
        """Delete the entry under ``key`` if it still holds ``value`` (compare-and-delete)."""

    def lock(self, key: str, *, wait: bool) -> contextlib.AbstractContextManager[bool]:
        """The cross-process fetch lock for ``key``; yields whether the caller may fetch.

        Held for as long as its holder fetches (up to :data:`HOLD_LIMIT`); a waiter waits
        that long at most, then re-reads the store.
        """

    def entries(self, now: float) -> list[StoredEntry]:
        """Every entry of this application in the store, valid or not (a bounded number)."""

    def clear(self, target: str | None, now: float) -> int:
        """Delete the entries of ``target`` (every entry if ``None``) and prune stale ones.

        :returns: how many entries were deleted.
        """

    def prune(self, now: float) -> int:
        """Delete expired and invalid entries and unused lock files; how many went."""

    def close(self) -> None:
        """Release connections."""
