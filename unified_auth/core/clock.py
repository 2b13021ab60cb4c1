"""One source of time for the whole hub, injectable so tests move time instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "system_clock", "to_datetime"]

Clock = Callable[[], float]
"""A callable returning the time as seconds since the epoch, like :func:`time.time`."""

system_clock: Clock = time.time


def to_datetime(timestamp: float) -> datetime:
    """The aware UTC datetime of an epoch timestamp."""
    return datetime.fromtimestamp(timestamp, UTC)
