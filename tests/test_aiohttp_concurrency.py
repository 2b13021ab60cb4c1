"""``ua.aiohttp_session()`` on the async lease: a token fetch runs in a worker thread, never
on the event loop, and N coroutines (and threads) needing the same credentials share it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.testing import LianaEmulator, ManualClock

COROUTINES = 100
FETCH_SECONDS = 0.5
# As in tests/test_httpx_concurrency.py: a quiet machine shows gaps of 10-40 ms; a loop the
# fetch blocked would tick once or twice in 0.5 s, with a gap of at least FETCH_SECONDS.
MAX_GAP = FETCH_SECONDS / 2
MIN_TICKS_WHILE_FETCHING = 20


@pytest.fixture
def hub(unified_auth_config: dict[str, Any],
        unified_auth_clock: ManualClock) -> unified_auth.UnifiedAuth:
    return unified_auth.load(unified_auth_config, clock=unified_auth_clock,
                             retry=RetryPolicy(sleep=lambda s: None))


async def with_ticker(work: Callable[[], Awaitable[None]]) -> list[tuple[float, float]]:
    """Run ``work`` next to a coroutine that ticks every 5 ms: (when, gap) of each tick."""
    ticks: list[tuple[float, float]] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            ticks.append((now, now - last))
            last = now

    ticker = asyncio.create_task(tick())
    try:
        await asyncio.wait_for(work(), timeout=30)
    finally:
        done.set()
        await asyncio.wait_for(ticker, timeout=5)
    return ticks


def test_a_hundred_coroutines_at_a_cold_start_share_one_fetch_and_the_loop_keeps_ticking(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator) -> None:
    liana_emulator.inject_fault("delay", seconds=FETCH_SECONDS)
    answered: list[tuple[float, int]] = []
    url = f"{liana_emulator.url}/v1/lists"

    async def main() -> tuple[float, list[tuple[float, float]]]:
        async with hub.aiohttp_session() as session:  # made before the clock starts
            async def one() -> None:
                async with session.get(url) as response:
                    await response.read()
                    answered.append((time.perf_counter(), response.status))

            async def work() -> None:
                await asyncio.gather(*(one() for _ in range(COROUTINES)))

            started = time.perf_counter()
            return started, await with_ticker(work)

    started, ticks = asyncio.run(main())
    first_answer = min(at for at, _ in answered)
    while_fetching = [gap for at, gap in ticks if at <= first_answer]
    longest = max(gap for _, gap in ticks)
    print(f"{len(while_fetching)} ticks while fetching, the longest gap "
          f"{max(while_fetching) * 1000:.1f} ms; {longest * 1000:.1f} ms overall")
    assert [status for _, status in answered] == [200] * COROUTINES
    assert liana_emulator.counters.token_requests == 1
    assert first_answer - started >= FETCH_SECONDS  # the fetch really was slow ...
    assert len(while_fetching) >= MIN_TICKS_WHILE_FETCHING  # ... the loop ran meanwhile
    assert longest < MAX_GAP  # ... and was never blocked for it


def test_threads_and_coroutines_of_two_clients_share_one_fetch(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator) -> None:
    liana_emulator.inject_fault("delay", seconds=FETCH_SECONDS)
    url = f"{liana_emulator.url}/v1/lists"
    statuses: list[int] = []
    failures: list[BaseException] = []

    async def coroutines() -> None:
        async with hub.aiohttp_session() as session:
            async def one() -> None:
                async with session.get(url) as response:
                    statuses.append(response.status)
            await asyncio.gather(*(one() for _ in range(20)))

    def in_thread(call: Callable[[], Any]) -> threading.Thread:
        def run() -> None:
            try:
                call()
            except BaseException as exc:  # handed to the test thread
                failures.append(exc)
        return threading.Thread(target=run)

    session = hub.session()
    threads = [in_thread(lambda: asyncio.run(coroutines())) for _ in range(2)]
    threads += [in_thread(lambda: statuses.append(session.get(url, timeout=10).status_code))
                for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert statuses == [200] * 45
    assert liana_emulator.counters.token_requests == 1
