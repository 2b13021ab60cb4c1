"""This process's cache: a bounded cachetools TLRU, each entry living until it expires."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import cachetools

from unified_auth.cache.protocol import CachedCredentials
from unified_auth.core.clock import Clock
from unified_auth.model import Secret

__all__ = ["MemoryCache"]


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
    def fetch_lock(self, key: str, *, wait: bool = True) -> Iterator[bool]:
        # In one process the broker's own single flight already serialises fetches.
        yield True

    def close(self) -> None:
        with self._lock:
            self._entries.clear()


def _expiry(_key: str, entry: CachedCredentials, _now: float) -> float:
    return entry.expires_ts
