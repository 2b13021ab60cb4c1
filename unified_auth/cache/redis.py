"""The ``redis`` store: entries shared by every process on every machine that uses one Redis.

- An entry lives as long as its token (``PX`` = the remaining lifetime).
- Single flight across machines: a short-lived lock key (``SET NX PX``, redis-py's
  :class:`redis.lock.Lock`), released only by its owner through a compare-and-delete
  script. While its holder fetches, a watchdog thread renews it every third of
  ``lock_timeout`` (``Lock.reacquire``), so a token endpoint slower than ``lock_timeout``
  still causes one fetch for the fleet, and a crashed holder blocks the others for at most
  ``lock_timeout`` seconds. Renewal stops after ``hold_limit`` (a stuck holder); the
  watchdog is :mod:`unified_auth.cache.redis_renewal`. Waiters poll with jittered backoff
  for as long as a live holder may hold it, then re-read (the broker does, once it holds
  the lock).
- Entries are untrusted input: decoded with the checks fresh credentials get (a value that
  is not a string, or a key of another type, is a corrupt entry too).
- A 401 deletes the entry only if it still holds the rejected token (a Lua script).
- Every call has a socket timeout and no automatic retry: a failure becomes
  :class:`StoreUnavailable` at once, and the layered cache carries on in memory.
- The connection is made at first use, with the password from its secret reference.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from unified_auth.cache.codec import CorruptEntry, decode_keyed, encode
from unified_auth.cache.protocol import (
    HOLD_LIMIT,
    CachedCredentials,
    StoredEntry,
    StoreUnavailable,
)
from unified_auth.cache.redis_renewal import LockRenewal
from unified_auth.errors import UnifiedAuthError
from unified_auth.model import Secret

__all__ = ["RedisStore"]

log = logging.getLogger("unified_auth")

_DISCARD_IF_HOLDS = """
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local ok, entry = pcall(cjson.decode, stored)
if ok and type(entry) == 'table' and entry['value'] == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
_POLL_FIRST, _POLL_MAX = 0.01, 0.2
_MAX_KEYS = 10_000  # a listing or a clear looks at no more keys than this
_LOCKS = "lock:"
_WRONG_TYPE = object()  # what _get gives for a key that holds a list, a hash...


class RedisStore:
    """Entries in Redis under ``key_prefix``; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        password: Callable[[], Secret] | None = None,
        key_prefix: str = "unified-auth:",
        timeout: float = 2.0,
        lock_timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        hold_limit: float = HOLD_LIMIT,
    ) -> None:
        parts = urlsplit(url)
        self.description = f"Redis at {parts.hostname}:{parts.port or 6379}{parts.path or ''}"
        self.key_prefix = key_prefix
        self.timeout = timeout
        self.lock_timeout = lock_timeout
        self.hold_limit = hold_limit
        self._url = url
        self._password = password
        self._sleep = sleep
        self._client: Any = None
        self._discard_script: Any = None
        self._connect_lock = threading.Lock()
        self._warned: set[str] = set()

    def load(self, key: str, now: float) -> CachedCredentials | None:
        data = self._call(lambda client: _get(client, self.key_prefix + key))
        if data is None:
            return None
        try:
            _, entry = decode_keyed(data)
        except CorruptEntry as exc:
            if key not in self._warned:
                self._warned.add(key)
                log.warning("%s: the entry for %s is not valid (%s); ignoring it, the next "
                            "token fetch overwrites it", self.description, key, exc)
            return None
        return entry if entry.expires_ts > now else None

    def store(self, key: str, entry: CachedCredentials, now: float) -> None:
        remaining = int((entry.expires_ts - now) * 1000)
        if remaining <= 0:
            return
        data = encode(entry, key)
        self._call(lambda client: client.set(self.key_prefix + key, data, px=remaining))
        self._warned.discard(key)

    def discard(self, key: str, value: Secret) -> None:
        self._call(lambda client: self._discard_script(
            keys=[self.key_prefix + key], args=[value.reveal()], client=client))

    @contextlib.contextmanager
    def lock(self, key: str, *, wait: bool) -> Iterator[bool]:
        import redis.lock  # noqa: PLC0415 - the optional dependency, loaded with the store

        client = self._connected()
        lock = redis.lock.Lock(client, self.key_prefix + _LOCKS + key,
                               timeout=self.lock_timeout, thread_local=False,
                               raise_on_release_error=False)
        acquired = self._acquire(lock, self.key_prefix + key, wait=wait)
        if acquired is None:
            yield True  # another process stored an entry meanwhile: the caller reads it
            return
        if not acquired and not wait:
            yield False
            return
        if not acquired:
            log.warning("%s: waited %.0f s for another process's token fetch; fetching "
                        "here too", self.description, self.hold_limit + self.lock_timeout)
            yield True
            return
        watchdog = LockRenewal(lock, description=self.description,
                               lock_timeout=self.lock_timeout, hold_limit=self.hold_limit,
                               call_timeout=self.timeout, reason=_reason)
        watchdog.start()
        try:
            yield True
        finally:
            watchdog.stop()
            # Lock.release runs the owner-only compare-and-delete script.
            self._call(lambda _client: lock.release())

    def entries(self, now: float) -> list[StoredEntry]:
        found = []
        for name in self._keys():
            data = self._call(functools.partial(_get, name=name))
            if data is None:
                continue  # expired since the scan
            try:
                key, entry = decode_keyed(data)
            except CorruptEntry as exc:
                found.append(StoredEntry(name[len(self.key_prefix):],
                                         problem=f"not a valid cache entry ({exc})"))
                continue
            found.append(StoredEntry(key or name[len(self.key_prefix):], entry.expires_ts,
                                     entry.obtained_at))
        return found

    def clear(self, target: str | None, now: float) -> int:
        doomed = [name for name in self._keys()
                  if target is None or StoredEntry(name[len(self.key_prefix):]).target == target]
        removed = 0
        for start in range(0, len(doomed), 500):
            batch = doomed[start:start + 500]
            removed += int(self._call(functools.partial(_delete, names=batch)))
        return removed

    def prune(self, now: float) -> int:
        return 0  # every entry and lock key has a TTL: Redis prunes them itself

    def _keys(self) -> list[str]:
        """The entry keys under this store's prefix (never the lock keys), at most a bound."""
        pattern = _glob_escape(self.key_prefix) + "*"
        locks = self.key_prefix + _LOCKS

        def scan(client: Any) -> list[str]:
            names = []
            for raw in client.scan_iter(match=pattern, count=500):
                name = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
                # "lock:" + "target:digest": a target named "lock" has one colon less.
                if name.startswith(locks) and name[len(locks):].count(":") >= 1:
                    continue
                names.append(name)
                if len(names) >= _MAX_KEYS:
                    break
            return names

        return list(self._call(scan))

    def close(self) -> None:
        with self._connect_lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def _acquire(self, lock: Any, entry_key: str, *, wait: bool) -> bool | None:
        """Whether the lock was taken; ``None`` if the entry changed while waiting for it."""
        # A live holder renews the lock for up to hold_limit; a dead one's key is gone
        # lock_timeout after its last renewal.
        deadline = time.monotonic() + self.hold_limit + self.lock_timeout + _POLL_MAX
        pause = _POLL_FIRST
        before: Any = None
        while True:
            if self._call(lambda _client: lock.acquire(blocking=False)):
                return True
            if not wait or time.monotonic() >= deadline:
                return False
            if before is None:
                before = self._call(lambda client: client.get(entry_key)) or b""
            self._sleep(random.uniform(pause / 2, pause))  # noqa: S311 # nosec B311 # jitter
            pause = min(_POLL_MAX, pause * 2)
            # Re-read while waiting: the holder's token is all a waiter is waiting for.
            if (self._call(lambda client: client.get(entry_key)) or b"") != before:
                return None

    def _call(self, operation: Callable[[Any], Any]) -> Any:
        import redis  # noqa: PLC0415

        client = self._connected()
        try:
            return operation(client)
        except (redis.RedisError, OSError) as exc:
            raise StoreUnavailable(_reason(exc)) from None

    def _connected(self) -> Any:
        with self._connect_lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> Any:
        import redis  # noqa: PLC0415
        from redis.backoff import NoBackoff  # noqa: PLC0415
        from redis.retry import Retry  # noqa: PLC0415

        try:
            password = self._password() if self._password is not None else None
        except UnifiedAuthError as exc:
            raise StoreUnavailable(f"its password cannot be resolved: {exc}") from None
        try:
            client = redis.Redis.from_url(
                self._url,
                password=password.reveal() if password is not None else None,
                socket_timeout=self.timeout, socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0), health_check_interval=0,
            )
        except (ValueError, redis.RedisError) as exc:
            raise StoreUnavailable(_reason(exc)) from None
        self._discard_script = client.register_script(_DISCARD_IF_HOLDS)
        return client


def _get(client: Any, name: str) -> Any:
    """The value under ``name``; a key of another type is a corrupt entry, not a failure."""
    import redis  # noqa: PLC0415

    try:
        return client.get(name)
    except redis.ResponseError as exc:
        if str(exc).startswith("WRONGTYPE"):
            return _WRONG_TYPE
        raise


def _delete(client: Any, names: list[str]) -> Any:
    return client.delete(*names)


def _glob_escape(text: str) -> str:
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)


def _reason(exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
