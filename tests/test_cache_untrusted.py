"""A shared-cache entry is untrusted input: what another process (or someone who can write the
store) put there gets the checks fresh credentials get, is never quoted, and never blocks.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from cache_workers import liana_config
from redis_server import RedisServer

import unified_auth
from unified_auth.cache.file import FileStore
from unified_auth.errors import ConfigError
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks

EVIL = "\r\nX-Evil: 1"


@pytest.fixture
def credential(liana_emulator: LianaEmulator, tmp_path: Path) -> tuple[str, Path]:
    client_id, secret = liana_emulator.create_credential("untrusted cache test")
    secret_file = tmp_path / "liana.secret"
    secret_file.write_text(secret)
    secret_file.chmod(0o600)
    return client_id, secret_file


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="unified_auth")
    return caplog


def _file_config(liana: LianaEmulator, credential: tuple[str, Path],
                 directory: Path) -> dict[str, Any]:
    return liana_config(liana, *credential, {"backend": "file", "path": str(directory)})


def _token_file(directory: Path) -> Path:
    (path,) = directory.glob("*.token")
    return path


def _poisoned(data: bytes, **changes: Any) -> bytes:
    document = json.loads(data)
    document.update(changes)
    return json.dumps(document).encode()


def _warned(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and words in r.getMessage()]


def _get_lists(hub: unified_auth.UnifiedAuth, liana: LianaEmulator) -> int:
    return hub.session().get(f"{liana.url}/v1/lists", timeout=5).status_code


@pytest.mark.parametrize("change", [
    {"value": "TOKEN" + EVIL}, {"value": "TOKEN\x00"}, {"value": "TOKEN with spaces"},
    {"token_type": "Bearer" + EVIL}, {"value": 12345}, {"expires_at": 1e300},
], ids=["crlf-token", "nul-token", "space-token", "crlf-token-type", "number-token",
        "far-expiry"])
def test_a_file_entry_fresh_credentials_could_not_be_is_corrupt_one_warning_and_a_refetch(
        liana_emulator: LianaEmulator, credential: tuple[str, Path], tmp_path: Path,
        unified_auth_clock: ManualClock, warnings: pytest.LogCaptureFixture,
        change: dict[str, Any]) -> None:
    directory = tmp_path / "cache"
    config = _file_config(liana_emulator, credential, directory)
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        token = hub.credentials("mailer").value.reveal()
    path = _token_file(directory)
    shown = {k: (token + v[5:] if isinstance(v, str) and v.startswith("TOKEN") else v)
             for k, v in change.items()}
    path.write_bytes(_poisoned(path.read_bytes(), **shown))
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        for _ in range(3):
            assert _get_lists(hub, liana_emulator) == 200  # never requests' raw ValueError
    bad = _warned(warnings, "not a valid cache entry")
    assert len(bad) == 1, bad
    assert str(path) in bad[0]
    assert_no_leaks(bad[0], [token])
    assert liana_emulator.counters.token_requests == 2, "the bad entry was replaced by a fetch"
    assert json.loads(path.read_bytes())["value"] != token


def test_a_redis_entry_with_a_line_break_or_of_another_type_is_corrupt_and_refetched(
        liana_emulator: LianaEmulator, credential: tuple[str, Path], redis_server: RedisServer,
        unified_auth_clock: ManualClock, warnings: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_REDIS_PASSWORD", redis_server.password)
    prefix = f"untrusted-{uuid.uuid4().hex[:8]}:"
    config = liana_config(liana_emulator, *credential, {
        "backend": "redis", "url": redis_server.url, "key_prefix": prefix,
        "password": {"env": "TEST_REDIS_PASSWORD"}})
    client = redis_server.client()
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        token = hub.credentials("mailer").value.reveal()
    (key,) = [k for k in client.scan_iter(match=f"{prefix}*") if b"lock:" not in k]
    client.set(key, _poisoned(client.get(key), value=token + EVIL), px=60_000)
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        assert _get_lists(hub, liana_emulator) == 200
    client.delete(key)
    client.rpush(key, b"a list where an entry belongs")
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        assert _get_lists(hub, liana_emulator) == 200
    bad = _warned(warnings, "is not valid")
    assert len(bad) == 2, bad
    assert "HTTP header" in bad[0] and "another type" in bad[1]
    assert not _warned(warnings, "unavailable"), "a bad entry is no failure of the server"
    assert_no_leaks(" ".join(bad), [token])
    assert liana_emulator.counters.token_requests == 3


def test_a_fifo_in_place_of_a_cache_file_is_refused_without_blocking(
        liana_emulator: LianaEmulator, credential: tuple[str, Path], tmp_path: Path,
        unified_auth_clock: ManualClock, warnings: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "cache"
    config = _file_config(liana_emulator, credential, directory)
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        hub.credentials("mailer")
    path = _token_file(directory)
    key = json.loads(path.read_bytes())["key"]
    path.unlink()
    os.mkfifo(path, 0o600)
    loaded: list[object] = []
    reader = threading.Thread(target=lambda: loaded.append(
        FileStore(directory).load(key, 0.0)), daemon=True)
    started = time.monotonic()
    reader.start()
    reader.join(timeout=2)
    assert loaded == [None], "FileStore.load did not return: the FIFO blocked it"
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        for _ in range(2):
            assert _get_lists(hub, liana_emulator) == 200
    assert time.monotonic() - started < 2, "a FIFO must not block the read"
    fifo = _warned(warnings, "not a regular file but a FIFO")
    assert len(fifo) == 2, "one warning per store that met it"
    assert str(path) in fifo[0]
    assert path.is_file(), "the fetch replaced the FIFO with a regular entry"
    assert liana_emulator.counters.token_requests == 2


def test_a_symbolic_link_in_place_of_a_cache_file_is_not_followed(
        liana_emulator: LianaEmulator, credential: tuple[str, Path], tmp_path: Path,
        unified_auth_clock: ManualClock, warnings: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "cache"
    config = _file_config(liana_emulator, credential, directory)
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        hub.credentials("mailer")
    path = _token_file(directory)
    planted = tmp_path / "planted"
    planted.write_bytes(path.read_bytes())  # a valid entry, but not in the cache directory
    path.unlink()
    path.symlink_to(planted)
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        assert _get_lists(hub, liana_emulator) == 200
    assert len(_warned(warnings, "cannot be read (ELOOP")) == 1
    assert liana_emulator.counters.token_requests == 2


@pytest.mark.parametrize(("mode", "owner", "refused"), [
    (0o777, None, "writable by other users and not sticky (mode 777)"),
    (0o775, None, "writable by other users and not sticky (mode 775)"),
    (0o755, 12345, "belongs to another user (uid 12345)"),
    (0o1777, None, None),
    (0o755, None, None),
], ids=["world-writable", "group-writable", "foreign-owner", "sticky", "private"])
def test_a_parent_others_may_change_is_refused_with_its_name(
        liana_emulator: LianaEmulator, credential: tuple[str, Path], tmp_path: Path,
        mode: int, owner: int | None, refused: str | None) -> None:
    parent = tmp_path / "shared" / "deeper"
    parent.mkdir(parents=True)
    (tmp_path / "shared").chmod(mode)
    if owner is not None:
        if os.getuid() != 0:
            pytest.skip("needs root to give a directory to another user")
        os.chown(tmp_path / "shared", owner, -1)
    config = _file_config(liana_emulator, credential, parent / "cache")
    if refused is None:
        with unified_auth.load(config) as hub:
            hub.credentials("mailer")
        return
    with pytest.raises(ConfigError) as error:
        unified_auth.load(config)
    message = str(error.value)
    assert refused in message and str(tmp_path / "shared") in message
    assert "cache.path" in message


def test_a_directory_swapped_for_a_link_after_the_check_is_refused_at_the_next_open(
        liana_emulator: LianaEmulator, credential: tuple[str, Path], tmp_path: Path,
        unified_auth_clock: ManualClock, warnings: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "cache"
    config = _file_config(liana_emulator, credential, directory)
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        hub.credentials("mailer")
        unified_auth_clock.advance(1000)  # expired: the next request reads the cache again
        # Someone swaps the checked directory for a link to one holding a token of theirs.
        theirs = tmp_path / "theirs"
        directory.rename(theirs)
        planted = _token_file(theirs)
        planted.write_bytes(_poisoned(planted.read_bytes(), value="planted-token",
                                      expires_at=time.time() + 10_000,
                                      obtained_at=unified_auth_clock()))
        directory.symlink_to(theirs)
        assert hub.credentials("mailer").value.reveal() != "planted-token"
    refused = _warned(warnings, "unavailable")
    assert len(refused) == 1 and "symbolic link" in refused[0] and str(directory) in refused[0]
    assert liana_emulator.counters.token_requests == 2
