"""What unified-auth adds per request, measured side by side with plain requests.

Run: ``.venv/bin/python benchmarks/per_request.py``. Two measurements, each interleaved in
rounds so that a noisy shared machine hits both sides alike, reported as ratios:

1. end to end: GETs to the Liana emulator on loopback through a plain ``requests.Session``
   with a fixed ``Authorization`` header, and through ``hub.session()`` (routing, a cached
   lease, apply_auth on a copy);
2. the per-request path alone, no network: ``Router.match`` + ``Broker.lease`` + applying
   the credentials to a copy of the request, against requests' own ``prepare()`` of the
   same request as a yardstick.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from toy_provider import load, toy_target, write_secret

from unified_auth.testing import LianaEmulator

ROUNDS = 7
REQUESTS_PER_ROUND = 300


def end_to_end(liana: LianaEmulator, hub_session: requests.Session, token: str) -> None:
    url = f"{liana.url}/v1/lists"
    plain = requests.Session()
    plain.headers["Authorization"] = f"Bearer {token}"
    for session in (plain, hub_session):  # warm up connections and the lease
        session.get(url).raise_for_status()
    plain_times, hub_times = [], []
    for _ in range(ROUNDS):
        for session, times in ((plain, plain_times), (hub_session, hub_times)):
            started = time.perf_counter()
            for _ in range(REQUESTS_PER_ROUND):
                session.get(url)
            times.append((time.perf_counter() - started) / REQUESTS_PER_ROUND)
    plain_median, hub_median = statistics.median(plain_times), statistics.median(hub_times)
    print(f"end to end, loopback GET ({ROUNDS} rounds x {REQUESTS_PER_ROUND}):")
    print(f"  plain requests + fixed header   {plain_median * 1e6:8.1f} us/request")
    print(f"  unified-auth session            {hub_median * 1e6:8.1f} us/request")
    print(f"  ratio                           {hub_median / plain_median:8.3f}")


def per_request_path(liana: LianaEmulator, hub) -> None:  # type: ignore[no-untyped-def]
    url = f"{liana.url}/v1/lists?page=2"
    router = hub.config.router
    broker = hub.broker
    authoriser = hub._authoriser
    prepared = requests.Request("GET", url).prepare()

    def ours() -> None:
        target = router.match(url)
        authoriser.authorised_copy(broker.lease(target), prepared)

    def yardstick() -> None:
        requests.Request("GET", url).prepare()

    number = 20_000
    ours_times = [min(timeit.repeat(ours, number=number, repeat=3)) / number
                  for _ in range(3)]
    prep_times = [min(timeit.repeat(yardstick, number=number, repeat=3)) / number
                  for _ in range(3)]
    ours_best, prep_best = min(ours_times), min(prep_times)
    print("per-request path alone (no network):")
    print(f"  route + lease + apply on a copy {ours_best * 1e6:8.2f} us")
    print(f"  requests' own prepare()         {prep_best * 1e6:8.2f} us")
    print(f"  ratio                           {ours_best / prep_best:8.3f}")


def main() -> None:
    with LianaEmulator() as liana, tempfile.TemporaryDirectory() as tmp:
        client_id, secret = liana.create_credential("bench")
        secret_file = write_secret(Path(tmp) / "s", secret)
        hub = load({"targets": {"api": toy_target(liana.url, client_id, secret_file)}})
        token = hub.credentials("api").value.reveal()
        end_to_end(liana, hub.session(), token)
        per_request_path(liana, hub)
        print(f"token requests made: {liana.counters.token_requests}")


if __name__ == "__main__":
    main()
