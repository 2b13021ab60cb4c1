"""One file of the ``file`` store: how it is named, how it is read, how a failure is told.

Entries are untrusted input, opened below the checked directory's descriptor (see
:mod:`unified_auth.cache.directory`), without following a link and without blocking, and
read only if they are regular files, at most ``MAX_ENTRY_BYTES``. The store
(:mod:`unified_auth.cache.file`), its lock (:mod:`unified_auth.cache.file_lock`) and its
pruning (:mod:`unified_auth.cache.file_prune`) all open files this way.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat

from unified_auth.cache.codec import MAX_ENTRY_BYTES
from unified_auth.core.bounded_io import file_kind

__all__ = ["ENTRY_SUFFIX", "LOCK_SUFFIX", "OPEN_FLAGS", "NotRegular", "file_name",
           "os_reason", "read_entry"]

ENTRY_SUFFIX, LOCK_SUFFIX = ".token", ".lock"
"""An entry is ``<digest>.token``; the lock of its fetch is ``<digest>.lock``."""
OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
"""Flags every open of a file in the directory adds."""


class NotRegular(OSError):
    """An entry that is a FIFO, a device, a directory: refused before it is read."""


def file_name(key: str, suffix: str) -> str:
    """The file name for ``key``: a digest of it, so no name says more than the key."""
    return hashlib.sha256(key.encode()).hexdigest()[:40] + suffix


def read_entry(directory: int, name: str) -> bytes:
    """The bytes of the entry ``name`` in ``directory`` (a descriptor), at most a bound.

    :raises NotRegular: if it is not a regular file.
    :raises OSError: if it cannot be opened or read (``FileNotFoundError`` if it is gone).
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever;
    # O_NOFOLLOW: a link could point anywhere. (The secret-file reader, bounded_io, opens by
    # path; an entry must be opened below the checked directory's descriptor.)
    descriptor = os.open(name, os.O_RDONLY | OPEN_FLAGS, dir_fd=directory)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(errno.EINVAL, f"not a regular file but {file_kind(info.st_mode)}")
        data = b""
        while len(data) <= MAX_ENTRY_BYTES:
            chunk = os.read(descriptor, 64 * 1024)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        os.close(descriptor)


def os_reason(exc: OSError) -> str:
    """Why an operation on the directory failed, for a message: ``"EACCES: ..."``."""
    if isinstance(exc, NotRegular):
        return exc.strerror or "not a regular file"
    name = errno.errorcode.get(exc.errno or 0)
    return f"{name}: {exc.strerror}" if name and exc.strerror else type(exc).__name__
