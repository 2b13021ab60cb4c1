"""The auth step alone, in ns per request: each library's, and unified-auth's by target count.

``attach`` is what a library does to one prepared request before it is sent: for
unified-auth's session, the adapter's route + lease + apply on a copy; for the peers, their
auth callable. Best of several timeit runs, so it shows the cost, not the machine's noise.
"""

from __future__ import annotations

import requests

from benchmarks._clients import OFFLINE_URL, clients, hub_for, liana_api, unified_session
from benchmarks._report import Options, Table, best_per_call

TITLE = "attach (the auth step alone)"
TARGET_COUNTS = (2, 100, 10_000)


def run(options: Options) -> list[Table]:
    number, repeat = options.pick(20_000, 500), options.pick(5, 2)
    with liana_api() as api:
        hub = hub_for(api)
        chosen, missing = clients(api, hub)
        request = requests.Request("GET", OFFLINE_URL).prepare()
        rows = []
        for client in chosen:
            seconds = best_per_call(lambda c=client: c.attach(request), number, repeat)
            rows.append((client.name, f"{seconds * 1e9:,.0f}", client.note))
        by_targets = []
        for count in TARGET_COUNTS:
            # api and bench are two of the targets; the others are hosts of their own.
            hub = hub_for(api, **{f"t{i}": api.target([f"t{i}.bench.example"])
                                  for i in range(count - 2)})
            client = unified_session(api, hub)
            seconds = best_per_call(lambda c=client: c.attach(request), number, repeat)
            by_targets.append((f"{count:,}", f"{seconds * 1e9:,.0f}"))
    return [
        Table(TITLE, ("client", "attach ns", "what is timed"), tuple(rows),
              (f"best of {repeat} x {number:,} calls on a prepared GET of {OFFLINE_URL}",
               *missing)),
        Table("unified-auth session attach by number of configured targets",
              ("targets", "attach ns"), tuple(by_targets)),
    ]
