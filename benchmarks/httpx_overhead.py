"""A whole GET with httpx, sync and async, stubbed and over loopback, as ratios to plain httpx.

Contenders, each sending the same ``Authorization: Bearer <key>``:

- plain ``httpx.Client`` / ``AsyncClient`` with the header fixed on the client, and a
  second one just like it (the A/A control: what this machine makes of no difference);
- ``ua.httpx_client()`` / ``ua.httpx_async_client()`` (its transports run the flow);
- a plain client with ``auth=ua.httpx_auth(name)``;
- a plain client with httpx-auth's ``HeaderApiKey`` (``pip install httpx-auth``).

Two measurements on the plain-http and the https URL: **stubbed**, every client given
``transport=httpx.MockTransport(handler)`` (the handler checks the header and answers a
small JSON), and **loopback**, real GETs of the threaded server on 127.0.0.1. Interleaved
rounds (:mod:`benchmarks._measure`); ratios are medians of per-round ratios to plain httpx.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, ExitStack
from typing import Any

import anyio
import attrs
import httpx

from benchmarks._clients import TARGET, Bench, bench_api
from benchmarks._measure import Timings, async_rounds, rounds
from benchmarks._report import Options, Table, record, us, within
from benchmarks._servers import BODY, REFUSED, Endpoint

TITLE = "httpx: a whole GET, warm credentials"
TARGETS = {"stubbed": 1.03, "loopback": 1.03}
PEER_MARGIN = 0.02
"""How far above httpx-auth's ratio ``ua.httpx_client()`` may be, stubbed."""

PLAIN, CLIENT, AUTH, PEER = ("plain httpx + fixed header", "**unified-auth** `ua.httpx_client()`",
                             "**unified-auth** `auth=ua.httpx_auth(name)`",
                             "httpx-auth `HeaderApiKey`")
CONTROL = "plain httpx + fixed header, a second client (A/A control)"


@attrs.frozen
class _Mock:
    """The stubbed API: answers 200 to the expected header, 401 (counted) otherwise."""

    expected: str
    refusals: list[int] = attrs.Factory(lambda: [0])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        ok = request.headers.get("authorization") == self.expected
        if not ok:
            self.refusals[0] += 1
        return httpx.Response(200 if ok else 401, content=BODY if ok else REFUSED,
                              headers={"Content-Type": "application/json"})


def _builders(bench: Bench, asynchronous: bool) -> Iterator[tuple[str, Callable[..., Any]]]:
    """(name, build(**client options)) for each contender that can be built here."""
    kind = httpx.AsyncClient if asynchronous else httpx.Client
    ours = bench.hub.httpx_async_client if asynchronous else bench.hub.httpx_client
    yield PLAIN, lambda **kw: kind(headers={"Authorization": bench.header}, **kw)
    yield CONTROL, lambda **kw: kind(headers={"Authorization": bench.header}, **kw)
    yield CLIENT, ours
    yield AUTH, lambda **kw: kind(auth=bench.hub.httpx_auth(TARGET), **kw)
    try:
        header_api_key = importlib.import_module("httpx_auth").HeaderApiKey
    except ImportError:
        return
    yield PEER, lambda **kw: kind(auth=header_api_key(bench.header,
                                                       header_name="Authorization"), **kw)


def _clients(bench: Bench, endpoints: Sequence[Endpoint], mode: str, asynchronous: bool,
             mock: _Mock, stack: Any) -> dict[str, Any]:
    """``"<scheme> <name>"`` -> an open client of that contender for that endpoint, closed
    by ``stack`` (an :class:`AsyncExitStack` for async clients)."""
    built = {}
    for endpoint in endpoints:
        for name, build in _builders(bench, asynchronous):
            options: dict[str, Any] = {"verify": endpoint.httpx_verify}
            if mode == "stubbed":
                options["transport"] = httpx.MockTransport(mock)
            client = build(**options)
            if asynchronous:
                stack.push_async_callback(client.aclose)
            else:
                stack.callback(client.close)
            built[f"{endpoint.scheme} {name}"] = client
    return built


def _sync(clients: dict[str, httpx.Client], urls: dict[str, str], count: int,
          per_round: int) -> Timings:
    def get(client: httpx.Client, url: str) -> Callable[[], object]:
        return lambda: client.get(url)

    return rounds({key: get(client, urls[key.split()[0]]) for key, client in clients.items()},
                  count=count, per_round=per_round)


async def _async(clients: dict[str, httpx.AsyncClient], urls: dict[str, str], count: int,
                 per_round: int) -> Timings:
    def get(client: httpx.AsyncClient, url: str) -> Callable[[], Awaitable[object]]:
        return lambda: client.get(url)

    return await async_rounds(
        {key: get(client, urls[key.split()[0]]) for key, client in clients.items()},
        count=count, per_round=per_round)


def _table(mode: str, flavour: str, names: Sequence[str], endpoints: Sequence[Endpoint],
           timings: Timings, notes: tuple[str, ...]) -> Table:
    limit = TARGETS[mode]
    rows = []
    for name in names:
        row, verdicts = [name], []
        for endpoint in endpoints:
            key = f"{endpoint.scheme} {name}"
            ratio = timings.ratio(key, f"{endpoint.scheme} {PLAIN}")
            row += [us(timings.seconds(key)), f"{ratio:.3f}"]
            if name in (CLIENT, AUTH):
                verdicts.append(f"{endpoint.scheme} " + _verdict(
                    mode, flavour, name, endpoint, timings, ratio, limit, names))
        rows.append((*row, ", ".join(verdicts)))
    columns = [f"{e.scheme} {c}" for e in endpoints for c in ("us/GET", "x plain")]
    target = f"target <= {limit}x" + (f", <= httpx-auth + {PEER_MARGIN}"
                                      if mode == "stubbed" else "")
    return Table(f"httpx {flavour}, {mode}: a whole GET", ("client", *columns, target),
                 tuple(rows), notes)


def _verdict(mode: str, flavour: str, name: str, endpoint: Endpoint, timings: Timings,
             ratio: float, limit: float, names: Sequence[str]) -> str:
    figure, target, met = f"{ratio:.3f}x plain", f"<= {limit:.2f}x plain", within(ratio, limit)
    if mode == "stubbed" and PEER in names:
        peer = timings.ratio(f"{endpoint.scheme} {PEER}", f"{endpoint.scheme} {PLAIN}")
        figure += f" (httpx-auth {peer:.3f}x)"
        target += f" and <= httpx-auth + {PEER_MARGIN}"
        met = met and within(round(ratio, 3) - round(peer, 3), PEER_MARGIN)
    return record(f"httpx {flavour} {mode}, {name}", endpoint.scheme, figure, target, met)


def run(options: Options) -> list[Table]:
    count = options.pick(31, 2)
    per_round = {"stubbed": options.pick(200, 10), "loopback": options.pick(40, 5)}
    tables = []
    with bench_api() as bench:
        mock = _Mock(bench.header)
        for mode in ("stubbed", "loopback"):
            endpoints = [e for e in bench.endpoints if mode == "stubbed" or e.live]
            urls = {endpoint.scheme: endpoint.url for endpoint in endpoints}
            names = [name for name, _ in _builders(bench, asynchronous=False)]
            with ExitStack() as stack:
                clients = _clients(bench, endpoints, mode, False, mock, stack)
                sync = _sync(clients, urls, count, per_round[mode])

            async def measure(mode: str = mode, endpoints: Sequence[Endpoint] = endpoints,
                              urls: dict[str, str] = urls) -> Timings:
                async with AsyncExitStack() as stack:
                    clients = _clients(bench, endpoints, mode, True, mock, stack)
                    return await _async(clients, urls, count, per_round[mode])

            asynchronous = anyio.run(measure)
            refused = (f"the mock refused {mock.refusals[0]} requests" if mode == "stubbed"
                       else "the server refused " + ", ".join(
                           f"{e.scheme} {e.refused}" for e in endpoints))
            note = (f"{count} interleaved rounds x {per_round[mode]} GETs per contender and "
                    f"URL; " + ("every client on `httpx.MockTransport`" if mode == "stubbed"
                                else "threaded http.server on 127.0.0.1, keep-alive")
                    + f"; {refused} (a wrong or missing header)")
            missing = () if PEER in names else (
                "httpx-auth is not installed (pip install httpx-auth): no peer row",)
            tables.append(_table(mode, "sync", names, endpoints, sync, (note, *missing)))
            tables.append(_table(mode, "async (asyncio)", names, endpoints, asynchronous,
                                 (note, *missing)))
    return tables

