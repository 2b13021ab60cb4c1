"""The broker: proactive refresh, single flight, backoff, loop guard, exact invalidation.

All against the Liana emulator on loopback, sharing a ManualClock with the hub so that
time jumps instead of passing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import responses
from toy_provider import load, toy_target, write_secret

import unified_auth
from unified_auth import Credentials, Secret, Target
from unified_auth.errors import CredentialsRejected, TokenEndpointError
from unified_auth.testing import LianaEmulator, ManualClock, load_isolated

LIFETIME = 900


@pytest.fixture
def config(liana_emulator: LianaEmulator, tmp_path: Path) -> dict[str, object]:
    client_id, secret = liana_emulator.create_credential("tests")
    secret_file = write_secret(tmp_path / "toy.secret", secret)
    return {"targets": {"api": toy_target(liana_emulator.url, client_id, secret_file)}}


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def test_first_use_fetches_and_later_uses_reuse(liana_emulator: LianaEmulator,
                                                unified_auth_clock: ManualClock,
                                               config: dict[str, object]) -> None:
    hub = load(config, clock=unified_auth_clock)
    session = hub.session()
    for _ in range(5):
        assert session.get(f"{liana_emulator.url}/v1/lists").status_code == 200
    assert liana_emulator.counters.tokens_issued == 1
    assert liana_emulator.counters.api_requests == 5


def test_no_request_ever_carries_an_expired_token(liana_emulator: LianaEmulator,
                                                  unified_auth_clock: ManualClock,
                                                  config: dict[str, object]) -> None:
    hub = load(config, clock=unified_auth_clock)
    session = hub.session()
    for _ in range(240):  # two hours in 30-second steps: about ten token lifetimes
        assert session.get(f"{liana_emulator.url}/v1/lists").status_code == 200
        unified_auth_clock.advance(30)
    counters = liana_emulator.counters
    assert counters.expired_token_requests == 0
    assert counters.rejected_requests == 0
    # renewed before expiry: once per 75 % of a lifetime, give or take a step
    assert 9 <= counters.tokens_issued <= 12


def test_advisory_window_refreshes_in_background_and_keeps_the_valid_token(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        config: dict[str, object]) -> None:
    hub = load(config, clock=unified_auth_clock)
    first = hub.credentials("api")
    unified_auth_clock.advance(LIFETIME * 0.8)  # past advisory (75 %), before mandatory (90 %)
    assert hub.credentials("api") is first  # the caller did not wait
    wait_until(lambda: hub.credentials("api") is not first)
    assert liana_emulator.counters.tokens_issued == 2


def test_past_the_mandatory_window_callers_wait_for_the_fetch(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        config: dict[str, object]) -> None:
    hub = load(config, clock=unified_auth_clock)
    first = hub.credentials("api")
    unified_auth_clock.advance(LIFETIME * 0.95)
    assert hub.credentials("api") != first
    assert liana_emulator.counters.tokens_issued == 2


@pytest.mark.parametrize("jump", [0.8, 0.95, 1.5], ids=["advisory", "mandatory", "expired"])
def test_32_threads_cause_one_fetch_per_lifetime(liana_emulator: LianaEmulator,
                                                 unified_auth_clock: ManualClock,
                                                 config: dict[str, object],
                                                 jump: float) -> None:
    hub = load(config, clock=unified_auth_clock)
    session = hub.session()
    url = f"{liana_emulator.url}/v1/lists"
    errors: list[BaseException] = []

    def hammer(barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            for _ in range(3):
                assert session.get(url).status_code == 200
        except BaseException as exc:  # report in the main thread
            errors.append(exc)

    for lifetime in range(3):
        barrier = threading.Barrier(32)
        threads = [threading.Thread(target=hammer, args=(barrier,)) for _ in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_until(lambda lifetime=lifetime: liana_emulator.counters.tokens_issued == lifetime + 1)
        unified_auth_clock.advance(LIFETIME * jump)
    assert not errors
    wait_until(lambda: liana_emulator.counters.tokens_issued >= 3)
    time.sleep(0.05)  # a stray second refresh would have shown up by now
    assert liana_emulator.counters.tokens_issued == 3
    assert liana_emulator.counters.expired_token_requests == 0


def test_a_slow_token_endpoint_stalls_no_request_that_holds_a_valid_token(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        config: dict[str, object]) -> None:
    hub = load(config, clock=unified_auth_clock)
    session = hub.session()
    url = f"{liana_emulator.url}/v1/lists"
    assert session.get(url).status_code == 200
    liana_emulator.inject_fault("delay", seconds=1.0)
    unified_auth_clock.advance(LIFETIME * 0.8)
    started = time.monotonic()
    for _ in range(10):
        assert session.get(url).status_code == 200
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"requests waited for the slow refresh ({elapsed:.2f} s)"
    assert liana_emulator.counters.tokens_issued == 1  # the refresh is still in flight
    wait_until(lambda: liana_emulator.counters.tokens_issued == 2)


def test_a_failed_advisory_refresh_keeps_the_token_warns_once_and_backs_off(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, config: dict[str, object],
        caplog: pytest.LogCaptureFixture) -> None:
    hub = load(config, clock=unified_auth_clock)
    session = hub.session()
    url = f"{liana_emulator.url}/v1/lists"
    first = hub.credentials("api")
    liana_emulator.inject_fault("status", status=503, times=3)
    unified_auth_clock.advance(LIFETIME * 0.8)
    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        assert session.get(url).status_code == 200
        wait_until(lambda: liana_emulator.counters.token_requests == 4)  # 1 + 3 failed attempts
        wait_until(lambda: any("refreshing credentials failed" in r.message
                               for r in caplog.records))
        for _ in range(20):  # backing off: no new attempt, the valid token in use
            assert session.get(url).status_code == 200
    assert liana_emulator.counters.token_requests == 4
    assert hub.credentials("api") is first
    warnings = [r for r in caplog.records if "refreshing credentials failed" in r.message]
    assert len(warnings) == 1
    unified_auth_clock.advance(60)  # past the backoff, still advisory: a background refresh again
    hub.credentials("api")
    wait_until(lambda: hub.credentials("api") is not first)
    assert liana_emulator.counters.tokens_issued == 2


def test_a_failed_mandatory_refresh_uses_the_still_valid_token(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        config: dict[str, object]) -> None:
    hub = load(config, clock=unified_auth_clock)
    first = hub.credentials("api")
    liana_emulator.inject_fault("status", status=503, times=3)
    unified_auth_clock.advance(LIFETIME * 0.95)
    assert hub.credentials("api") is first
    unified_auth_clock.advance(LIFETIME * 0.1)  # now expired: nothing valid left, so a fetch it is
    assert hub.credentials("api") != first


def test_expired_credentials_and_a_dead_endpoint_raise_after_bounded_retries(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        config: dict[str, object]) -> None:
    hub = load(config, clock=unified_auth_clock)
    liana_emulator.inject_fault("status", status=503, times=10)
    with pytest.raises(TokenEndpointError, match="giving up after 3 attempts"):
        hub.credentials("api")
    assert liana_emulator.counters.token_requests == 3


@responses.activate
def test_a_provider_returning_the_same_nearly_expired_token_is_not_asked_every_call(
        unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    expires_at = unified_auth_clock() + 100
    calls: list[float] = []

    def token(request: object) -> tuple[int, dict[str, str], str]:
        calls.append(unified_auth_clock())
        lifetime = expires_at - unified_auth_clock()
        return 200, {}, f'{{"access_token": "same", "expires_in": {lifetime}}}'

    responses.add_callback(responses.POST, "https://auth.example.com/token", callback=token)
    secret = write_secret(tmp_path / "s", "secret-value")
    hub = load({"targets": {"api": {
        "provider": "toy", "hosts": ["api.example.com"], "client_id": "c",
        "client_secret": {"file": str(secret)},
        "token_url": "https://auth.example.com/token"}}}, clock=unified_auth_clock)
    hub.credentials("api")
    # mandatory window: one refresh, which brings back the same token
    unified_auth_clock.advance(95)
    for _ in range(50):
        hub.credentials("api")
        unified_auth_clock.advance(0.08)
    assert len(calls) == 2


def test_credentials_that_do_not_expire_are_fetched_once(unified_auth_clock: ManualClock,
                                                         tmp_path: Path) -> None:
    key = write_secret(tmp_path / "key", "static-key-value")
    hub = load({"targets": {"k": {"provider": "toy-key", "hosts": ["api.example.com"],
                                  "key": {"file": str(key)}}}}, clock=unified_auth_clock)
    first = hub.credentials("k")
    unified_auth_clock.advance(10 * 365 * 86400)
    assert hub.credentials("k") is first


def test_invalidate_drops_only_the_lease_it_is_given(liana_emulator: LianaEmulator,
                                                     unified_auth_clock: ManualClock,
                                                     config: dict[str, object]) -> None:
    hub = load(config, clock=unified_auth_clock)
    target = hub.target("api")
    old = hub.broker.lease(target)
    hub.broker.invalidate(old)
    newer = hub.broker.lease(target)
    assert newer.credentials != old.credentials
    hub.broker.invalidate(old)  # a late 401 for the old token
    assert hub.broker.lease(target) is newer
    assert liana_emulator.counters.tokens_issued == 2


def test_a_rotated_secret_is_picked_up_from_its_file_without_a_restart(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    client_id, secret = liana_emulator.create_credential("rotating")
    secret_file = write_secret(tmp_path / "rotating.secret", secret)
    hub = load({"targets": {"api": toy_target(liana_emulator.url, client_id, secret_file)}},
               clock=unified_auth_clock)
    first = hub.credentials("api")
    write_secret(secret_file, liana_emulator.rotate_secret(client_id))
    unified_auth_clock.advance(LIFETIME * 0.95)
    assert hub.credentials("api") != first  # rejected, re-resolved, fetched with the new one
    assert liana_emulator.counters.tokens_issued == 2


def test_a_rejected_client_with_an_unchanged_secret_raises(liana_emulator: LianaEmulator,
                                                           unified_auth_clock: ManualClock,
                                                           tmp_path: Path) -> None:
    client_id, _ = liana_emulator.create_credential("wrong")
    secret_file = write_secret(tmp_path / "wrong.secret", "not-the-secret")
    hub = load({"targets": {"api": toy_target(liana_emulator.url, client_id, secret_file)}},
               clock=unified_auth_clock)
    with pytest.raises(CredentialsRejected):
        hub.credentials("api")
    assert liana_emulator.counters.token_requests == 1  # re-resolved, unchanged: not asked again


def test_refresh_windows_come_from_the_config(liana_emulator: LianaEmulator,
                                              unified_auth_clock: ManualClock,
                                              config: dict[str, object]) -> None:
    config = {**config, "refresh": {"advisory": 0.5, "mandatory": 0.6}}
    hub = load(config, clock=unified_auth_clock)
    first = hub.credentials("api")
    unified_auth_clock.advance(LIFETIME * 0.55)
    hub.credentials("api")
    wait_until(lambda: hub.credentials("api") is not first)


@pytest.fixture
def short_lived(unified_auth_clock: ManualClock,
                tmp_path: Path) -> Iterator[tuple[LianaEmulator, dict[str, object]]]:
    """The Liana emulator handing out 4 s tokens: shorter than the default min_interval."""
    with LianaEmulator(clock=unified_auth_clock, expires_in=4) as emulator:
        client_id, secret = emulator.create_credential("short")
        secret_file = write_secret(tmp_path / "short.secret", secret)
        yield emulator, {"targets": {"api": toy_target(emulator.url, client_id, secret_file)}}


def test_a_token_shorter_than_min_interval_keeps_its_refresh_windows(
        short_lived: tuple[LianaEmulator, dict[str, object]],
        unified_auth_clock: ManualClock) -> None:
    _, config = short_lived
    hub = load(config, clock=unified_auth_clock)
    lease = hub.broker.lease(hub.target("api"))
    assert hub.config.refresh.min_interval > 4
    assert lease.advisory_at == pytest.approx(lease.obtained_at + 3.0)
    assert lease.mandatory_at == pytest.approx(lease.obtained_at + 3.6)
    assert lease.advisory_at < lease.mandatory_at < lease.expires_at


def test_a_short_token_is_renewed_in_the_background_before_it_expires(
        short_lived: tuple[LianaEmulator, dict[str, object]],
        unified_auth_clock: ManualClock) -> None:
    liana, config = short_lived
    hub = load(config, clock=unified_auth_clock)
    session = hub.session()
    url = f"{liana.url}/v1/lists"
    for lifetime in range(5):
        first = hub.credentials("api")
        unified_auth_clock.advance(3.2)  # past advisory (3 s), before mandatory (3.6 s)
        assert hub.credentials("api") is first  # the caller did not wait
        wait_until(lambda first=first: hub.credentials("api") is not first)
        assert session.get(url).status_code == 200
        assert liana.counters.tokens_issued == lifetime + 2
    for _ in range(80):  # 20 s in quarter-second steps: about seven lifetimes
        assert session.get(url).status_code == 200
        unified_auth_clock.advance(0.25)
        time.sleep(0.002)  # let a background refresh land, as real time would
    counters = liana.counters
    assert counters.expired_token_requests == 0
    assert counters.rejected_requests == 0


@attrs.frozen
class StuckOptions:
    name: str = "stuck"


class StuckPlugin:
    """A plugin that hangs outside the token session until released (bounded: 5 s)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    @unified_auth.hookimpl
    def register_providers(self, register: Any) -> None:
        register("stuck", StuckOptions)

    @unified_auth.hookimpl
    def get_credentials(self, target: Target, http: object, now: datetime) -> Credentials | None:
        self.entered.set()
        self.release.wait(5)
        return Credentials(value=Secret("stuck-token-canary"), expires_at=None)


def test_callers_joining_a_stuck_fetch_wait_a_bounded_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from unified_auth import RetryPolicy
    from unified_auth.config import secret_sources

    monkeypatch.setattr(secret_sources, "COMMAND_TIMEOUT", 0.0)
    plugin = StuckPlugin()
    hub = load_isolated({"targets": {"s": {"provider": "stuck", "hosts": ["s.example.com"]}}},
                        plugins=[plugin],
                        retry=RetryPolicy(fetch_deadline=0.3))
    leader = threading.Thread(target=hub.credentials, args=("s",))
    leader.start()
    assert plugin.entered.wait(5)
    started = time.monotonic()
    with pytest.raises(TokenEndpointError, match=r"did not finish within 0\.6 s"):
        hub.credentials("s")
    assert time.monotonic() - started < 3
    plugin.release.set()
    leader.join(timeout=5)
    assert hub.credentials("s").value.reveal() == "stuck-token-canary"


def test_close_lets_a_background_refresh_in_flight_end_first(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        config: dict[str, object]) -> None:
    # A refresh cut short by close() would write a cache being closed (or a directory
    # being removed): close waits for it, within its bound.
    hub = load(config, clock=unified_auth_clock)
    first = hub.credentials("api")
    liana_emulator.inject_fault("delay", seconds=0.5)
    unified_auth_clock.advance(LIFETIME * 0.8)  # past advisory: a background refresh starts
    assert hub.credentials("api") is first
    wait_until(lambda: liana_emulator.counters.token_requests == 2)
    started = time.monotonic()
    hub.close()
    assert time.monotonic() - started < 5.0
    stats = hub.stats("api")
    assert (stats.fetches, stats.background_refreshes) == (2, 1)
