"""Listing and pruning the ``file`` store's directory.

What is pruned: expired or invalid entries, lock files nobody holds whose entry is gone, and
temporary files a crashed writer left. A stale entry is removed only under its lock
(:mod:`unified_auth.cache.file_lock`), so a fetch writing it anew right now keeps its entry;
an entry chosen by ``clear`` is removed whatever it holds. A prune or a listing looks at a
bounded number of names.
"""

from __future__ import annotations

import contextlib
import os
import time

from unified_auth.cache.codec import CorruptEntry, decode_keyed
from unified_auth.cache.file_entry import (
    ENTRY_SUFFIX,
    LOCK_SUFFIX,
    NotRegular,
    os_reason,
    read_entry,
)
from unified_auth.cache.file_lock import try_lock_file
from unified_auth.cache.protocol import StoredEntry

__all__ = ["describe", "list_names", "prune_directory"]

_TEMPORARY_AGE = 600.0  # a temporary file this old was left by a writer that crashed
_MAX_FILES = 10_000  # a prune or a listing looks at no more names than this


def list_names(directory: int) -> list[str]:
    """The names in ``directory`` (a descriptor), at most a bound of them."""
    names = []
    with os.scandir(directory) as listing:
        for item in listing:
            names.append(item.name)
            if len(names) >= _MAX_FILES:
                break
    return names


def describe(directory: int, name: str) -> StoredEntry:
    """What the entry ``name`` holds, or its problem; never raises for a bad entry."""
    try:
        key, entry = decode_keyed(read_entry(directory, name))
    except FileNotFoundError:
        return StoredEntry(None, problem="removed while being read")
    except NotRegular as exc:
        return StoredEntry(None, problem=exc.strerror)
    except OSError as exc:
        return StoredEntry(None, problem=f"cannot be read ({os_reason(exc)})")
    except CorruptEntry as exc:
        return StoredEntry(None, problem=f"not a valid cache entry ({exc})")
    return StoredEntry(key, entry.expires_ts, entry.obtained_at)


def prune_directory(directory: int, now: float, *, everything: bool, target: str | None) -> int:
    """Delete what is stale (and every entry, or ``target``'s); returns how many entries."""
    names = list_names(directory)
    removed = 0
    for name in names:
        if name.startswith(".") and ENTRY_SUFFIX in name:
            _remove_if_old(directory, name, now)
        elif name.endswith(ENTRY_SUFFIX):
            removed += _prune_entry(directory, name, now, everything=everything, target=target)
    present = set(list_names(directory))
    for name in names:
        if name.endswith(LOCK_SUFFIX) and name[: -len(LOCK_SUFFIX)] + ENTRY_SUFFIX not in present:
            _remove_unused_lock(directory, name)
    return removed


def _prune_entry(directory: int, name: str, now: float, *, everything: bool,
                 target: str | None) -> int:
    described = describe(directory, name)
    stale = described.problem is not None or (
        described.expires_ts is not None and described.expires_ts <= now)
    chosen = everything or (target is not None and described.target == target)
    if not (stale or chosen):
        return 0
    lock = None
    if not chosen:
        # Stale only: under its lock, so a fetch writing it anew right now keeps its entry.
        lock = try_lock_file(directory, name[: -len(ENTRY_SUFFIX)] + LOCK_SUFFIX)
        if lock is None:
            return 0
    try:
        if lock is not None and describe(directory, name) != described:
            return 0
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            os.unlink(name, dir_fd=directory)
            return 1
        return 0
    finally:
        if lock is not None:
            os.close(lock)


def _remove_unused_lock(directory: int, name: str) -> None:
    lock = try_lock_file(directory, name)
    if lock is None:
        return  # held: a fetch is writing its entry now
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=directory)
    finally:
        os.close(lock)


def _remove_if_old(directory: int, name: str, now: float) -> None:
    del now  # file times are wall-clock times, whatever clock the caller runs on
    try:
        info = os.stat(name, dir_fd=directory, follow_symlinks=False)
        if time.time() - info.st_mtime >= _TEMPORARY_AGE:
            os.unlink(name, dir_fd=directory)
    except OSError:
        pass
