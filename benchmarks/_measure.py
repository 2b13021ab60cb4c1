"""Interleaved rounds: every contender measured in the same run, in rotating order.

A 2-core machine shared with other jobs changes speed from one second to the next. So no
contender is measured alone: each round times a batch of every contender, the order
rotating from round to round, and a contender's figures are medians over rounds, its ratio
to another the median of their ratios *within* each round, which a change of load between
rounds does not skew.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

import attrs

__all__ = ["Timings", "async_rounds", "rounds"]


@attrs.frozen
class Timings:
    """Seconds per operation of each contender, one figure per round."""

    per_round: Mapping[str, Sequence[float]]

    def seconds(self, name: str) -> float:
        """The median over rounds of ``name``'s seconds per operation."""
        return statistics.median(self.per_round[name])

    def ratio(self, name: str, base: str) -> float:
        """The median over rounds of ``name``'s time over ``base``'s in the same round."""
        return statistics.median(
            mine / theirs for mine, theirs in zip(self.per_round[name], self.per_round[base],
                                                  strict=True))

    def ratio_to_best(self, name: str, others: Sequence[str]) -> float:
        """The median over rounds of ``name``'s time over the fastest of ``others`` in the
        same round (``nan`` without others)."""
        if not others:
            return float("nan")
        bests = [min(column) for column in zip(*(self.per_round[o] for o in others),
                                               strict=True)]
        return statistics.median(
            mine / best for mine, best in zip(self.per_round[name], bests, strict=True))


def _order(names: Sequence[str], round_number: int) -> list[str]:
    shift = round_number % len(names)
    return [*names[shift:], *names[:shift]]


def rounds(contenders: Mapping[str, Callable[[], object]], *, count: int, per_round: int,
           reset: Mapping[str, Callable[[], object]] | None = None,
           collect: bool = True) -> Timings:
    """Time ``per_round`` calls of each contender in each of ``count`` rounds.

    :param reset: per contender, run after each of its batches, untimed (to drop what its
        calls accumulated, such as the hooks an ``AuthBase`` registers).
    :param collect: leave the garbage collector on (a whole GET, as in real use); off for
        calls of a microsecond, as :mod:`timeit` does, so that a collection does not land
        on one contender's batch.
    """
    names = list(contenders)
    reset = reset or {}
    for name in names:  # warm caches, connections and leases
        contenders[name]()
        reset.get(name, _nothing)()
    times: dict[str, list[float]] = {name: [] for name in names}
    enabled = gc.isenabled()
    try:
        for round_number in range(count):
            for name in _order(names, round_number):
                one = contenders[name]
                if not collect:
                    gc.disable()  # cycles freed after the batch, untimed
                started = time.perf_counter()
                for _ in itertools.repeat(None, per_round):
                    one()
                elapsed = time.perf_counter() - started
                if enabled:
                    gc.enable()
                times[name].append(elapsed / per_round)
                reset.get(name, _nothing)()
    finally:
        if enabled:
            gc.enable()
    return Timings(times)


async def async_rounds(contenders: Mapping[str, Callable[[], Awaitable[object]]], *,
                       count: int, per_round: int) -> Timings:
    """:func:`rounds` for coroutines, every contender on the same event loop."""
    names = list(contenders)
    for name in names:
        await contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(count):
        for name in _order(names, round_number):
            one = contenders[name]
            started = time.perf_counter()
            for _ in itertools.repeat(None, per_round):
                await one()
            times[name].append((time.perf_counter() - started) / per_round)
    return Timings(times)


def _nothing() -> None:
    return None
