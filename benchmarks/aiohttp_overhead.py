"""A whole GET with aiohttp over loopback, as a ratio to a plain ``aiohttp.ClientSession``.

Contenders, each sending the same ``Authorization: Bearer <key>`` to the threaded server on
127.0.0.1 (:mod:`benchmarks._servers`), plain http and https:

- a plain ``aiohttp.ClientSession`` with the header fixed on the session;
- the same with a one-line middleware that sets the header: what aiohttp's middleware
  chain itself costs, so the rest of the difference is unified-auth's;
- ``ua.aiohttp_session()`` (its middleware runs the flow).

Interleaved rounds on one event loop (:mod:`benchmarks._measure`); ratios are medians of
per-round ratios to the plain session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any

import aiohttp

from benchmarks._clients import Bench, bench_api
from benchmarks._measure import Timings, async_rounds
from benchmarks._report import Options, Table, record, us, within
from benchmarks._servers import Endpoint

TITLE = "aiohttp: a whole GET, warm credentials"
TARGET = 1.03

PLAIN, MIDDLEWARE, OURS = ("plain aiohttp + fixed header",
                           "plain aiohttp + a header middleware",
                           "**unified-auth** `ua.aiohttp_session()`")


def _builders(bench: Bench) -> list[tuple[str, Callable[..., aiohttp.ClientSession]]]:
    header = bench.header

    async def set_header(request: aiohttp.ClientRequest,
                         handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
        request.headers["Authorization"] = header
        return await handler(request)

    return [
        (PLAIN, lambda **kw: aiohttp.ClientSession(headers={"Authorization": header}, **kw)),
        (MIDDLEWARE, lambda **kw: aiohttp.ClientSession(middlewares=(set_header,), **kw)),
        (OURS, bench.hub.aiohttp_session),
    ]


async def _measure(bench: Bench, endpoints: Sequence[Endpoint], count: int,
                   per_round: int) -> Timings:
    async with AsyncExitStack() as stack:
        contenders: dict[str, Callable[[], Awaitable[object]]] = {}
        for endpoint in endpoints:
            for name, build in _builders(bench):
                connector = aiohttp.TCPConnector(ssl=endpoint.httpx_verify)
                session = await stack.enter_async_context(build(connector=connector))
                contenders[f"{endpoint.scheme} {name}"] = _getter(session, endpoint.url)
        return await async_rounds(contenders, count=count, per_round=per_round)


def _getter(session: aiohttp.ClientSession, url: str) -> Callable[[], Awaitable[object]]:
    async def get() -> object:
        async with session.get(url) as response:
            return await response.read()

    return get


def _table(endpoints: Sequence[Endpoint], timings: Timings, note: str) -> Table:
    rows: list[tuple[str, ...]] = []
    for name, _ in ((PLAIN, None), (MIDDLEWARE, None), (OURS, None)):
        row: list[Any] = [name]
        verdicts = []
        for endpoint in endpoints:
            key = f"{endpoint.scheme} {name}"
            ratio = timings.ratio(key, f"{endpoint.scheme} {PLAIN}")
            row += [us(timings.seconds(key)), f"{ratio:.3f}"]
            if name == OURS:
                verdicts.append(f"{endpoint.scheme} " + record(
                    f"aiohttp loopback, {name}", endpoint.scheme, f"{ratio:.3f}x plain",
                    f"<= {TARGET:.2f}x plain", within(ratio, TARGET)))
        rows.append((*row, ", ".join(verdicts)))
    columns = [f"{e.scheme} {c}" for e in endpoints for c in ("us/GET", "x plain")]
    return Table("aiohttp, loopback: a whole GET", ("client", *columns, f"target <= {TARGET}x"),
                 tuple(rows), (note,))


def run(options: Options) -> list[Table]:
    count, per_round = options.pick(41, 2), options.pick(200, 5)
    with bench_api() as bench:
        endpoints = [endpoint for endpoint in bench.endpoints if endpoint.live]
        timings = asyncio.run(_measure(bench, endpoints, count, per_round))
        refused = ", ".join(f"{e.scheme} {e.refused}" for e in endpoints)
    note = (f"{count} interleaved rounds x {per_round} GETs per contender and URL, one "
            f"asyncio loop; threaded http.server on 127.0.0.1, keep-alive; the server refused "
            f"{refused} (a wrong or missing header)")
    return [_table(endpoints, timings, note)]
