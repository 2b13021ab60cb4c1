"""A token endpoint slower than the fetch lock's lifetime still causes one fetch for the fleet.

Four hubs (each its own broker and memory, as four processes would be) need the same token
at once from a token endpoint that takes 2.5 s, with ``lock_timeout = 1``. The holder's lock
is renewed while it fetches (Redis) or held by the OS for as long as the holder lives
(file); the others wait, then read the holder's token from the shared cache.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cache_workers import liana_config
from redis_server import RedisServer

import unified_auth
from unified_auth.testing import LianaEmulator

HUBS = 4
SLOW = 2.5


def _cache(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    if backend == "file":
        return {"backend": "file", "path": str(tmp_path / "cache"), "lock_timeout": 1}
    server: RedisServer = request.getfixturevalue("redis_server")
    request.getfixturevalue("monkeypatch").setenv("TEST_REDIS_PASSWORD", server.password)
    return {"backend": "redis", "url": server.url, "key_prefix": f"renew-{uuid.uuid4().hex}:",
            "password": {"env": "TEST_REDIS_PASSWORD"}, "lock_timeout": 1}


@pytest.fixture
def liana_emulator() -> Iterator[LianaEmulator]:
    with LianaEmulator() as emulator:  # real time: the hubs run on the real clock
        yield emulator


@pytest.mark.parametrize("backend", ["redis", "file"])
def test_four_hubs_and_a_token_endpoint_slower_than_the_lock_fetch_once(
        backend: str, tmp_path: Path, liana_emulator: LianaEmulator,
        request: pytest.FixtureRequest) -> None:
    client_id, secret = liana_emulator.create_credential("lock renewal")
    secret_file = tmp_path / "liana.secret"
    secret_file.write_text(secret)
    secret_file.chmod(0o600)
    config = liana_config(liana_emulator, client_id, secret_file,
                          _cache(backend, tmp_path, request))
    liana_emulator.inject_fault("delay", times=HUBS, seconds=SLOW)
    hubs = [unified_auth.load(config) for _ in range(HUBS)]
    start = threading.Barrier(HUBS)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def need_token(hub: unified_auth.UnifiedAuth) -> None:
        start.wait(timeout=10)
        try:
            tokens.append(hub.credentials("mailer").value.reveal())
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=need_token, args=(hub,)) for hub in hubs]
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for hub in hubs:
            hub.close()
    elapsed = time.monotonic() - started
    assert not errors, errors
    assert liana_emulator.counters.token_requests == 1, "counted at the token endpoint"
    assert len(set(tokens)) == 1 and len(tokens) == HUBS
    assert SLOW <= elapsed < SLOW + 2, "the waiters read the holder's token once it was stored"
