"""What the broker needs of a cache, and what a shared store needs to offer the layered cache."""

from __future__ import annotations

import contextlib
import math
from typing import Protocol

import attrs

from unified_auth.model import Credentials, Secret

__all__ = ["CachedCredentials", "CredentialCache", "SharedStore", "StoreUnavailable"]


@attrs.frozen
class CachedCredentials:
    """Credentials and when their fetch began (the start of their lifetime)."""

    credentials: Credentials
    obtained_at: float

    @property
    def expires_ts(self) -> float:
        expires_at = self.credentials.expires_at
        return math.inf if expires_at is None else expires_at.timestamp()


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
        """The cross-process fetch lock for ``key``; yields whether the caller may fetch."""

    def close(self) -> None:
        """Release connections."""
