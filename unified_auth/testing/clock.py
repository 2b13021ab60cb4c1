"""A clock a test moves by hand, shared by a hub and the emulators it talks to."""

from __future__ import annotations

import threading
import time
from datetime import datetime

__all__ = ["ManualClock"]


class ManualClock:
    """Seconds since the epoch that only move when told: ``clock.advance(900)``.

    Pass the same instance to ``unified_auth.load(..., clock=clock)`` and to an emulator so
    both agree on when a token expires, and a test can jump 15 minutes without sleeping.
    """

    def __init__(self, start: float | datetime | None = None) -> None:
        if isinstance(start, datetime):
            start = start.timestamp()
        self._now = float(time.time() if start is None else start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a ManualClock only moves forward")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, timestamp: float | datetime) -> None:
        """Jump to an absolute time (forward or back, for tests of clock skew)."""
        if isinstance(timestamp, datetime):
            timestamp = timestamp.timestamp()
        with self._lock:
            self._now = float(timestamp)

    def __repr__(self) -> str:
        return f"ManualClock({self._now!r})"
