"""The file cache does not grow without bound: entries of rotated secrets and removed targets,
unused lock files and a crashed writer's temporary files are pruned when it writes.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import filelock

from unified_auth import Credentials, Secret
from unified_auth.cache import CachedCredentials
from unified_auth.cache.file import PRUNE_INTERVAL, FileStore

NOW = 1_900_000_000.0


def _entry(token: str, obtained: float, lifetime: float) -> CachedCredentials:
    expires = datetime.fromtimestamp(obtained + lifetime, UTC)
    return CachedCredentials(Credentials(Secret(token), expires), obtained)


def _fetch(store: FileStore, key: str, token: str, at: float, lifetime: float = 900) -> None:
    """What the broker does: the entry written under the key's lock."""
    with store.lock(key, wait=True):
        store.store(key, _entry(token, at, lifetime), at)


def _kinds(directory: Path) -> list[str]:
    return sorted(p.suffix or p.name for p in directory.iterdir())


def test_a_write_prunes_expired_entries_and_their_lock_files(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "cache")
    for number in range(5):  # five rotations (or removed targets), each an entry and a lock
        _fetch(store, f"mailer:old{number}", f"token{number}", NOW)
    assert _kinds(tmp_path / "cache").count(".token") == 5
    later = NOW + PRUNE_INTERVAL + 1000  # all five expired
    _fetch(FileStore(tmp_path / "cache"), "mailer:current", "fresh", later)
    assert _kinds(tmp_path / "cache") == [".lock", ".token"]
    assert FileStore(tmp_path / "cache").load("mailer:current", later) is not None


def test_valid_entries_and_held_locks_are_kept(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    store = FileStore(directory)
    _fetch(store, "planner:a", "still-valid", NOW, lifetime=10_000)
    holding, release = threading.Event(), threading.Event()

    def fetch_in_progress() -> None:  # a fetch with no entry written yet: its lock is held
        with FileStore(directory).lock("mailer:b", wait=True):
            holding.set()
            release.wait(timeout=10)

    holder = threading.Thread(target=fetch_in_progress)
    holder.start()
    assert holding.wait(timeout=5)
    try:
        assert FileStore(directory).prune(NOW + 1) == 0
        assert _kinds(directory) == [".lock", ".lock", ".token"]
        # The held lock still excludes: another process may not take it meanwhile.
        (lock_name,) = {p.name for p in directory.glob("*.lock")} - {
            p.stem + ".lock" for p in directory.glob("*.token")}
        assert not _taken_elsewhere(directory / lock_name)
    finally:
        release.set()
        holder.join(timeout=10)
    assert FileStore(directory).prune(NOW + 1) == 0
    assert _kinds(directory) == [".lock", ".token"], "the unused lock went, the entry stays"


def _taken_elsewhere(path: Path) -> bool:
    try:
        with filelock.FileLock(path, thread_local=False).acquire(timeout=0.05):
            return True
    except filelock.Timeout:
        return False


def test_invalid_entries_and_old_temporary_files_are_pruned(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    store = FileStore(directory)
    _fetch(store, "mailer:a", "valid", NOW, lifetime=10_000)
    (directory / ("f" * 40 + ".token")).write_bytes(b"garbage")
    os.mkfifo(directory / ("e" * 40 + ".token"), 0o600)
    old, young = directory / f".{'d' * 40}.token.abc123", directory / f".{'c' * 40}.token.x"
    old.write_bytes(b"half")
    young.write_bytes(b"half")
    os.utime(old, (0, 0))  # left by a writer that crashed long ago
    assert store.prune(NOW) == 2
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith(".")) == [young.name]
    assert len(list(directory.glob("*.token"))) == 1


def test_clear_drops_one_targets_entries_or_all(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "cache")
    for key in ("mailer:a", "mailer:b!failed", "planner:c"):
        _fetch(store, key, "t", NOW)
    assert {e.target for e in store.entries(NOW)} == {"mailer", "planner"}
    assert store.clear("mailer", NOW) == 2
    assert [e.key for e in store.entries(NOW)] == ["planner:c"]
    assert store.clear(None, NOW) == 1
    assert list((tmp_path / "cache").iterdir()) == []
