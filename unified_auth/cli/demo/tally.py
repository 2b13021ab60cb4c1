"""What the demo counts and how fast its story runs.

The counts come from the library itself, as any user's would: ``ua.stats(name)`` for
fetches, background refreshes, failed fetches and 401s, and a ``credentials_event`` observer
(:class:`EventLog`) for when they happened. Only the requests the script sends are counted
here, since no hook sees a request that needs no new credentials.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterable

import attrs

from unified_auth import CredentialsEvent, TargetStats, hookimpl

__all__ = ["EventLog", "ScaledClock", "total"]


class ScaledClock:
    """Epoch seconds that pass ``speed`` times faster than real ones, from now on.

    The emulators and the hub share it, so a 4 s token lives 4 of its seconds, and the
    whole story (refresh windows included) runs ``speed`` times faster.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._epoch = time.time()
        self._started = time.monotonic()

    def __call__(self) -> float:
        return self._epoch + (time.monotonic() - self._started) * self.speed

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of this clock's time."""
        time.sleep(seconds / self.speed)

    def deadline(self, seconds: float) -> float:
        """The time of this clock ``seconds`` from now."""
        return self() + seconds


class EventLog:
    """A plugin observing ``credentials_event``: every event, and requests sent per target."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[CredentialsEvent] = []
        self.requests: collections.Counter[str] = collections.Counter()
        """Requests the script sent, per target (the core's 401 retries not included)."""

    @hookimpl
    def credentials_event(self, event: CredentialsEvent) -> None:
        with self._lock:
            self._events.append(event)

    def events(self, target: str, kind: str | None = None) -> list[CredentialsEvent]:
        """The events of ``target`` so far (of one ``kind``, if given), oldest first."""
        with self._lock:
            return [e for e in self._events
                    if e.target == target and (kind is None or e.kind == kind)]

    def last_refresh_margin(self, target: str) -> float | None:
        """Seconds the old credentials had left when the last background refresh came in."""
        obtained = [e for e in self.events(target)
                    if e.kind in ("fetched", "refreshed_in_background")]
        if len(obtained) < 2 or obtained[-1].kind != "refreshed_in_background":
            return None
        previous, last = obtained[-2], obtained[-1]
        if previous.expires_at is None:
            return None
        return (previous.expires_at - last.at).total_seconds()


def total(stats: Iterable[TargetStats]) -> TargetStats:
    """The counts of several hubs added up (``expires_at``: the latest)."""
    items = list(stats)
    expiries = [s.expires_at for s in items if s.expires_at is not None]
    return TargetStats(
        **{field.name: sum(getattr(s, field.name) for s in items)
           for field in attrs.fields(TargetStats) if field.name != "expires_at"},
        expires_at=max(expiries, default=None))
