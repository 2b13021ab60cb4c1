"""A shared store under the memory cache: memory first, and the store when it works.

The broker reads its own lease on the per-request path; this cache is asked only on the
slow path (a fetch, a refresh, a 401), so the store's disk or network I/O never reaches a
request that has valid credentials. When the store fails, this process goes on with its
memory cache: one warning, then a new attempt every ``retry_interval`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from unified_auth.cache.memory import MemoryCache
from unified_auth.cache.protocol import CachedCredentials, SharedStore, StoreUnavailable
from unified_auth.core.clock import Clock
from unified_auth.model import Secret

__all__ = ["LayeredCache"]

log = logging.getLogger("unified_auth")

RETRY_INTERVAL = 30.0


class LayeredCache:
    """:class:`MemoryCache` first, a :class:`SharedStore` second; see the module docstring."""

    shared = True

    def __init__(self, store: SharedStore, clock: Clock, *,
                 retry_interval: float = RETRY_INTERVAL) -> None:
        self.store = store
        self.memory = MemoryCache(clock)
        self._clock = clock
        self._retry_interval = retry_interval
        self._state = threading.Lock()
        self._down_until: float | None = None

    @property
    def degraded(self) -> bool:
        """Whether the store failed and this process is on its memory cache for now."""
        return self._down_until is not None

    def get(self, key: str) -> CachedCredentials | None:
        entry = self.memory.get(key)
        if not self._usable():
            return entry
        try:
            shared = self.store.load(key, self._clock())
        except StoreUnavailable as exc:
            self._failed(exc)
            return entry
        self._recovered()
        # The store is where other processes put their refreshes: a newer entry there wins.
        if shared is not None and (entry is None or shared.obtained_at > entry.obtained_at):
            self.memory.put(key, shared)
            return shared
        return entry

    def put(self, key: str, entry: CachedCredentials) -> None:
        self.memory.put(key, entry)
        if self._usable():
            try:
                self.store.store(key, entry, self._clock())
            except StoreUnavailable as exc:
                self._failed(exc)
            else:
                self._recovered()

    def discard(self, key: str, value: Secret) -> None:
        self.memory.discard(key, value)
        if self._usable():
            try:
                self.store.discard(key, value)
            except StoreUnavailable as exc:
                self._failed(exc)

    @contextlib.contextmanager
    def fetch_lock(self, key: str, *, wait: bool = True) -> Iterator[bool]:
        if not self._usable():
            yield True  # this process alone: the broker's single flight is enough
            return
        lock = self.store.lock(key, wait=wait)
        try:
            proceed = lock.__enter__()
        except StoreUnavailable as exc:
            self._failed(exc)
            yield True
            return
        try:
            yield proceed
        finally:
            try:
                lock.__exit__(None, None, None)
            except StoreUnavailable as exc:
                self._failed(exc)

    def close(self) -> None:
        self.memory.close()
        self.store.close()

    def _usable(self) -> bool:
        down_until = self._down_until
        return down_until is None or self._clock() >= down_until

    def _failed(self, exc: StoreUnavailable) -> None:
        with self._state:
            first = self._down_until is None
            self._down_until = self._clock() + self._retry_interval
        if first:
            log.warning("the shared credential cache (%s) is unavailable: %s; this process "
                        "keeps its credentials in memory and tries the cache again every "
                        "%.0f s", self.store.description, exc, self._retry_interval)

    def _recovered(self) -> None:
        if self._down_until is None:
            return
        with self._state:
            was_down, self._down_until = self._down_until is not None, None
        if was_down:
            log.info("the shared credential cache (%s) works again", self.store.description)
