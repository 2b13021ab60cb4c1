"""``unified_auth.load()`` of big configs: validating and routing 10,000 targets.

Every target is a ``liana`` target of its own host and URL prefix with a secret reference,
the shape a generated fleet config has; the time includes building the plugin manager,
validating every option and building the router. Nothing is fetched.
"""

from __future__ import annotations

import time

import unified_auth
from benchmarks._report import Options, Table

TITLE = "load() of big configs"
TARGET_COUNTS = (1, 1_000, 10_000)


def _config(count: int) -> dict[str, object]:
    return {"targets": {f"t{i}": {
        "provider": "liana", "hosts": [f"https://t{i}.bench.example/v1/"],
        "client_id": f"client-{i}", "client_secret": {"env": f"BENCH_SECRET_{i}"},
        "token_url": f"https://t{i}.bench.example/token"} for i in range(count)}}


def run(options: Options) -> list[Table]:
    unified_auth.load({"targets": {}})  # imports and entry points, once
    rows = []
    for count in TARGET_COUNTS:
        config = _config(count)
        best = float("inf")
        for _ in range(options.pick(3, 1)):
            started = time.perf_counter()
            unified_auth.load(config)
            best = min(best, time.perf_counter() - started)
        rows.append((f"{count:,}", f"{best:.3f}", f"{best / count * 1e6:,.0f}"))
    return [Table(TITLE, ("targets", "load() s", "us per target"), tuple(rows),
                  (f"best of {options.pick(3, 1)}",))]
