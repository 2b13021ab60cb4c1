"""What ``ua.httpx_client()`` adds per request, next to a plain httpx client, sync and async.

Run: ``.venv/bin/python benchmarks/httpx_overhead.py [--quick]`` (or as a section of
``python -m benchmarks``). GETs to the Liana emulator on loopback, keep-alive, through a
plain ``httpx.Client``/``httpx.AsyncClient`` with a fixed ``Authorization`` header and
through the hub's clients (routing, a cached lease, the plugin's apply_auth on a translated
copy). Rounds alternate which side goes first, so a noisy shared machine hits both alike;
the figures are medians of many short rounds (a shared machine is noisy). A last row times
the per-request path alone, no network: route, lease, translate, apply, build the request
that is sent, next to httpx building a request, as a yardstick.
"""

from __future__ import annotations

import statistics
import sys
import time
import timeit
from collections.abc import Awaitable, Callable
from typing import NamedTuple

import anyio
import httpx

import unified_auth
from unified_auth.testing import LianaEmulator

TITLE = "httpx: ua.httpx_client() vs a plain httpx client with a fixed header"


class Row(NamedTuple):
    """One line of the result: both sides in microseconds per request, and their ratio."""

    mode: str
    plain_us: float
    unified_us: float

    @property
    def ratio(self) -> float:
        return self.unified_us / self.plain_us

    @property
    def overhead_us(self) -> float:
        return self.unified_us - self.plain_us


def run(options: object = None) -> list[Row]:
    """Measure both modes; ``options.quick`` (as ``python -m benchmarks --quick`` passes)
    makes it a smoke run of a second or two."""
    quick = bool(getattr(options, "quick", False))
    rounds, per_round = (3, 20) if quick else (41, 50)
    with LianaEmulator() as liana:
        client_id, secret = liana.create_credential("bench")
        hub = unified_auth.load({"targets": {"liana": {
            "provider": "liana", "hosts": [f"{liana.url}/v1/"], "client_id": client_id,
            "client_secret": secret, "token_url": liana.token_url}}})
        url = f"{liana.url}/v1/lists?page=2"
        fixed = {"Authorization": f"Bearer {hub.credentials('liana').value.reveal()}"}
        with httpx.Client(headers=fixed) as plain, hub.httpx_client() as ours:
            sync_row = Row("sync", *_interleaved(
                lambda: _sync_batch(plain, url, per_round),
                lambda: _sync_batch(ours, url, per_round), rounds, per_round))

        async def measure_async() -> Row:
            async with httpx.AsyncClient(headers=fixed) as plain_async, \
                    hub.httpx_async_client() as ours_async:
                return Row("async (asyncio)", *await _interleaved_async(
                    lambda: _async_batch(plain_async, url, per_round),
                    lambda: _async_batch(ours_async, url, per_round), rounds, per_round))

        async_row = anyio.run(measure_async)
        path_row = _path_alone(hub, url, 500 if quick else 20_000)
    return [sync_row, async_row, path_row]


def _path_alone(hub: unified_auth.UnifiedAuth, url: str, number: int) -> Row:
    from unified_auth.clients.httpx_edge import authorised  # noqa: PLC0415 - a private path

    router, broker = hub.config.router, hub.broker
    authoriser = hub._authoriser  # measuring the private path on purpose
    request = httpx.Request("GET", url)

    def ours() -> None:
        target = router.match(str(request.url))
        assert target is not None
        authorised(authoriser, broker.lease(target), request)

    def yardstick() -> None:
        httpx.Request("GET", url)

    best = [min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6
            for call in (yardstick, ours)]
    return Row("no network: httpx.Request() vs route+lease+translate+apply", *best)


def _sync_batch(client: httpx.Client, url: str, count: int) -> None:
    for _ in range(count):
        client.get(url).raise_for_status()


async def _async_batch(client: httpx.AsyncClient, url: str, count: int) -> None:
    for _ in range(count):
        (await client.get(url)).raise_for_status()


def _interleaved(plain: Callable[[], None], ours: Callable[[], None], rounds: int,
                 per_round: int) -> tuple[float, float]:
    plain(), ours()  # warm up connections and the lease
    times: dict[int, list[float]] = {0: [], 1: []}
    for round_number in range(rounds):
        order = ((0, plain), (1, ours)) if round_number % 2 == 0 else ((1, ours), (0, plain))
        for side, batch in order:
            started = time.perf_counter()
            batch()
            times[side].append((time.perf_counter() - started) / per_round)
    return statistics.median(times[0]) * 1e6, statistics.median(times[1]) * 1e6


async def _interleaved_async(plain: Callable[[], Awaitable[None]],
                             ours: Callable[[], Awaitable[None]], rounds: int,
                             per_round: int) -> tuple[float, float]:
    await plain()
    await ours()
    times: dict[int, list[float]] = {0: [], 1: []}
    for round_number in range(rounds):
        order = ((0, plain), (1, ours)) if round_number % 2 == 0 else ((1, ours), (0, plain))
        for side, batch in order:
            started = time.perf_counter()
            await batch()
            times[side].append((time.perf_counter() - started) / per_round)
    return statistics.median(times[0]) * 1e6, statistics.median(times[1]) * 1e6


def main(argv: list[str]) -> int:
    print("| mode | plain httpx + fixed header, us/request | ua.httpx_client, us/request "
          "| overhead, us | ratio |")
    print("| --- | --- | --- | --- | --- |")
    quick = type("Options", (), {"quick": "--quick" in argv})()
    for row in run(quick):
        print(f"| {row.mode} | {row.plain_us:.1f} | {row.unified_us:.1f} | "
              f"{row.overhead_us:+.1f} | {row.ratio:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
