"""Where fetched credentials are kept between uses.

The broker talks to a :class:`CredentialCache` on its slow path only (never per request).
Keys are ``target-name:fingerprint``, the fingerprint a digest of the target's resolved
options: a rotated secret gets a new key, and no secret is ever part of a key. The memory
cache lives in this process; shared caches (file, Redis) implement the same protocol and
add a cross-process fetch lock, so N processes cause one fetch.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Protocol

import attrs
import cachetools

from unified_auth.clock import Clock
from unified_auth.model import Credentials, Secret

__all__ = ["CachedCredentials", "CredentialCache", "MemoryCache"]


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

    def fetch_lock(self, key: str) -> contextlib.AbstractContextManager[None]:
        """Held around a fetch, so one process fetches while the others wait and re-read."""

    def close(self) -> None:
        """Release connections and files."""


class MemoryCache:
    """This process's cache: a bounded cachetools TLRU, each entry living until it expires."""

    shared = False

    def __init__(self, clock: Clock, maxsize: int = 4096) -> None:
        self._entries: cachetools.TLRUCache[str, CachedCredentials] = cachetools.TLRUCache(
            maxsize=maxsize, ttu=_expiry, timer=clock)
        self._lock = threading.Lock()

    def get(self, key: str) -> CachedCredentials | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, entry: CachedCredentials) -> None:
        with self._lock:
            self._entries[key] = entry

    def discard(self, key: str, value: Secret) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.credentials.value == value:
                del self._entries[key]

    @contextlib.contextmanager
    def fetch_lock(self, key: str) -> Iterator[None]:
        # In one process the broker's own single flight already serialises fetches.
        yield

    def close(self) -> None:
        with self._lock:
            self._entries.clear()


def _expiry(_key: str, entry: CachedCredentials, _now: float) -> float:
    return entry.expires_ts
