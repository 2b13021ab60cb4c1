"""The auth step alone, in ns per request: each library's, on a plain-http and an https URL.

``attach`` is what a library does to one prepared request before requests sends it: for
``ua.auth(name)``, its ``AuthBase.__call__`` (route, the proxy rule on plain http, lease,
apply, and registering its response hook); for ``ua.session()``, what the adapter does to
put the credentials on (route, lease, an authorised copy of the request); for the peers,
their ``AuthBase`` with the same static bearer token. Interleaved rounds, garbage collector
off during a batch (as :mod:`timeit`); the figure is the median over rounds, and "x fastest
peer" the median of the ratio to the fastest peer within each round.
"""

from __future__ import annotations

import functools

import attrs
import requests

from benchmarks._clients import Bench, bench_api, requests_contenders, unified_session
from benchmarks._measure import rounds
from benchmarks._report import Options, Table, ns, record

TITLE = "attach (the auth step alone, requests)"
TARGET_COUNTS = (1, 100, 10_000)
TARGET_NS = 1_000


def _prepared(url: str) -> requests.PreparedRequest:
    """A GET as a session prepares it (with requests' four default headers)."""
    return requests.Session().prepare_request(requests.Request("GET", url))


def run(options: Options) -> list[Table]:
    count, per_round = options.pick(31, 3), options.pick(2_000, 200)
    with bench_api() as bench:
        chosen, missing = requests_contenders(bench)
        calls, resets = {}, {}
        for endpoint in bench.endpoints:
            for contender in chosen:
                request = _prepared(endpoint.url)
                key = f"{endpoint.scheme} {contender.name}"
                calls[key] = functools.partial(contender.attach, request)
                # ua.auth registers a response hook per call, as it must: drop them between
                # batches, untimed, so that the list does not grow for the whole run.
                resets[key] = request.hooks["response"].clear
        timings = rounds(calls, count=count, per_round=per_round, reset=resets, collect=False)
        rows = []
        peers = [contender.name for contender in chosen if contender.peer]
        for contender in chosen:
            row = [contender.name]
            for endpoint in bench.endpoints:
                key = f"{endpoint.scheme} {contender.name}"
                seconds = timings.seconds(key)
                against = timings.ratio_to_best(key, [f"{endpoint.scheme} {p}" for p in peers])
                row += [ns(seconds), f"{against:.2f}"]
                if contender.ours:
                    row.append(record(
                        f"attach, {contender.name}", endpoint.scheme,
                        f"{ns(seconds)} ns, {against:.2f}x fastest peer",
                        f"<= {TARGET_NS:,} ns and <= 1.00x fastest peer",
                        seconds * 1e9 <= TARGET_NS and against <= 1.0))
                else:
                    row.append("")
            rows.append((*row, contender.note))
        by_targets = _by_targets(bench, count, per_round)
    return [
        Table(TITLE, ("client", "http ns", "http x fastest peer", "http target",
                      "https ns", "https x fastest peer", "https target", "what is timed"),
              tuple(rows),
              (f"{count} interleaved rounds x {per_round:,} calls on a prepared GET of "
               f"{bench.endpoints[0].url} (http) and {bench.endpoints[1].url} (https)",
               *missing)),
        by_targets,
    ]


def _by_targets(bench: Bench, count: int, per_round: int) -> Table:
    calls = {}
    hubs = [bench.hub_with(extra) for extra in (n - 1 for n in TARGET_COUNTS)]
    try:
        for targets, hub in zip(TARGET_COUNTS, hubs, strict=True):
            attach = unified_session(attrs.evolve(bench, hub=hub)).attach
            for endpoint in bench.endpoints:
                calls[(targets, endpoint.scheme)] = functools.partial(
                    attach, _prepared(endpoint.url))
        timings = rounds({f"{t} {s}": call for (t, s), call in calls.items()},
                         count=count, per_round=per_round, collect=False)
    finally:
        for hub in hubs:
            hub.close()
    rows = tuple((f"{targets:,}",
                  *(ns(timings.seconds(f"{targets} {endpoint.scheme}"))
                    for endpoint in bench.endpoints))
                 for targets in TARGET_COUNTS)
    return Table("`ua.session()` attach by number of configured targets",
                 ("targets", "http ns", "https ns"), rows,
                 ("the other targets are hosts of their own (t<i>.bench.example); the route "
                  "is a dict read per origin, so the figure should stay flat",))
