"""Observers off the request path: the hub's delivery thread, its bounded queue, flushing.

A slow observer is made deterministic rather than timed: it blocks on a
:class:`threading.Event` that the test sets only after the request has returned, so a
request that waited for it could not return at all (every wait is bounded, so such a
regression fails instead of hanging).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from observers import Recorder
from toy_provider import ToyPlugin, toy_target, write_secret

import unified_auth
from unified_auth import CredentialsEvent, RetryPolicy, hookimpl
from unified_auth.core.delivery import CAPACITY, EventDelivery
from unified_auth.core.plugin_manager import Hooks, make_plugin_manager
from unified_auth.testing import LianaEmulator, ManualClock, load_isolated

WAIT = 10.0  # the bound of every wait in this module


class Blocking(Recorder):
    """An observer that holds the delivery thread on each event until released."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    @hookimpl
    def credentials_event(self, event: CredentialsEvent) -> None:
        self.entered.set()
        self.release.wait(WAIT)
        self.events.append(event)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


@pytest.fixture
def secret_file(liana_emulator: LianaEmulator, tmp_path: Path) -> tuple[str, Path]:
    client_id, secret = liana_emulator.create_credential("tests")
    return client_id, write_secret(tmp_path / "toy.secret", secret)


def hub_for(liana: LianaEmulator, clock: ManualClock, secret_file: tuple[str, Path],
            *observers: object) -> unified_auth.UnifiedAuth:
    client_id, path = secret_file
    config = {"targets": {"api": toy_target(liana.url, client_id, path),
                          "other": toy_target(liana.url, client_id, path,
                                              hosts=["other.example"])}}
    return load_isolated(config, plugins=[ToyPlugin(), *observers],
                         clock=clock, retry=RetryPolicy(sleep=lambda seconds: None))


def delivery(*observers: object, **options: float) -> EventDelivery:
    pm, _ = make_plugin_manager(observers, entry_points=False)
    return EventDelivery(Hooks(pm), **options)  # type: ignore[arg-type]


def event(target: str = "api", kind: str = "rejected") -> CredentialsEvent:
    return CredentialsEvent(kind=kind, target=target, at=datetime.now(UTC))  # type: ignore[arg-type]


def test_a_blocked_observer_delays_no_request(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        secret_file: tuple[str, Path]) -> None:
    slow = Blocking()
    hub = hub_for(liana_emulator, unified_auth_clock, secret_file, slow)
    session = hub.session()
    try:
        # The first request fetches a token: its event is with the observer, which holds
        # on to it until released; the request has already returned.
        assert session.get(f"{liana_emulator.url}/v1/lists", timeout=WAIT).status_code == 200
        assert slow.entered.wait(WAIT)
        assert slow.events == []
        assert hub.stats("api").fetches == 1
        assert hub.flush_events(timeout=0.05) is False  # still busy: flush says so, bounded
    finally:
        slow.release.set()
    assert hub.flush_events(timeout=WAIT)
    assert slow.kinds() == ["fetched"]


def test_a_burst_of_10000_events_blocks_nothing_and_the_drops_are_counted(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        secret_file: tuple[str, Path]) -> None:
    slow = Blocking()
    hub = hub_for(liana_emulator, unified_auth_clock, secret_file, slow)
    session = hub.session()
    burst = 10_000
    try:
        lease = hub.broker.lease(hub.target("api"))  # its "fetched" event holds the observer
        assert slow.entered.wait(WAIT)
        done = threading.Event()

        def rejections() -> None:
            # What a 401 does to the broker, 10,000 times: the first drops the lease
            # ("rejected" and "invalidated"), each later one only counts ("rejected").
            for _ in range(burst):
                hub.broker.invalidate(lease)
            done.set()

        worker = threading.Thread(target=rejections)
        worker.start()
        worker.join(WAIT)
        assert done.is_set(), "a full queue blocked the thread that emitted the events"
        # A request meanwhile: it fetches again (its event is dropped too) and returns.
        assert session.get(f"{liana_emulator.url}/v1/lists", timeout=WAIT).status_code == 200
        assert not slow.release.is_set() and slow.events == []
    finally:
        slow.release.set()
    assert hub.flush_events(timeout=WAIT)
    emitted = 1 + burst + 1 + 1  # fetched, the rejections, invalidated, fetched again
    stats = hub.stats("api")
    assert (stats.rejections, stats.fetches) == (burst, 2)
    assert len(slow.events) == 1 + CAPACITY  # the one held, then a full queue
    assert stats.dropped_events == emitted - len(slow.events)
    assert hub.stats("other").dropped_events == 0  # counted per target
    assert slow.kinds()[:3] == ["fetched", "rejected", "invalidated"]


def test_events_arrive_in_order_and_a_raising_observer_stops_no_delivery(
        caplog: pytest.LogCaptureFixture) -> None:
    class Exploding:
        @hookimpl
        def credentials_event(self, event: CredentialsEvent) -> None:
            raise RuntimeError("observer bug")

    recorder = Recorder()
    events = delivery(Exploding(), recorder)
    sent = [event(target, kind) for kind in ("fetched", "rejected", "invalidated")
            for target in ("a", "b")]
    for item in sent:
        events.submit(item)
    assert events.flush(WAIT)
    assert recorder.events == sent
    failed = [r.getMessage() for r in caplog.records if "failed observing" in r.getMessage()]
    assert len(failed) == len(sent)
    assert all("plugin 'test_delivery." in message and ".Exploding' failed" in message
               for message in failed)  # the plugin is named


def test_no_thread_runs_without_observers_and_an_idle_one_ends() -> None:
    quiet = delivery()
    quiet.submit(event())
    assert not quiet.running
    assert quiet.flush(0.0)

    recorder = Recorder()
    events = delivery(recorder, idle=0.05)
    events.submit(event(kind="fetched"))
    assert events.running
    assert events.flush(WAIT)
    wait_until(lambda: not events.running)
    events.submit(event(kind="rejected"))  # a new event starts a new thread
    assert events.flush(WAIT)
    assert recorder.kinds() == ["fetched", "rejected"]


def test_flush_from_an_observer_returns_at_once() -> None:
    answers: list[bool] = []
    events: EventDelivery

    class Flusher:
        @hookimpl
        def credentials_event(self, event: CredentialsEvent) -> None:
            answers.append(events.flush(WAIT))

    events = delivery(Flusher())
    started = time.monotonic()
    events.submit(event())
    assert events.flush(WAIT)
    assert answers == [False]
    assert time.monotonic() - started < WAIT / 2


def test_close_delivers_what_it_can_within_its_bound_then_drops_and_counts() -> None:
    slow = Blocking()
    events = delivery(slow)
    try:
        events.submit(event("a"))
        assert slow.entered.wait(WAIT)
        events.submit(event("a"))  # queued behind the held one
        assert events.close(timeout=0.05) is False
        events.submit(event("b"))  # after close
    finally:
        slow.release.set()
    assert events.flush(WAIT)
    assert len(slow.events) == 1
    assert (events.dropped("a"), events.dropped("b")) == (1, 1)


def test_closing_the_hub_delivers_the_pending_events(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        secret_file: tuple[str, Path]) -> None:
    recorder = Recorder()
    with hub_for(liana_emulator, unified_auth_clock, secret_file, recorder) as hub:
        hub.credentials("api")
    assert recorder.kinds() == ["fetched"]


def test_the_interpreter_exit_delivers_the_pending_events(tmp_path: Path) -> None:
    # A program that never closes its hub: the event its last call caused still reaches
    # a slow observer before the process ends.
    program = textwrap.dedent("""
        import time
        from pathlib import Path
        import unified_auth
        from unified_auth import hookimpl
        from unified_auth.testing import LianaEmulator, write_secret

        class Slow:
            @hookimpl
            def credentials_event(self, event):
                time.sleep(0.3)
                print("observed", event.kind, event.target, flush=True)

        with LianaEmulator() as liana:
            client_id, secret = liana.create_credential("exit")
            path = write_secret(Path(__file__).with_name("s"), secret)
            ua = unified_auth.load({"targets": {"api": {
                "provider": "liana", "hosts": [f"{liana.url}/v1/"], "client_id": client_id,
                "client_secret": {"file": str(path)}, "token_url": liana.token_url}}},
                plugins=[Slow()])
            ua.credentials("api")
            print("returned", flush=True)
    """)
    script = tmp_path / "program.py"
    script.write_text(program, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["returned", "observed fetched api"]


def test_a_forked_child_delivers_its_own_events() -> None:
    # A hub made before a fork (gunicorn's preload): the parent's delivery thread does not
    # exist in the child, which must start its own.
    program = textwrap.dedent("""
        import os, sys
        from datetime import UTC, datetime
        sys.path.insert(0, "tests")
        from observers import Recorder
        from unified_auth import CredentialsEvent
        from unified_auth.core.delivery import EventDelivery
        from unified_auth.core.plugin_manager import Hooks, make_plugin_manager

        recorder = Recorder()
        events = EventDelivery(Hooks(make_plugin_manager([recorder], entry_points=False)[0]))
        def event(kind):
            return CredentialsEvent(kind=kind, target="api", at=datetime.now(UTC))
        events.submit(event("fetched"))
        assert events.flush(10) and events.running
        pid = os.fork()
        if pid == 0:
            events.submit(event("rejected"))
            ok = events.flush(10) and recorder.kinds() == ["fetched", "rejected"]
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), recorder.kinds())
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60, check=False, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0 ['fetched']\n"
