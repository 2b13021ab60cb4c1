"""Token fetches per token lifetime for 8 worker processes, and the per-request cost, with
each cache backend (memory, file, redis).

Run: ``.venv/bin/python -m benchmarks.fleet`` (or as a section of ``python -m benchmarks``:
:func:`run` returns the tables). Two measurements:

1. a fleet: 8 processes (``spawn``), each with its own hub, GET the Liana emulator's API
   for a few token lifetimes; the emulator counts token requests and the most in flight at
   once. The memory cache fetches about 8 per lifetime, the shared caches about 1 (a
   refresh at 75 % of a lifetime makes it 4/3 of one per lifetime for one process alone);
2. the per-request path alone (route + lease + an authorised copy, no network) on a hub whose
   token is cached, with each backend: the shared layer is off this path, so the three
   should cost the same.

The redis rows need ``redis-server`` (started on a free loopback port with a password).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests

import unified_auth
from benchmarks._measure import Timings, rounds
from benchmarks._report import Table
from unified_auth.clients.requests_edge import authorised_copy
from unified_auth.testing import LianaEmulator, write_secret

WORKERS = 8
LIFETIME = 3  # seconds: the emulator's expires_in
TOKEN_DELAY = 0.1  # seconds the token endpoint takes, so that overlapping fetches show
BACKENDS = ("memory", "file", "redis")


def run(options: Any = None) -> list[Table]:
    """Both measurements as tables; ``options.quick`` shortens them to a smoke run."""
    quick = bool(getattr(options, "quick", False))
    seconds = 1.0 if quick else LIFETIME * 3.0
    workers = 2 if quick else WORKERS  # a smoke run: starting 8 interpreters x 3 is most of it
    with _redis() as redis_url, LianaEmulator(expires_in=LIFETIME) as liana, \
            tempfile.TemporaryDirectory() as tmp:
        fleet_rows: list[tuple[str, ...]] = []
        configs: dict[str, dict[str, Any]] = {}
        for backend in BACKENDS:
            cache = _cache(backend, Path(tmp, f"cache-{backend}"), redis_url)
            if isinstance(cache, bool):
                fleet_rows.append((backend, "skipped: no redis-server", "", "", "", ""))
                continue
            configs[backend] = _config(liana, Path(tmp), cache)
            fleet_rows.append(_fleet(liana, configs[backend], seconds, workers))
        timings = _per_request(liana, configs, count=3 if quick else 31,
                               per_round=200 if quick else 2_000)
    cost_rows = [(backend, f"{timings.seconds(backend) * 1e6:.2f}",
                  f"{timings.ratio(backend, 'memory'):.2f}") if backend in configs else
                 (backend, "skipped: no redis-server", "") for backend in BACKENDS]
    return [
        Table(f"token fetches, {workers} processes for {seconds:.0f} s of {LIFETIME} s tokens",
              ("backend", "token fetches", "per lifetime", "most in flight", "requests",
               "failed"), tuple(fleet_rows),
              (f"{seconds / LIFETIME:.0f} lifetimes; one process alone refreshes at 75 % of a "
               f"lifetime: about {1 / 0.75:.2f} fetches per lifetime",
               f"the token endpoint takes {TOKEN_DELAY} s, so overlapping fetches show in "
               f"flight")),
        Table("per-request path with a cached token (no network)",
              ("backend", "us per request", "vs memory"), tuple(cost_rows),
              ("interleaved rounds (the median of per-round ratios), garbage collector off "
               "within a batch",)),
    ]


def _fleet(liana: LianaEmulator, config: dict[str, Any], seconds: float,
           count: int) -> tuple[str, ...]:
    liana.reset_counters()
    liana.inject_fault("delay", times=10_000, seconds=TOKEN_DELAY)
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(count), context.Queue()
    url = f"{liana.url}/v1/lists"
    workers = [context.Process(target=worker, args=(config, url, start, seconds, results))
               for _ in range(count)]
    for process in workers:
        process.start()
    outcomes = [results.get(timeout=seconds + 120) for _ in workers]
    for process in workers:
        process.join(timeout=30)
    liana.clear_faults()
    counters = liana.counters
    backend = config.get("cache", {}).get("backend", "memory")
    return (backend, str(counters.token_requests),
            f"{counters.token_requests / (seconds / LIFETIME):.2f}",
            str(liana.max_token_requests_in_flight),
            str(sum(ok for ok, _ in outcomes)), str(sum(failed for _, failed in outcomes)))


def worker(config: dict[str, Any], url: str, start: Any, seconds: float, results: Any) -> None:
    """One worker process: its own hub, GETs for ``seconds`` after all are ready."""
    with unified_auth.load(config) as hub:
        session = hub.session()
        start.wait(timeout=120)
        ok = failed = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                answered = session.get(url, timeout=10).status_code == 200
            except requests.RequestException:
                answered = False
            ok, failed = (ok + 1, failed) if answered else (ok, failed + 1)
            time.sleep(0.002)
        results.put((ok, failed))


def _per_request(liana: LianaEmulator, configs: dict[str, dict[str, Any]], *, count: int,
                 per_round: int) -> Timings:
    """The session adapter's route + lease + authorised copy with each backend's hub, in
    interleaved rounds: every backend measured in the same run, its order rotating."""
    url = f"{liana.url}/v1/lists?page=2"
    prepared = requests.Request("GET", url).prepare()
    with ExitStack() as stack:
        calls = {}
        for backend, config in configs.items():
            hub = stack.enter_context(unified_auth.load(config))
            hub.credentials("mailer")
            calls[backend] = functools.partial(_one_request, hub._flow, url, prepared)
        return rounds(calls, count=count, per_round=per_round, collect=False)


def _one_request(flow: Any, url: str, prepared: requests.PreparedRequest) -> None:
    # The session adapter's private path, measured on purpose.
    target = flow.owner(url)
    assert target is not None
    authorised_copy(flow, flow.broker.lease(target), prepared)


def _config(liana: LianaEmulator, tmp: Path, cache: dict[str, Any] | None) -> dict[str, Any]:
    client_id, secret = liana.create_credential("fleet benchmark")
    secret_file = tmp / f"{client_id}.secret"
    write_secret(secret_file, secret)
    config: dict[str, Any] = {
        "targets": {"mailer": {"provider": "liana", "hosts": [f"{liana.url}/v1/"],
                               "client_id": client_id,
                               "client_secret": {"file": str(secret_file)},
                               "token_url": liana.token_url}},
        "refresh": {"min_interval": 0.1},
    }
    if cache is not None:
        config["cache"] = cache
    return config


def _cache(backend: str, directory: Path, redis_url: str | None) -> dict[str, Any] | bool | None:
    if backend == "memory":
        return None
    if backend == "file":
        return {"backend": "file", "path": str(directory)}
    if redis_url is None:
        return False
    return {"backend": "redis", "url": redis_url, "password": {"env": "FLEET_REDIS_PASSWORD"},
            "key_prefix": f"fleet-benchmark-{secrets.token_hex(4)}:"}


@contextmanager
def _redis() -> Iterator[str | None]:
    """A redis-server on a free loopback port with a password, or ``None`` without one."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None)
    if binary is None:
        yield None
        return
    import redis  # noqa: PLC0415 - only when there is a server to talk to

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password = secrets.token_urlsafe(18)
    with tempfile.TemporaryDirectory() as directory:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password,
             "--save", "", "--appendonly", "no", "--dir", directory],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client = redis.Redis(port=port, password=password, socket_timeout=2)
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            os.environ["FLEET_REDIS_PASSWORD"] = password  # the workers inherit it
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.kill()
            server.wait(timeout=10)


if __name__ == "__main__":
    for table in run():
        print(table.render())
        print()
