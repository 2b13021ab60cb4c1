"""Per-request cost of a whole GET: loopback and stubbed, as ratios to plain requests.

Every client does the same ``session.get()`` of the Liana emulator's API with a warm token,
in many short rounds whose order rotates, so that a noisy shared machine hits every client
alike. A client's time is the median over rounds of its mean time per request; its ratio is
the median over rounds of its time over the plain session's in the same round, which a
change of load between rounds does not skew.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from benchmarks._clients import OFFLINE_URL, Client, clients, hub_for, liana_api
from benchmarks._report import Options, Table, median
from benchmarks._stub import stubbed_network

TITLE = "per-request cost (whole GET, warm token)"


def _rounds(chosen: Sequence[Client], url: str, rounds: int,
            per_round: int) -> dict[str, tuple[float, float]]:
    """Client name -> (median seconds per GET, median ratio to the first client)."""
    times: dict[str, list[float]] = {client.name: [] for client in chosen}
    for client in chosen:  # warm connections and caches
        client.get(url).raise_for_status()
    for round_number in range(rounds):
        shift = round_number % len(chosen)
        for client in [*chosen[shift:], *chosen[:shift]]:
            started = time.perf_counter()
            for _ in range(per_round):
                client.get(url)
            times[client.name].append((time.perf_counter() - started) / per_round)
    base = times[chosen[0].name]
    return {name: (median(values), median([t / b for t, b in zip(values, base, strict=True)]))
            for name, values in times.items()}


def run(options: Options) -> list[Table]:
    rounds = options.pick(21, 2)
    per_loopback, per_stubbed = options.pick(100, 20), options.pick(700, 50)
    with liana_api() as api:
        hub = hub_for(api)
        chosen, missing = clients(api, hub)
        loopback = _rounds(chosen, api.url, rounds, per_loopback)
        with stubbed_network():
            stubbed = _rounds(chosen, OFFLINE_URL, rounds, per_stubbed)
        token_requests = api.liana.counters.token_requests
    rows = tuple(
        (client.name, f"{loopback[client.name][0] * 1e6:,.0f}",
         f"{loopback[client.name][1]:.3f}", f"{stubbed[client.name][0] * 1e6:,.1f}",
         f"{stubbed[client.name][1]:.3f}")
        for client in chosen)
    notes = (f"{rounds} rotating rounds; loopback: {per_loopback} GETs per client per round "
             f"of the emulator's API over http; stubbed: {per_stubbed} GETs of {OFFLINE_URL}, "
             f"answered below urllib3; {token_requests} token requests in all",
             *missing)
    return [Table(TITLE, ("client", "loopback us/GET", "loopback x plain", "stubbed us/GET",
                          "stubbed x plain"), rows, notes)]
