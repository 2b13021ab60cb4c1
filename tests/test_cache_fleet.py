"""Eight worker processes, one Liana: how many tokens each cache backend fetches.

The memory cache is per process: eight processes fetch eight tokens. The shared caches
fetch one per token lifetime, and the emulator never sees two token requests at once.
"""

from __future__ import annotations

import math
import multiprocessing
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cache_workers import hammer, liana_config
from redis_server import RedisServer

from unified_auth.testing import LianaEmulator

WORKERS = 8


@pytest.fixture
def fleet_liana() -> Iterator[LianaEmulator]:
    with LianaEmulator(expires_in=2) as emulator:  # real time: the processes share it
        yield emulator


def _cache(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any] | None:
    if backend == "memory":
        return None
    if backend == "file":
        return {"backend": "file", "path": str(tmp_path / "cache")}
    server: RedisServer = request.getfixturevalue("redis_server")
    request.getfixturevalue("monkeypatch").setenv("TEST_REDIS_PASSWORD", server.password)
    return {"backend": "redis", "url": server.url, "key_prefix": f"fleet-{uuid.uuid4().hex}:",
            "password": {"env": "TEST_REDIS_PASSWORD"}}


def _run_fleet(liana: LianaEmulator, config: dict[str, Any], seconds: float) -> list[Any]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WORKERS)
    results = context.Queue()
    url = f"{liana.url}/v1/lists"
    workers = [context.Process(target=hammer, args=(config, url, start, seconds, results))
               for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    return outcomes


def _config(liana: LianaEmulator, tmp_path: Path, cache: dict[str, Any] | None) -> dict[str, Any]:
    client_id, secret = liana.create_credential("fleet")
    secret_file = tmp_path / "liana.secret"
    secret_file.write_text(secret)
    return liana_config(liana, client_id, secret_file, cache, min_interval=0.1)


@pytest.mark.parametrize(("backend", "fetches"), [("memory", WORKERS), ("file", 1),
                                                  ("redis", 1)])
def test_eight_processes_within_one_lifetime(backend: str, fetches: int, tmp_path: Path,
                                            request: pytest.FixtureRequest) -> None:
    with LianaEmulator(expires_in=60) as liana:
        config = _config(liana, tmp_path, _cache(backend, tmp_path, request))
        # Slow token answers: a duplicate fetch would overlap another and show in flight.
        liana.inject_fault("delay", times=WORKERS, seconds=0.3)
        outcomes = _run_fleet(liana, config, seconds=1.0)
        counters, most_in_flight = liana.counters, liana.max_token_requests_in_flight
    assert all(failed == 0 for _, failed in outcomes), outcomes
    assert all(ok >= 1 for ok, _ in outcomes), outcomes
    assert counters.token_requests == fetches
    if backend == "memory":
        assert most_in_flight > 1, "the emulator sees overlapping fetches"
    else:
        assert most_in_flight == 1


@pytest.mark.parametrize("backend", ["file", "redis"])
def test_eight_processes_fetch_one_token_per_lifetime_across_refreshes(
        backend: str, tmp_path: Path, fleet_liana: LianaEmulator,
        request: pytest.FixtureRequest) -> None:
    seconds = 3.2
    config = _config(fleet_liana, tmp_path, _cache(backend, tmp_path, request))
    outcomes = _run_fleet(fleet_liana, config, seconds=seconds)
    counters = fleet_liana.counters
    assert all(failed == 0 for _, failed in outcomes), outcomes
    # One process alone refreshes at 75 % of each 2 s lifetime.
    one_process = 1 + math.ceil(seconds / (0.75 * fleet_liana.expires_in))
    assert 2 <= counters.token_requests <= one_process
    assert fleet_liana.max_token_requests_in_flight == 1
    assert counters.expired_token_requests == 0
