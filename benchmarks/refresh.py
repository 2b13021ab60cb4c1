"""Refresh under load: a herd of threads through many refreshes of short-lived tokens.

32 threads GET the Liana emulator's API for 20 s with 4 s tokens from a token endpoint that
takes 0.3 s to answer. The emulator records when each token request arrived and was
answered, so each client request can be classed as overlapping a refresh or not. What a
good client shows: one token fetch per refresh (about one per 75 % of a lifetime), never two
in flight, no request sent with an expired token, no 401, and requests that overlap a
refresh no slower than the others (nobody waits for the fetch).
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from typing import Any

import requests

import unified_auth
from benchmarks._liana import Api, liana_api
from benchmarks._report import Options, Table, percentile
from unified_auth.testing import LianaEmulator
from unified_auth.testing._server import Request, Response

TITLE = "refresh under load (herd)"


class _TimedLiana(LianaEmulator):
    """The Liana emulator with a slow token endpoint that logs when it was busy."""

    def __init__(self, *, delay: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delay = delay
        self.fetches: list[tuple[float, float]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._fetch_lock = threading.Lock()

    def _dispatch(self, request: Request) -> Response | None:
        if request.path != "/token":
            return super()._dispatch(request)
        with self._fetch_lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        started = time.monotonic()
        time.sleep(self.delay)
        try:
            return super()._dispatch(request)
        finally:
            with self._fetch_lock:
                self.in_flight -= 1
                self.fetches.append((started, time.monotonic()))


def _herd(api: Api, threads: int, seconds: float) -> list[tuple[float, float, int]]:
    hub = unified_auth.load({"targets": {"api": api.target()}})
    hub.credentials("api")
    samples: list[tuple[float, float, int]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    start = threading.Barrier(threads)

    def worker() -> None:
        session = hub.session()
        mine: list[tuple[float, float, int]] = []
        start.wait(timeout=30)
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                status = session.get(api.url, timeout=10).status_code
            except requests.RequestException:
                status = 0
            mine.append((began, time.monotonic(), status))
        with lock:
            samples.extend(mine)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=seconds + 60)
    hub.close()
    return samples


def _overlaps(fetches: list[tuple[float, float]], began: float, ended: float) -> bool:
    starts = [start for start, _ in fetches]
    index = bisect.bisect_right(starts, ended)
    return any(end >= began for _, end in fetches[max(0, index - 4):index])


def run(options: Options) -> list[Table]:
    threads, seconds = options.pick(32, 8), options.pick(20, 3)
    lifetime, delay = options.pick(4, 1), 0.3 if not options.quick else 0.1
    liana = _TimedLiana(delay=delay, expires_in=lifetime)
    with liana_api(liana) as api:
        samples = _herd(api, threads, seconds)
        counters = liana.counters
        fetches = sorted(liana.fetches)
    # The first fetch warms the hub before the herd starts; the rest are refreshes.
    herd_began = min(began for began, _, _ in samples)
    ideal = 1 + math.floor(seconds / (lifetime * 0.75))
    overlapping = [end - began for began, end, _ in samples if _overlaps(fetches, began, end)]
    normal = [end - began for began, end, _ in samples if not _overlaps(fetches, began, end)]
    failures = sum(1 for *_, status in samples if status != 200)
    p99_normal, p99_overlap = percentile(normal, 0.99), percentile(overlapping, 0.99)
    rows = (
        ("token fetches (ideal)", f"{counters.tokens_issued} ({ideal})"),
        ("most token requests in flight at once", str(liana.most_in_flight)),
        ("requests sent with an expired token", str(counters.expired_token_requests)),
        ("401s (and other refusals) from the API", str(counters.rejected_requests)),
        ("requests that did not get a 200", str(failures)),
        ("requests", f"{len(samples):,} ({len(overlapping):,} overlapping a refresh)"),
        ("p99 latency, normal", f"{p99_normal * 1e3:.1f} ms"),
        ("p99 latency, overlapping a refresh", f"{p99_overlap * 1e3:.1f} ms "
         f"({p99_overlap / p99_normal:.2f}x normal)"),
        ("worst latency, normal / overlapping", f"{max(normal, default=0) * 1e3:.0f} ms / "
         f"{max(overlapping, default=0) * 1e3:.0f} ms"),
    )
    notes = (f"{threads} threads x {seconds} s, {lifetime} s tokens, a {delay} s token "
             f"endpoint; refresh starts in the background at 75 % of a lifetime",
             f"herd began {herd_began - fetches[0][0]:.2f} s after the first fetch"
             if fetches else "no fetch recorded")
    return [Table(TITLE, ("measure", "value"), rows, notes)]
