"""A whole GET with requests, stubbed and over loopback, as ratios to plain requests.

Every contender does the same ``session.get()`` of the API with the same static bearer
token: plain requests with the header set on the session, unified-auth's session and
``auth=``, and the peers' ``AuthBase``. Two measurements, each on the plain-http and the
https URL:

- **stubbed**: the network replaced below urllib3 (:mod:`benchmarks._stub`), so a GET runs
  everything above the socket (requests' preparation, the library's auth, the adapter,
  the response); the least noisy measure of what a library adds;
- **loopback**: real GETs of the threaded server on 127.0.0.1 (keep-alive; the https one
  with a trustme certificate).

Interleaved rounds (:mod:`benchmarks._measure`): a contender's time is the median over
rounds of its mean per GET, its ratio the median of its time over plain requests' in the
same round.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from benchmarks._clients import Bench, Contender, bench_api, requests_contenders
from benchmarks._measure import Timings, rounds
from benchmarks._report import Options, Table, record, us, within
from benchmarks._servers import Endpoint
from benchmarks._stub import stubbed_network

TITLE = "requests: a whole GET, warm credentials"
TARGETS = {"stubbed": 1.02, "loopback": 1.03}


def _measure(chosen: Sequence[Contender], endpoints: Sequence[Endpoint], count: int,
             per_round: int) -> Timings:
    calls = {f"{endpoint.scheme} {contender.name}": functools.partial(
        contender.get, endpoint.url, endpoint.requests_verify)
        for endpoint in endpoints for contender in chosen}
    return rounds(calls, count=count, per_round=per_round)


def _table(mode: str, chosen: Sequence[Contender], endpoints: Sequence[Endpoint],
           timings: Timings, notes: tuple[str, ...]) -> Table:
    base = chosen[0].name
    limit = TARGETS[mode]
    rows = []
    for contender in chosen:
        row = [contender.name]
        verdicts = []
        for endpoint in endpoints:
            key = f"{endpoint.scheme} {contender.name}"
            ratio = timings.ratio(key, f"{endpoint.scheme} {base}")
            row += [us(timings.seconds(key)), f"{ratio:.3f}"]
            if contender.ours:
                verdicts.append(f"{endpoint.scheme} " + record(
                    f"requests {mode}, {contender.name}", endpoint.scheme,
                    f"{ratio:.3f}x plain", f"<= {limit:.2f}x plain", within(ratio, limit)))
        rows.append((*row, ", ".join(verdicts)))
    columns = [f"{e.scheme} {c}" for e in endpoints for c in ("us/GET", "x plain")]
    return Table(f"requests, {mode}: a whole GET", ("client", *columns, f"target <= {limit}x"),
                 tuple(rows), notes)


def run(options: Options) -> list[Table]:
    count = options.pick(31, 2)
    per_stubbed, per_loopback = options.pick(150, 10), options.pick(50, 5)
    with bench_api() as bench:
        chosen, missing = requests_contenders(bench)
        with stubbed_network():
            stubbed = _measure(chosen, bench.endpoints, count, per_stubbed)
        live = [endpoint for endpoint in bench.endpoints if endpoint.live]
        loopback = _measure(chosen, live, count, per_loopback)
        refused = {endpoint.scheme: endpoint.refused for endpoint in live}
    return [
        _table("stubbed", chosen, bench.endpoints, stubbed, (
            f"{count} interleaved rounds x {per_stubbed} GETs per contender and URL, answered "
            f"below urllib3 (no socket)", *missing)),
        _table("loopback", chosen, live, loopback, (
            f"{count} interleaved rounds x {per_loopback} GETs per contender and URL of a "
            f"threaded http.server on 127.0.0.1 (keep-alive), on the same 2 cores as the "
            f"clients; {_refusals(refused)}",
            *_no_https(bench), *missing)),
    ]


def _refusals(refused: dict[str, int]) -> str:
    counts = ", ".join(f"{scheme} {count}" for scheme, count in refused.items())
    return f"requests the server refused for a wrong or missing header: {counts}"


def _no_https(bench: Bench) -> tuple[str, ...]:
    if all(endpoint.live for endpoint in bench.endpoints):
        return ()
    return ("no https server: trustme is not installed (pip install trustme)",)
