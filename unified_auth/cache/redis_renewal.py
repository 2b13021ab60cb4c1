"""The ``redis`` store's watchdog: a thread that keeps a fetch's lock key alive.

A lock key lives ``lock_timeout`` seconds, so that a crashed holder blocks the others no
longer than that; a live holder's fetch may take longer (a slow token endpoint). While the
fetch runs, this thread renews the key every third of ``lock_timeout`` (redis-py's
``Lock.reacquire``), and stops after ``hold_limit``: a holder still fetching then is stuck,
and the others may fetch too. The store (:mod:`unified_auth.cache.redis`) starts it once it
holds the lock and stops it before releasing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["LockRenewal"]

log = logging.getLogger("unified_auth")


class LockRenewal:
    """Renews a held lock every third of its lifetime until stopped (or ``hold_limit``).

    :param lock: a held :class:`redis.lock.Lock`.
    :param description: the store, for messages (``"Redis at host:6379"``).
    :param call_timeout: the socket timeout of one Redis call, which bounds ``stop``.
    :param reason: a failure of a Redis call, in one line for a message.
    """

    def __init__(self, lock: Any, *, description: str, lock_timeout: float,
                 hold_limit: float, call_timeout: float,
                 reason: Callable[[BaseException], str]) -> None:
        self._lock = lock
        self._description = description
        self._lock_timeout = lock_timeout
        self._hold_limit = hold_limit
        self._call_timeout = call_timeout
        self._reason = reason
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="unified-auth-lock-renewal",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        # Bounded: a renewal in flight ends within the socket timeout.
        self._thread.join(timeout=self._call_timeout + 1)

    def _run(self) -> None:
        import redis  # noqa: PLC0415 - the optional dependency, loaded with the store

        interval = max(self._lock_timeout / 3, 0.02)
        until = time.monotonic() + self._hold_limit
        while not self._stopped.wait(interval):
            if time.monotonic() >= until:
                log.warning("%s: a token fetch has held its lock for %.0f s; no longer "
                            "renewing it, so other processes may fetch too",
                            self._description, self._hold_limit)
                return
            try:
                self._lock.reacquire()
            except redis.exceptions.LockNotOwnedError:
                log.warning("%s: the lock of a token fetch expired before it was renewed "
                            "(lock_timeout %g s is too short for this server?); another "
                            "process may fetch too", self._description, self._lock_timeout)
                return
            except (redis.RedisError, OSError) as exc:
                log.debug("%s: renewing a fetch lock failed: %s", self._description,
                          self._reason(exc))
