"""The ``file`` store's single flight: a fetch holds ``<name>.lock`` locked with ``flock``.

The operating system releases a ``flock`` when its holder dies, so a killed process blocks
nobody; a live one is waited for up to a limit the caller gives. A lock is only held if the
name still leads to the file that was locked: a prune (:mod:`unified_auth.cache.file_prune`)
may remove a lock file nobody holds between another process's open and its lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time

from unified_auth.cache.file_entry import OPEN_FLAGS, NotRegular
from unified_auth.core.bounded_io import file_kind

__all__ = ["lock_file", "try_lock_file"]

_POLL_FIRST, _POLL_MAX = 0.005, 0.1


def lock_file(directory: int, name: str, *, wait: bool, limit: float) -> int | None:
    """The descriptor holding ``name`` locked, or ``None`` if another holds it (after
    ``limit`` seconds when ``wait``). Closing the descriptor releases the lock.

    :raises NotRegular: if ``name`` is not a regular file.
    :raises OSError: if it cannot be opened or created.
    """
    deadline = time.monotonic() + limit
    pause = _POLL_FIRST
    while True:
        descriptor = os.open(name, os.O_RDWR | os.O_CREAT | OPEN_FLAGS, 0o600,
                             dir_fd=directory)
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise NotRegular(errno.EINVAL, f"not a regular file but {file_kind(info.st_mode)}")
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not wait or time.monotonic() >= deadline:
                        os.close(descriptor)
                        return None
                    time.sleep(pause)
                    pause = min(_POLL_MAX, pause * 2)
            # A prune may have removed the file between our open and our lock: the lock is
            # only ours if the name still leads to the file we locked.
            if _same_file(directory, name, info):
                return descriptor
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)


def try_lock_file(directory: int, name: str) -> int | None:
    """The lock of ``name`` if nobody holds it now, else ``None``; never waits."""
    try:
        return lock_file(directory, name, wait=False, limit=0)
    except OSError:
        return None


def _same_file(directory: int, name: str, info: os.stat_result) -> bool:
    try:
        now = os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino)
