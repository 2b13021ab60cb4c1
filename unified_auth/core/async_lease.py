"""Leases for coroutines: a valid one at once, a fetch in a worker thread, one for all.

Plugins are synchronous and fetch with ``requests``. A coroutine whose target holds a valid
lease gets it without awaiting anything (in the advisory window the refresh runs in the
broker's background thread). Otherwise one coroutine per event loop and target awaits
:meth:`Broker.lease` in a worker thread (anyio, so asyncio and trio alike) and the others
on that loop wait for it; across loops and threads the broker's own single flight makes
everyone share one fetch. The event loop keeps running meanwhile, and a cold start of N
coroutines takes one worker thread, not N.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

from unified_auth.core.broker import Broker, Lease
from unified_auth.core.flow import (
    Flow,
    NeedLease,
    Outcome,
    RequestFlow,
    Send,
    answer_flow,
    settled,
)
from unified_auth.model import Target

__all__ = ["advance_async", "current_lease", "lease_async", "run_answer_async",
           "run_request_async"]

R = TypeVar("R")

_ROUNDS = 8
"""Flights a waiter follows before fetching on its own (a leader was cancelled each time)."""


class _Flight:
    """A fetch one coroutine awaits in a worker thread for the others on its loop."""

    __slots__ = ("done", "error", "lease")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.lease: Lease | None = None
        self.error: Exception | None = None


_FLIGHTS: RunVar[dict[tuple[Broker, str], _Flight]] = RunVar("unified_auth_lease_flights")


async def lease_async(broker: Broker, target: Target) -> Lease:
    """The current lease for ``target``; never blocks the event loop."""
    for _ in range(_ROUNDS):
        lease = broker.lease_nowait(target)
        if lease is not None:
            return lease
        flights = _flights()
        key = (broker, target.name)
        flight = flights.get(key)
        if flight is None:
            return await _lead(flights, key, broker, target)
        await flight.done.wait()
        if flight.error is not None:
            raise flight.error
        if flight.lease is not None:
            return flight.lease
        # The leader was cancelled; its fetch goes on in the broker: the next leader joins it.
    return await anyio.to_thread.run_sync(broker.lease, target, abandon_on_cancel=True)


async def _lead(flights: dict[tuple[Broker, str], _Flight], key: tuple[Broker, str],
                broker: Broker, target: Target) -> Lease:
    flight = flights[key] = _Flight()
    try:
        # Abandoned on cancellation: the fetch goes on in its thread and serves the others.
        flight.lease = await anyio.to_thread.run_sync(broker.lease, target,
                                                      abandon_on_cancel=True)
        return flight.lease
    except Exception as exc:
        flight.error = exc
        raise
    finally:
        del flights[key]
        flight.done.set()


def _flights() -> dict[tuple[Broker, str], _Flight]:
    flights = _FLIGHTS.get(None)
    if flights is None:
        flights = {}
        _FLIGHTS.set(flights)
    return flights



async def advance_async(flow: RequestFlow, steps: Flow, answer: int | None) -> Send | Outcome:
    """:meth:`RequestFlow.advance` for coroutines: a lease through :func:`lease_async`, an
    invalidation (I/O for a shared cache) in a worker thread; the event loop never blocks."""
    try:
        step = steps.send(answer)
        while not isinstance(step, Send):
            if isinstance(step, NeedLease):
                step = steps.send(await lease_async(flow.broker, step.target))
            else:
                await anyio.to_thread.run_sync(flow.broker.invalidate, step.lease)
                step = steps.send(None)
    except StopIteration as done:
        outcome: Outcome = done.value
        return outcome
    return step


async def run_request_async(flow: RequestFlow, target: Target,
                            send: Callable[[Lease], Awaitable[R]], status: Callable[[R], int],
                            close: Callable[[R], Awaitable[None]], *,
                            can_replay: bool) -> tuple[Outcome, R, R | None]:
    """:meth:`RequestFlow.run_request` for coroutines, its broker steps awaited."""
    lease = await current_lease(flow, target)
    answer = await send(lease)
    if settled(status(answer)):
        return Outcome.ANSWER, answer, None
    return await run_answer_async(flow, target, lease, answer, send, status, close,
                                  can_replay=can_replay)


async def current_lease(flow: RequestFlow, target: Target) -> Lease:
    """:func:`lease_async`, without even a coroutine for a valid lease: every request's
    path (a driver that takes the first steps inline calls it)."""
    lease = flow.broker.lease_nowait(target)
    return lease if lease is not None else await lease_async(flow.broker, target)


async def run_answer_async(flow: RequestFlow, target: Target, sent: Lease, answer: R,
                           send: Callable[[Lease], Awaitable[R]], status: Callable[[R], int],
                           close: Callable[[R], Awaitable[None]], *,
                           can_replay: bool) -> tuple[Outcome, R, R | None]:
    """:func:`run_request_async` from the first answer on (one :func:`settled` says needs
    more), for a driver that took the lease and the first send inline."""
    steps = answer_flow(target, sent, status(answer), can_replay=can_replay)
    first: R | None = None
    step = await advance_async(flow, steps, None)
    while isinstance(step, Send):
        await close(answer)
        first, answer = answer, await send(step.lease)
        step = await advance_async(flow, steps, status(answer))
    return step, answer, first
