"""Leases for coroutines: a valid one at once, a fetch in a worker thread, one for all.

Plugins are synchronous and fetch with ``requests``. A coroutine whose target holds a valid
lease gets it without awaiting anything (in the advisory window the refresh runs in the
broker's background thread). Otherwise it awaits :meth:`Broker.lease` in a worker thread
(anyio, so asyncio and trio alike), where the broker's single flight makes N coroutines and
threads share one fetch while the event loop keeps running.
"""

from __future__ import annotations

import anyio.to_thread

from unified_auth.broker import Broker, Lease
from unified_auth.model import Target

__all__ = ["lease_async"]


async def lease_async(broker: Broker, target: Target) -> Lease:
    """The current lease for ``target``; never blocks the event loop."""
    lease = broker.lease_nowait(target)
    if lease is not None:
        return lease
    # Abandoned on cancellation: the fetch goes on in its thread and serves the others.
    return await anyio.to_thread.run_sync(broker.lease, target, abandon_on_cancel=True)
