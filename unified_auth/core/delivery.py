"""Events to the ``credentials_event`` observers, from a thread of their own.

The broker sees a moment (a fetch, a 401) in whatever thread lives it, often a request's.
Calling the observers there would make every request wait for the slowest of them (a
blocking metrics export, a slow log handler), so the broker only hands the event to
:class:`EventDelivery`: an append to a bounded queue under a lock held for nothing else.
One daemon thread per hub takes the events in the order they came, so each target's
arrive in order, and calls the observers one after the other. When the queue is full (an
observer fell behind by :data:`CAPACITY` events) an event is dropped and counted for its
target (``ua.stats(name).dropped_events``) instead of waiting for room.

No thread runs for a hub without observers, and the thread is started at the first event
and ends after :data:`IDLE` seconds without one, so a hub nobody closes leaves no thread
behind for long; a forked child starts its own. :meth:`EventDelivery.flush` waits, with a
bound, until the events handed over so far were delivered: for tests, and for
:meth:`unified_auth.UnifiedAuth.close` and the interpreter's exit, which flush what is
pending within a bound too.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
import weakref

from unified_auth.core.plugin_manager import Hooks
from unified_auth.events import CredentialsEvent

__all__ = ["CAPACITY", "EXIT_TIMEOUT", "IDLE", "EventDelivery"]

log = logging.getLogger("unified_auth")

CAPACITY = 1_000
"""Events waiting for the observers, at most; past it, new ones are dropped and counted."""
IDLE = 5.0
"""Seconds without an event after which the delivery thread ends (the next event restarts it)."""
EXIT_TIMEOUT = 5.0
"""Seconds the interpreter's exit waits, in all, for the events still pending."""


class EventDelivery:
    """A bounded queue of events and the thread that hands them to the observers."""

    def __init__(self, hooks: Hooks, *, capacity: int = CAPACITY, idle: float = IDLE) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._hooks = hooks
        self._capacity = capacity
        self._idle = idle
        self._changed = threading.Condition(threading.Lock())
        self._pending: collections.deque[CredentialsEvent] = collections.deque()
        self._accepted = 0  # events queued so far; delivered ones counted in _delivered
        self._delivered = 0
        self._dropped: collections.Counter[str] = collections.Counter()
        self._thread: threading.Thread | None = None
        self._closed = False
        _LIVE.add(self)

    def _forked(self) -> None:
        """In a forked child: the parent's thread is not running here, and its lock may
        have been held at the fork. Start afresh; the parent delivers its own events."""
        self._changed = threading.Condition(threading.Lock())
        self._thread = None
        self._delivered = self._accepted
        self._pending.clear()

    @property
    def observed(self) -> bool:
        """Whether any plugin observes events (asked per event: plugins may come later)."""
        return self._hooks.has_observers()

    @property
    def running(self) -> bool:
        """Whether the delivery thread is running (it ends after :data:`IDLE` seconds idle)."""
        with self._changed:
            return self._thread is not None

    def submit(self, event: CredentialsEvent) -> None:
        """Queue ``event`` for the observers; never waits for them. Nothing happens when
        nobody observes; when the queue is full, or the hub was closed, it is dropped and
        counted for its target."""
        if not self.observed:
            return
        with self._changed:
            if self._closed or len(self._pending) >= self._capacity:
                self._dropped[event.target] += 1
                return
            self._pending.append(event)
            self._accepted += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="unified-auth-events",
                                                daemon=True)
                self._thread.start()
            else:
                self._changed.notify_all()

    def dropped(self, target: str) -> int:
        """Events of ``target`` dropped so far (a full queue, or after :meth:`close`)."""
        with self._changed:
            return self._dropped[target]

    def flush(self, timeout: float) -> bool:
        """Wait until every event queued before the call was delivered, at most ``timeout``
        seconds. ``True`` when they were (or there were none); ``False`` on timeout, or
        when called from an observer (the delivery thread cannot wait for itself)."""
        if threading.current_thread() is self._thread:
            return False
        with self._changed:
            goal = self._accepted
            return self._changed.wait_for(lambda: self._delivered >= goal,
                                          timeout=max(timeout, 0.0))

    def close(self, timeout: float) -> bool:
        """Flush within ``timeout`` seconds, then stop: later events are dropped and counted.
        ``True`` when everything queued was delivered."""
        flushed = self.flush(timeout)
        with self._changed:
            self._closed = True
            self._dropped.update(event.target for event in self._pending)
            self._delivered += len(self._pending)  # given up: flush() must not wait for them
            self._pending.clear()
            self._changed.notify_all()
        _LIVE.discard(self)
        return flushed

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closed,
                                       timeout=self._idle)
                if not self._pending:  # idle that long, or closed: the next event restarts it
                    self._thread = None
                    return
                event = self._pending.popleft()
            try:
                self._hooks.credentials_event(event)
            except BaseException as exc:  # noqa: BLE001 - one event's failure stops no other
                # Hooks already logs an observer's Exception; this is anything else
                # (SystemExit, a failing log handler), which must not end delivery.
                log.warning("observing a %s event of target %s failed: %s", event.kind,
                            event.target, type(exc).__name__)
            with self._changed:
                self._delivered += 1
                self._changed.notify_all()


# Every delivery not yet closed, to flush at exit; held weakly, so a hub nobody closes is
# still garbage once its thread has gone idle.
_LIVE: weakref.WeakSet[EventDelivery] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    deadline = time.monotonic() + EXIT_TIMEOUT
    for delivery in list(_LIVE):
        delivery.flush(deadline - time.monotonic())


def _after_fork_in_child() -> None:
    for delivery in list(_LIVE):
        delivery._forked()


# A hub made before a fork (gunicorn's preload, multiprocessing's fork) keeps observing in
# the children.
os.register_at_fork(after_in_child=_after_fork_in_child)
