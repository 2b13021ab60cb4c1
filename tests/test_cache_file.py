"""The ``file`` cache: private files, written atomically, that survive whatever is in them."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cache_workers import liana_config

import unified_auth
from unified_auth.cache.codec import decode
from unified_auth.errors import ConfigError
from unified_auth.testing import LianaEmulator, ManualClock


@pytest.fixture
def setup(liana_emulator: LianaEmulator, tmp_path: Path) -> dict[str, Any]:
    client_id, secret = liana_emulator.create_credential("file cache test")
    secret_file = tmp_path / "liana.secret"
    secret_file.write_text(secret)
    directory = tmp_path / "cache"
    return liana_config(liana_emulator, client_id, secret_file,
                        {"backend": "file", "path": str(directory)})


def _directory(config: dict[str, Any]) -> Path:
    return Path(config["cache"]["path"])


def _token_file(config: dict[str, Any]) -> Path:
    (path,) = _directory(config).glob("*.token")
    return path


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="unified_auth")
    return caplog


def test_files_are_0600_in_a_0700_directory_named_by_digest(
        setup: dict[str, Any], unified_auth_clock: ManualClock) -> None:
    with unified_auth.load(setup, clock=unified_auth_clock) as hub:
        hub.credentials("mailer")
    directory = _directory(setup)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.iterdir())
    assert {p.suffix for p in files} == {".token", ".lock"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
        assert "mailer" not in path.name
    assert not [p for p in files if p.name.startswith(".")], "no temporary file left"


def test_a_directory_nobody_else_may_write_is_refused_with_its_name(
        setup: dict[str, Any], tmp_path: Path) -> None:
    directory = _directory(setup)
    directory.mkdir(mode=0o700)
    directory.chmod(0o777)
    with pytest.raises(ConfigError) as error:
        unified_auth.load(setup)
    message = str(error.value)
    assert "cache.path" in message and str(directory) in message
    assert "chmod 700" in message


def test_a_symlinked_directory_is_refused(setup: dict[str, Any], tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    _directory(setup).symlink_to(real)
    with pytest.raises(ConfigError, match="symbolic link"):
        unified_auth.load(setup)


@pytest.mark.parametrize("content", [
    b"", b'{"format": 1, "value": "abc', b"\x00\xff garbage \x80",
    b'{"format": 99, "value": "t", "expires_at": 1, "obtained_at": 1, "token_type": "B"}',
    b"[1, 2, 3]", b'{"format": 1}',
], ids=["empty", "truncated", "garbage", "foreign-version", "not-an-object", "no-fields"])
def test_a_bad_cache_file_is_ignored_with_one_warning_and_rewritten(
        setup: dict[str, Any], unified_auth_clock: ManualClock, liana_emulator: LianaEmulator,
        content: bytes,
        warnings: pytest.LogCaptureFixture) -> None:
    with unified_auth.load(setup, clock=unified_auth_clock) as hub:
        hub.credentials("mailer")
    _token_file(setup).write_bytes(content)
    with unified_auth.load(setup, clock=unified_auth_clock) as hub:
        token = hub.credentials("mailer").value
        unified_auth_clock.advance(1000)
        hub.credentials("mailer")  # reads the (now valid) file again: no second warning
    bad = [r for r in warnings.records if "not a valid cache entry" in r.getMessage()]
    assert len(bad) == 1
    assert liana_emulator.counters.token_requests == 3
    entry = decode(_token_file(setup).read_bytes())
    assert entry.credentials.value != token, "rewritten by the later fetch"


def test_an_unwritable_cache_degrades_to_memory_with_one_warning(
        setup: dict[str, Any], unified_auth_clock: ManualClock, liana_emulator: LianaEmulator,
        warnings: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    # Root may write anywhere: a regular file where a directory is needed fails for anyone.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    setup["cache"]["path"] = str(blocker / "cache")
    with unified_auth.load(setup, clock=unified_auth_clock) as hub:
        session = hub.session()
        for _ in range(3):
            assert session.get(f"{liana_emulator.url}/v1/lists", timeout=5).status_code == 200
            unified_auth_clock.advance(1000)
    unavailable = [r for r in warnings.records if "unavailable" in r.getMessage()]
    assert len(unavailable) == 1
    assert str(blocker / "cache") in unavailable[0].getMessage()
    assert liana_emulator.counters.token_requests == 3


def test_a_failing_write_degrades_and_the_cache_is_tried_again_later(
        setup: dict[str, Any], unified_auth_clock: ManualClock, liana_emulator: LianaEmulator,
        warnings: pytest.LogCaptureFixture) -> None:
    with unified_auth.load(setup, clock=unified_auth_clock) as hub:
        hub.credentials("mailer")
    path = _token_file(setup)
    path.unlink()
    path.mkdir()  # os.replace onto a directory fails like a full or read-only disk
    with unified_auth.load(setup, clock=unified_auth_clock) as hub:
        hub.credentials("mailer")
        assert len([r for r in warnings.records if "unavailable" in r.getMessage()]) == 1
        path.rmdir()
        unified_auth_clock.advance(1000)  # expired, and past the retry interval
        token = hub.credentials("mailer").value
    assert decode(path.read_bytes()).credentials.value == token, "the cache works again"


def test_an_expired_entry_is_not_served(setup: dict[str, Any], unified_auth_clock: ManualClock,
                                        liana_emulator: LianaEmulator) -> None:
    with unified_auth.load(setup, clock=unified_auth_clock) as hub:
        old = hub.credentials("mailer").value
    unified_auth_clock.advance(901)
    with unified_auth.load(setup, clock=unified_auth_clock) as hub:
        assert hub.credentials("mailer").value != old
    assert liana_emulator.counters.token_requests == 2


def test_the_token_file_is_replaced_not_rewritten_in_place(
        setup: dict[str, Any], unified_auth_clock: ManualClock) -> None:
    with unified_auth.load(setup, clock=unified_auth_clock) as hub:
        hub.credentials("mailer")
        before = os.stat(_token_file(setup)).st_ino
        unified_auth_clock.advance(1000)
        hub.credentials("mailer")
    assert os.stat(_token_file(setup)).st_ino != before
