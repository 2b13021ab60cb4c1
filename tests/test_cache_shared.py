"""What both shared caches (``file`` and ``redis``) guarantee, run against each of them.

Hubs in one test stand for processes: each has its own broker and memory, and they meet
only in the shared cache, as two processes would.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import filelock
import pytest
import redis
from cache_workers import fetch_once, liana_config
from redis_server import RedisServer

import unified_auth
from unified_auth import Secret
from unified_auth.cache import LayeredCache, SharedStore
from unified_auth.cache.file import FileStore
from unified_auth.cache.redis import RedisStore
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks

Backend = Callable[..., dict[str, Any]]


@pytest.fixture(params=["file", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A function giving the ``[cache]`` table of the backend under test (extra keys added)."""
    if request.param == "file":
        directory = tmp_path / "cache"
        return lambda **extra: {"backend": "file", "path": str(directory), **extra}
    server: RedisServer = request.getfixturevalue("redis_server")
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    request.getfixturevalue("monkeypatch").setenv("TEST_REDIS_PASSWORD", server.password)
    return lambda **extra: {"backend": "redis", "url": server.url, "key_prefix": prefix,
                            "password": {"env": "TEST_REDIS_PASSWORD"}, **extra}


@pytest.fixture
def credential(liana_emulator: LianaEmulator, tmp_path: Path) -> tuple[str, Path, str]:
    client_id, secret = liana_emulator.create_credential("shared-cache test")
    secret_file = tmp_path / "liana.secret"
    secret_file.write_text(secret)
    return client_id, secret_file, secret


def _hub(liana: LianaEmulator, credential: tuple[str, Path, str], cache: dict[str, Any],
         clock: ManualClock, **refresh: float) -> unified_auth.UnifiedAuth:
    client_id, secret_file, _ = credential
    return unified_auth.load(liana_config(liana, client_id, secret_file, cache, **refresh),
                             clock=clock)


def _stored_bytes(cache: dict[str, Any], server: RedisServer | None) -> list[bytes]:
    if cache["backend"] == "file":
        return [p.read_bytes() for p in Path(cache["path"]).iterdir()] + \
            [p.name.encode() for p in Path(cache["path"]).iterdir()]
    assert server is not None
    return [part for key, value in server.scan().items() for part in (key, value)]


def _wait_for_refreshes() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("unified-auth-refresh-"):
            thread.join(timeout=10)


def test_a_second_process_reads_the_token_the_first_fetched(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str],
        unified_auth_clock: ManualClock) -> None:
    with _hub(liana_emulator, credential, backend(), unified_auth_clock) as first, \
            _hub(liana_emulator, credential, backend(), unified_auth_clock) as second:
        token = first.credentials("mailer").value
        assert second.credentials("mailer").value == token
    assert liana_emulator.counters.token_requests == 1


def test_the_cache_holds_tokens_never_secrets(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str],
        unified_auth_clock: ManualClock, request: pytest.FixtureRequest) -> None:
    cache = backend()
    with _hub(liana_emulator, credential, cache, unified_auth_clock) as hub:
        token = hub.credentials("mailer").value.reveal()
    server = request.getfixturevalue("redis_server") if cache["backend"] == "redis" else None
    stored = _stored_bytes(cache, server)
    assert any(token.encode() in chunk for chunk in stored), "the token is shared"
    secrets = [credential[2]] + ([server.password] if server is not None else [])
    assert_no_leaks(stored, secrets)


def test_a_rotated_secret_never_gets_the_old_token(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str],
        unified_auth_clock: ManualClock) -> None:
    client_id, secret_file, _ = credential
    with _hub(liana_emulator, credential, backend(), unified_auth_clock) as first:
        old = first.credentials("mailer").value
    secret_file.write_text(liana_emulator.rotate_secret(client_id))
    with _hub(liana_emulator, credential, backend(), unified_auth_clock) as second:
        assert second.credentials("mailer").value != old
    assert liana_emulator.counters.token_requests == 2


def test_a_401_drops_the_shared_token_only_if_it_is_still_the_rejected_one(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str],
        unified_auth_clock: ManualClock) -> None:
    with _hub(liana_emulator, credential, backend(), unified_auth_clock) as first, \
            _hub(liana_emulator, credential, backend(), unified_auth_clock) as second:
        old = first.credentials("mailer").value
        assert second.credentials("mailer").value == old
        liana_emulator.revoke_tokens()
        answer = first.session().get(f"{liana_emulator.url}/v1/lists", timeout=5)
        assert answer.status_code == 200, "retried with a fresh token"
        fresh = first.credentials("mailer").value
        assert fresh != old
        # The second process is rejected with the old token: its compare-and-delete must
        # leave the fresh token in the cache, and it picks that one up.
        answer = second.session().get(f"{liana_emulator.url}/v1/lists", timeout=5)
        assert answer.status_code == 200
        assert second.credentials("mailer").value == fresh
    assert liana_emulator.counters.token_requests == 2


def test_in_the_advisory_window_one_process_refreshes_and_the_others_read_it(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str],
        unified_auth_clock: ManualClock) -> None:
    url = f"{liana_emulator.url}/v1/lists"
    with _hub(liana_emulator, credential, backend(), unified_auth_clock,
              min_interval=0.0) as first, \
            _hub(liana_emulator, credential, backend(), unified_auth_clock,
                 min_interval=0.0) as second:
        old = first.credentials("mailer").value
        assert second.credentials("mailer").value == old
        unified_auth_clock.advance(700)  # past 75 % of 900 s: the advisory window
        assert first.session().get(url, timeout=5).status_code == 200
        _wait_for_refreshes()
        assert liana_emulator.counters.token_requests == 2, "the first process refreshed"
        assert second.session().get(url, timeout=5).status_code == 200
        _wait_for_refreshes()
        assert second.credentials("mailer").value == first.credentials("mailer").value != old
    assert liana_emulator.counters.token_requests == 2, "the second read the refreshed token"


def test_a_background_refresh_skips_while_another_process_holds_the_lock(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str],
        unified_auth_clock: ManualClock, request: pytest.FixtureRequest) -> None:
    url = f"{liana_emulator.url}/v1/lists"
    cache = backend()
    with _hub(liana_emulator, credential, cache, unified_auth_clock, min_interval=0.0) as hub:
        old = hub.credentials("mailer").value
        unified_auth_clock.advance(700)
        with _held_lock(cache, request):
            started = time.monotonic()
            assert hub.session().get(url, timeout=5).status_code == 200
            _wait_for_refreshes()
            assert time.monotonic() - started < 2, "the refresh did not wait for the lock"
            assert liana_emulator.counters.token_requests == 1, "skipped: another process fetches"
            assert hub.credentials("mailer").value == old
        unified_auth_clock.advance(2)  # past the pause after a skip
        assert hub.session().get(url, timeout=5).status_code == 200
        _wait_for_refreshes()
        assert hub.credentials("mailer").value != old
    assert liana_emulator.counters.token_requests == 2


def test_a_lock_holder_killed_mid_fetch_blocks_the_others_at_most_the_lock_timeout(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str]) -> None:
    client_id, secret_file, _ = credential
    lock_timeout = 2.0
    config = liana_config(liana_emulator, client_id, secret_file,
                          backend(lock_timeout=lock_timeout))
    liana_emulator.inject_fault("delay", seconds=20)
    holder = multiprocessing.get_context("spawn").Process(target=fetch_once, args=(config,))
    holder.start()
    try:
        deadline = time.monotonic() + 30
        while liana_emulator.counters.token_requests == 0:
            assert time.monotonic() < deadline, "the holder never asked for a token"
            assert holder.exitcode is None
            time.sleep(0.02)
        holder.kill()  # SIGKILL: no chance to release anything
        holder.join(timeout=10)
    finally:
        if holder.is_alive():
            holder.kill()
    started = time.monotonic()
    with unified_auth.load(config) as hub:
        hub.credentials("mailer")
    assert time.monotonic() - started < lock_timeout + 1.5
    assert liana_emulator.counters.token_requests == 2


@pytest.fixture
def logs_at_warning(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="unified_auth")
    return caplog


def _held_lock(cache: dict[str, Any], request: pytest.FixtureRequest) -> Any:
    """Hold the fetch lock of the one target as another process would."""
    if cache["backend"] == "file":
        names = {p.stem for p in Path(cache["path"]).glob("*.token")}
        (name,) = names
        return filelock.FileLock(Path(cache["path"]) / f"{name}.lock", thread_local=False)
    server: RedisServer = request.getfixturevalue("redis_server")
    client = server.client()
    (key,) = [k for k in client.scan_iter(match=f"{cache['key_prefix']}*")]
    return _RedisHeld(client, key.decode().replace(cache["key_prefix"],
                                                   f"{cache['key_prefix']}lock:", 1))


class _RedisHeld:
    def __init__(self, client: redis.Redis, name: str) -> None:
        self.lock = client.lock(name, timeout=30)

    def __enter__(self) -> None:
        assert self.lock.acquire(blocking=False)

    def __exit__(self, *exc_info: object) -> None:
        self.lock.release()


def _store(cache: dict[str, Any], **bounds: float) -> SharedStore:
    """The store ``cache`` names, built by hand to set the bounds the config does not."""
    if cache["backend"] == "file":
        return FileStore(Path(cache["path"]), **bounds)
    password = Secret(os.environ["TEST_REDIS_PASSWORD"])
    return RedisStore(cache["url"], password=lambda: password, key_prefix=cache["key_prefix"],
                      **bounds)


def test_every_wait_is_bounded_even_with_the_lock_never_released(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str],
        unified_auth_clock: ManualClock, request: pytest.FixtureRequest,
        logs_at_warning: pytest.LogCaptureFixture) -> None:
    # A holder that never lets go is stuck (a live one renews its lock while it fetches, for
    # as long as a fetch may take: hold_limit); the waiter fetches after that.
    cache = backend(lock_timeout=1.0)
    client_id, secret_file, _ = credential
    config = liana_config(liana_emulator, client_id, secret_file, cache)
    store = _store(cache, lock_timeout=1.0, hold_limit=1.0)
    with unified_auth.load(config, clock=unified_auth_clock,
                           cache=LayeredCache(store, unified_auth_clock)) as hub:
        hub.credentials("mailer")
        # expired: the next request must fetch, and waits for the lock
        unified_auth_clock.advance(1000)
        with _held_lock(cache, request):
            started = time.monotonic()
            hub.credentials("mailer")
            assert time.monotonic() - started < 3
    assert liana_emulator.counters.token_requests == 2
    assert [r for r in logs_at_warning.records if "waited" in r.getMessage()]


def test_the_slow_key_is_computed_once_per_secret_never_per_request(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str],
        unified_auth_clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_scrypt = hashlib.scrypt

    def counting_scrypt(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return real_scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    client_id, secret_file, _ = credential
    with _hub(liana_emulator, credential, backend(), unified_auth_clock, min_interval=0.0) as hub:
        session = hub.session()
        for _ in range(5):
            assert session.get(f"{liana_emulator.url}/v1/lists", timeout=5).status_code == 200
            unified_auth_clock.advance(1000)  # every round fetches again
        assert len(calls) == 1
        secret_file.write_text(liana_emulator.rotate_secret(client_id))
        liana_emulator.revoke_tokens()
        assert session.get(f"{liana_emulator.url}/v1/lists", timeout=5).status_code == 200
    assert len(calls) == 2, "once more for the rotated secret"


def test_shared_keys_carry_no_fast_digest_of_the_secret(
        backend: Backend, liana_emulator: LianaEmulator, credential: tuple[str, Path, str],
        unified_auth_clock: ManualClock, request: pytest.FixtureRequest) -> None:
    cache = backend()
    with _hub(liana_emulator, credential, cache, unified_auth_clock) as hub:
        hub.credentials("mailer")
    server = request.getfixturevalue("redis_server") if cache["backend"] == "redis" else None
    stored = b"".join(_stored_bytes(cache, server))
    secret = Secret(credential[2])
    for cheap in (secret.fingerprint, hashlib.sha256(credential[2].encode()).hexdigest()):
        assert cheap[:16].encode() not in stored
