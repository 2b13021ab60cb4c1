"""Failure throttling: a failing token endpoint is asked once per backoff, not once per caller.

Against real loopback servers (the Liana emulator, or a raw server answering 503), on a
ManualClock shared with the hub: a driver thread moves it, so seconds of backoff pass in
a fraction of a second while busy threads call as fast as they can.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
from observers import Recorder
from raw_server import raw_server
from recorder import echo_server
from toy_provider import ToyPlugin, toy_target, write_secret

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.errors import CredentialsRejected, TokenEndpointError
from unified_auth.testing import LianaEmulator, ManualClock, load_isolated

NO_SLEEP = RetryPolicy(sleep=lambda seconds: None)
SCHEDULE = [1, 2, 4, 8, 16, 32, 60, 60]



def hub(config: dict[str, Any], clock: ManualClock, *observers: object,
        retry: RetryPolicy = NO_SLEEP) -> unified_auth.UnifiedAuth:
    return load_isolated(config, plugins=[ToyPlugin(), *observers], clock=clock, retry=retry)


def liana_config(liana: LianaEmulator, secret: Path, client_id: str,
                 cache: dict[str, Any] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"targets": {"api": toy_target(liana.url, client_id, secret)}}
    if cache is not None:
        config["cache"] = cache
    return config


@contextmanager
def running_clock(clock: ManualClock, seconds: float, step: float = 0.1) -> Iterator[
        Callable[[], bool]]:
    """Move ``clock`` forward by ``seconds`` in ``step`` increments, one each time the
    driver gets the GIL back after a millisecond's sleep; yields "has it got there yet"."""
    end = clock() + seconds
    done = threading.Event()

    def drive() -> None:
        while clock() < end:
            clock.advance(step)
            time.sleep(0.001)
        done.set()

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    try:
        yield done.is_set
    finally:
        driver.join(timeout=60)


def busy(threads: int, work: Callable[[], None], until: Callable[[], bool]) -> list[BaseException]:
    """``threads`` threads calling ``work`` until ``until()``; returns what they raised."""
    raised: list[BaseException] = []
    lock = threading.Lock()

    def loop() -> None:
        while not until():
            try:
                work()
            except Exception as exc:  # the test looks at every one
                with lock:
                    raised.append(exc)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return raised


def test_a_503_endpoint_is_asked_once_per_backoff_by_eight_busy_threads(
        tmp_path: Path) -> None:
    def unavailable(index: int, sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\n"
                     b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    clock = ManualClock()
    with raw_server(unavailable) as server, echo_server() as api:
        config = {"targets": {"api": {
            "provider": "toy", "hosts": [f"{api}/"], "client_id": "client",
            "client_secret": {"file": str(write_secret(tmp_path / "s", "secret-canary"))},
            "token_url": f"{server.url}/token"}}}
        ua = hub(config, clock)
        session = ua.session()
        started = time.monotonic()
        with running_clock(clock, 6.0) as done:  # six seconds of the hub's time
            raised = busy(8, lambda: session.get(f"{api}/x"), done)
        elapsed = time.monotonic() - started
        stats = ua.stats("api")
    print(f"503 endpoint: {server.connections} token requests, {stats.failed_fetches} "
          f"fetches, {len(raised)} calls failed ({stats.throttled} without a request), "
          f"{elapsed:.2f} s real for 6 s of the hub's clock")
    # backoff 1, 2, 4 s: fetches at 0, ~1 and ~3 s, the next not before ~7 s
    assert 3 <= stats.failed_fetches <= 4
    assert server.connections <= 12
    assert server.connections == 3 * stats.failed_fetches  # each fetch: its bounded retries
    assert stats.fetches == 0
    assert len(raised) > 100
    assert all(isinstance(exc, TokenEndpointError) for exc in raised)
    assert stats.throttled == len(raised) - sum(
        "no new request" not in str(exc) for exc in raised)
    assert all("secret-canary" not in str(exc) for exc in raised)


def test_a_rejected_secret_is_sent_once_for_320_calls_from_16_threads(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        tmp_path: Path) -> None:
    client_id, _ = liana_emulator.create_credential("tests")
    wrong = "wrong-secret-canary-0123456789"
    ua = hub(liana_config(liana_emulator, write_secret(tmp_path / "s", wrong), client_id),
             unified_auth_clock)
    liana_emulator.reset_counters()
    outcomes: list[BaseException | None] = []
    lock = threading.Lock()

    def twenty_calls() -> None:
        for _ in range(20):
            try:
                ua.credentials("api")
            except Exception as exc:  # the test looks at every one
                with lock:
                    outcomes.append(exc)
            else:
                with lock:
                    outcomes.append(None)

    workers = [threading.Thread(target=twenty_calls) for _ in range(16)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    requests_sent = liana_emulator.counters.token_requests
    print(f"rejected secret: {requests_sent} token requests for {len(outcomes)} calls")
    assert len(outcomes) == 320
    assert requests_sent <= 2
    assert all(isinstance(exc, CredentialsRejected) for exc in outcomes)
    assert all(wrong not in str(exc) for exc in outcomes)
    stats = ua.stats("api")
    assert stats.failed_fetches == requests_sent
    assert stats.throttled >= 320 - 16  # at most the first waiters saw the fetch itself


def test_the_backoff_doubles_to_a_minute_and_events_say_until_when(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        tmp_path: Path) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    recorder = Recorder()
    ua = hub(liana_config(liana_emulator, write_secret(tmp_path / "s", secret), client_id),
             unified_auth_clock, recorder, retry=attrs.evolve(NO_SLEEP, attempts=1))
    liana_emulator.inject_fault("status", status=503, times=100)
    with pytest.raises(TokenEndpointError, match="503"):
        ua.credentials("api")
    for interval in SCHEDULE:
        sent = liana_emulator.counters.token_requests
        unified_auth_clock.advance(interval - 0.01)
        with pytest.raises(TokenEndpointError, match=r"503.*no new request for 0\.0 s"):
            ua.credentials("api")  # still within the interval: answered from memory
        assert liana_emulator.counters.token_requests == sent
        unified_auth_clock.advance(0.02)
        with pytest.raises(TokenEndpointError, match="503"):
            ua.credentials("api")
        assert liana_emulator.counters.token_requests == sent + 1
    assert ua.flush_events()
    waits = [round((e.throttled_until - e.at).total_seconds(), 3)  # type: ignore[operator]
             for e in recorder.failures()]
    assert waits == [*SCHEDULE, 60]


def test_a_success_resets_the_backoff(liana_emulator: LianaEmulator,
                                      unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    liana_emulator.expires_in = 60
    ua = hub(liana_config(liana_emulator, write_secret(tmp_path / "s", secret), client_id),
             unified_auth_clock, retry=attrs.evolve(NO_SLEEP, attempts=1))
    liana_emulator.inject_fault("status", status=503, times=3)
    for interval in (0, 1, 2):  # three failures: the next interval would be 4 s
        unified_auth_clock.advance(interval + 0.01 if interval else 0)
        with pytest.raises(TokenEndpointError):
            ua.credentials("api")
    unified_auth_clock.advance(4.01)
    assert ua.credentials("api")  # the fourth try gets a token
    liana_emulator.inject_fault("status", status=503, times=10)
    liana_emulator.revoke_tokens()
    unified_auth_clock.advance(61)  # the token expired: a fetch fails again
    with pytest.raises(TokenEndpointError):
        ua.credentials("api")
    sent = liana_emulator.counters.token_requests
    unified_auth_clock.advance(1.01)  # after a success, the first interval is 1 s again
    with pytest.raises(TokenEndpointError):
        ua.credentials("api")
    assert liana_emulator.counters.token_requests == sent + 1


def test_a_rotated_secret_ends_the_backoff_at_once(liana_emulator: LianaEmulator,
                                                   unified_auth_clock: ManualClock,
                                                   tmp_path: Path) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    secret_file = write_secret(tmp_path / "s", "stale-secret-canary-01")
    ua = hub(liana_config(liana_emulator, secret_file, client_id), unified_auth_clock)
    for interval in (0, 1, 2, 4):  # four refusals: the interval is now 8 s
        unified_auth_clock.advance(interval + 0.01 if interval else 0)
        with pytest.raises(CredentialsRejected):
            ua.credentials("api")
    sent = liana_emulator.counters.token_requests
    unified_auth_clock.advance(1.01)
    with pytest.raises(CredentialsRejected, match="no new request for 7"):
        ua.credentials("api")  # the secret was read again, unchanged: still backing off
    assert liana_emulator.counters.token_requests == sent
    write_secret(secret_file, "another-wrong-canary-02")
    with pytest.raises(CredentialsRejected, match="no new request"):
        ua.credentials("api")  # read at most once a second
    unified_auth_clock.advance(1.01)
    with pytest.raises(CredentialsRejected, match=r"refused$"):
        ua.credentials("api")  # a new secret is tried at once, and is refused
    assert liana_emulator.counters.token_requests == sent + 1
    write_secret(secret_file, secret)  # the rotation reaches the file
    unified_auth_clock.advance(1.01)  # a new secret's first backoff is 1 s, not 16
    assert ua.credentials("api")
    assert liana_emulator.counters.token_requests == sent + 2


def test_two_hubs_on_one_file_cache_back_off_together(liana_emulator: LianaEmulator,
                                                      unified_auth_clock: ManualClock,
                                                      tmp_path: Path) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    config = liana_config(liana_emulator, write_secret(tmp_path / "s", secret), client_id,
                          cache={"backend": "file", "path": str(tmp_path / "cache")})
    retry = attrs.evolve(NO_SLEEP, attempts=1)
    first, second = (hub(config, unified_auth_clock, retry=retry) for _ in range(2))
    liana_emulator.inject_fault("status", status=503, times=1000)
    with pytest.raises(TokenEndpointError, match="503"):
        first.credentials("api")
    with pytest.raises(TokenEndpointError, match="another process's token request"):
        second.credentials("api")  # the failure recorded in the cache: no request
    assert liana_emulator.counters.token_requests == 1
    unified_auth_clock.advance(1.01)
    with pytest.raises(TokenEndpointError, match="503"):
        second.credentials("api")  # the fleet's second failure: 2 s now
    unified_auth_clock.advance(1.01)
    with pytest.raises(TokenEndpointError, match=r"another process's.*2 in a row"):
        first.credentials("api")
    assert liana_emulator.counters.token_requests == 2

    raised: list[BaseException] = []

    def four_threads(ua: unified_auth.UnifiedAuth, done: Callable[[], bool]) -> None:
        session = ua.session()
        raised.extend(busy(4, lambda: session.get(f"{liana_emulator.url}/v1/lists"), done))

    with running_clock(unified_auth_clock, 6.0) as done:  # both hubs busy, 4 threads each
        threads = [threading.Thread(target=four_threads, args=(ua, done))
                   for ua in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    sent = liana_emulator.counters.token_requests
    own = first.stats("api").failed_fetches + second.stats("api").failed_fetches
    print(f"two hubs, one file cache: {sent} token requests in all, "
          f"{len(raised)} calls failed, "
          f"{first.stats('api').throttled + second.stats('api').throttled} without a request")
    assert own == sent
    # from 2 s past the second failure, 6 s more: tries near 2 and 6 s (intervals 4, 8)
    assert sent - 2 <= 2
    assert len(raised) > 100
    assert all(isinstance(exc, TokenEndpointError) for exc in raised)

    liana_emulator.clear_faults()
    unified_auth_clock.advance(60)
    assert first.credentials("api") == second.credentials("api")  # one fetch, shared
    assert liana_emulator.counters.tokens_issued == 1


def test_a_lease_whose_refresh_fails_is_not_handed_out_in_its_last_moments(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        tmp_path: Path) -> None:
    client_id, secret = liana_emulator.create_credential("tests")
    liana_emulator.expires_in = 100
    ua = hub(liana_config(liana_emulator, write_secret(tmp_path / "s", secret), client_id),
             unified_auth_clock)
    held = ua.credentials("api")
    liana_emulator.rotate_secret(client_id)  # the file lags: every refresh is refused
    unified_auth_clock.advance(80)  # advisory window: a background refresh, refused
    assert ua.credentials("api") == held
    deadline = time.monotonic() + 5
    while ua.stats("api").failed_fetches < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    unified_auth_clock.advance(14)  # 94 s of 100: still handed out
    assert ua.credentials("api") == held
    unified_auth_clock.advance(2)  # 96 s: a request leased now could arrive after 100 s
    with pytest.raises(CredentialsRejected):
        ua.credentials("api")
