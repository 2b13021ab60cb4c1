"""Per-request cost of a whole GET: loopback and stubbed, as ratios to plain requests.

Every client does the same ``session.get()`` of the Liana emulator's API with a warm token,
in rounds whose order rotates so that a noisy shared machine hits every client alike. A
client's figure is the median over rounds of its mean time per request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from benchmarks._clients import Client, clients, hub_for, liana_api
from benchmarks._report import Options, Table, median
from benchmarks._stub import stubbed_network

TITLE = "per-request cost (whole GET, warm token)"


def _rounds(chosen: Sequence[Client], rounds: int, per_round: int) -> dict[str, float]:
    times: dict[str, list[float]] = {client.name: [] for client in chosen}
    for client in chosen:  # warm connections and caches
        client.get().raise_for_status()
    for round_number in range(rounds):
        shift = round_number % len(chosen)
        for client in [*chosen[shift:], *chosen[:shift]]:
            started = time.perf_counter()
            for _ in range(per_round):
                client.get()
            times[client.name].append((time.perf_counter() - started) / per_round)
    return {name: median(values) for name, values in times.items()}


def run(options: Options) -> list[Table]:
    rounds = options.pick(7, 2)
    with liana_api() as api:
        hub = hub_for(api)
        chosen, missing = clients(api, hub)
        loopback = _rounds(chosen, rounds, options.pick(300, 20))
        with stubbed_network():
            stubbed = _rounds(chosen, rounds, options.pick(2000, 50))
        token_requests = api.liana.counters.token_requests
    base_loop, base_stub = loopback[chosen[0].name], stubbed[chosen[0].name]
    rows = tuple(
        (client.name, f"{loopback[client.name] * 1e6:,.0f}",
         f"{loopback[client.name] / base_loop:.3f}", f"{stubbed[client.name] * 1e6:,.1f}",
         f"{stubbed[client.name] / base_stub:.3f}")
        for client in chosen)
    notes = (f"{rounds} rotating rounds; loopback {options.pick(300, 20)} GETs per client "
             f"per round, stubbed {options.pick(2000, 50)}; "
             f"{token_requests} token requests in all",
             *missing)
    return [Table(TITLE, ("client", "loopback us/GET", "loopback x plain", "stubbed us/GET",
                          "stubbed x plain"), rows, notes)]
