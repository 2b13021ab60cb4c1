"""The ``file`` store: one file per cache key in a private directory, shared by the
processes of one machine.

- The directory and its parents are checked on descriptors (see
  :mod:`unified_auth.cache.directory`) at every use, and entries are opened relative to the
  checked directory's descriptor, so the check holds across the open.
- Entries are untrusted input. They are opened without following a link and without
  blocking, read only if they are regular files, at most ``MAX_ENTRY_BYTES``, and decoded
  with the checks fresh credentials get (:mod:`unified_auth.cache.codec`). Anything else is
  ignored with one warning, and replaced by the next fetch.
- Entries are written atomically: a temporary file in the directory (0600), fsync,
  ``rename``; a reader sees the old entry or the new one, never half of one.
- A fetch holds ``<name>.lock`` locked (``flock``) for as long as it runs: the operating
  system releases it when its holder dies, so a killed process blocks nobody, and a live
  one is waited for up to :data:`~unified_auth.cache.protocol.HOLD_LIMIT`.
- Stale files are pruned: expired or invalid entries, lock files nobody holds whose entry is
  gone, temporary files a crashed writer left. On ``clear``, and at most every
  ``PRUNE_INTERVAL`` seconds when this process writes an entry.
- File names are a digest of the cache key, which is itself a digest: no name says more
  than the target it is for.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from unified_auth.cache.codec import MAX_ENTRY_BYTES, CorruptEntry, decode_keyed, encode
from unified_auth.cache.directory import UnsafeDirectory, open_checked_directory
from unified_auth.cache.protocol import (
    HOLD_LIMIT,
    CachedCredentials,
    StoredEntry,
    StoreUnavailable,
)
from unified_auth.errors import ConfigError
from unified_auth.model import Secret

__all__ = ["PRUNE_INTERVAL", "FileStore", "check_directory"]

log = logging.getLogger("unified_auth")

PRUNE_INTERVAL = 600.0
"""Seconds between two prunes by one process's writes."""
_SUFFIX, _LOCK = ".token", ".lock"
_TEMPORARY_AGE = 600.0  # a temporary file this old was left by a writer that crashed
_MAX_FILES = 10_000  # a prune or a listing looks at no more names than this
_POLL_FIRST, _POLL_MAX = 0.005, 0.1
_OPEN = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class _NotRegular(OSError):
    """An entry that is a FIFO, a device, a directory: refused before it is read."""


class FileStore:
    """Entries as files in ``directory``; see the module docstring."""

    def __init__(self, directory: Path, *, lock_timeout: float = 10.0,
                 source: str | None = None, hold_limit: float = HOLD_LIMIT) -> None:
        self.directory = directory
        self.description = f"file cache {directory}"
        self.lock_timeout = lock_timeout
        """Unused here: the OS frees a dead holder's lock at once (Redis needs a lifetime)."""
        self.hold_limit = hold_limit
        self._source = source
        self._warned: set[str] = set()
        self._warned_lock = threading.Lock()
        self._pruned_at: float | None = None
        check_directory(directory, source=source, missing_ok=True)

    def load(self, key: str, now: float) -> CachedCredentials | None:
        name = _name(key, _SUFFIX)
        try:
            with self._directory() as directory:
                data = _read(directory, name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn_once(name, f"cannot be read ({_os_reason(exc)})")
            return None
        try:
            _, entry = decode_keyed(data)
        except CorruptEntry as exc:
            self._warn_once(name, f"is not a valid cache entry ({exc})")
            return None
        return entry if entry.expires_ts > now else None

    def store(self, key: str, entry: CachedCredentials, now: float) -> None:
        if entry.expires_ts <= now:
            return
        name = _name(key, _SUFFIX)
        with self._directory(create=True) as directory:
            temporary = f".{name}.{secrets.token_hex(6)}"
            try:
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN,
                                     0o600, dir_fd=directory)
                with os.fdopen(descriptor, "wb") as file:
                    file.write(encode(entry, key))
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=directory)
                raise StoreUnavailable(f"writing {self.directory / name} failed "
                                       f"({_os_reason(exc)})") from None
            with self._warned_lock:
                self._warned.discard(name)
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_INTERVAL:
                self._pruned_at = now
                with contextlib.suppress(OSError):  # opportunistic: the entry is written
                    _prune(directory, now, everything=False, target=None)

    def discard(self, key: str, value: Secret) -> None:
        name = _name(key, _SUFFIX)
        with self.lock(key, wait=True), self._directory() as directory:
            try:
                _, entry = decode_keyed(_read(directory, name))
            except (OSError, CorruptEntry):
                return
            if entry.credentials.value == value:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=directory)

    @contextlib.contextmanager
    def lock(self, key: str, *, wait: bool) -> Iterator[bool]:
        name = _name(key, _LOCK)
        with self._directory(create=True) as directory:
            try:
                held = _lock(directory, name, wait=wait, limit=self.hold_limit)
            except OSError as exc:
                raise StoreUnavailable(f"locking {self.directory / name} failed "
                                       f"({_os_reason(exc)})") from None
        if held is None:
            if not wait:
                yield False
                return
            # The holder is alive (the OS frees the lock of a dead one) but past the time a
            # fetch may take: it is stuck. Fetch anyway rather than fail the request.
            log.warning("%s: waited %.0f s for another process's token fetch; fetching "
                        "here too", self.description, self.hold_limit)
            yield True
            return
        try:
            yield True
        finally:
            os.close(held)  # closing the last descriptor releases the flock

    def entries(self, now: float) -> list[StoredEntry]:
        try:
            with self._directory() as directory:
                return [_describe(directory, name) for name in _names(directory)
                        if name.endswith(_SUFFIX) and not name.startswith(".")]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreUnavailable(f"listing {self.directory} failed ({_os_reason(exc)})") \
                from None

    def clear(self, target: str | None, now: float) -> int:
        return self._pruning(now, everything=target is None, target=target)

    def prune(self, now: float) -> int:
        return self._pruning(now, everything=False, target=None)

    def _pruning(self, now: float, *, everything: bool, target: str | None) -> int:
        try:
            with self._directory() as directory:
                return _prune(directory, now, everything=everything, target=target)
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise StoreUnavailable(f"pruning {self.directory} failed ({_os_reason(exc)})") \
                from None

    def close(self) -> None:
        pass

    @contextlib.contextmanager
    def _directory(self, *, create: bool = False) -> Iterator[int]:
        """The checked directory's descriptor; a failed check is :class:`StoreUnavailable`.

        Only opening it is translated: what the body raises passes through unchanged.
        """
        try:
            directory = open_checked_directory(self.directory, create=create)
        except UnsafeDirectory as exc:
            raise StoreUnavailable(str(exc)) from None
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StoreUnavailable(f"the directory {self.directory} cannot be created or "
                                   f"opened ({_os_reason(exc)})") from None
        try:
            yield directory
        finally:
            os.close(directory)

    def _warn_once(self, name: str, problem: str) -> None:
        with self._warned_lock:
            if name in self._warned:
                return
            self._warned.add(name)
        log.warning("%s: the cache file %s %s; ignoring it, the next token fetch rewrites it",
                    self.description, self.directory / name, problem)


def check_directory(directory: Path, *, source: str | None = None,
                    missing_ok: bool = False) -> None:
    """Refuse a cache directory that is not ours, or that others could write or swap.

    :param missing_ok: accept a directory (or parent) that does not exist yet; what exists
        of its path is checked.
    :raises ConfigError: naming the directory, the parent at fault and the fix.
    """
    try:
        os.close(open_checked_directory(directory))
    except (FileNotFoundError, NotADirectoryError):
        if not missing_ok:
            raise ConfigError(f"the cache directory {directory} does not exist",
                              source=source, key="cache.path") from None
    except UnsafeDirectory as exc:
        raise ConfigError(str(exc), source=source, key="cache.path") from None
    except OSError as exc:
        raise ConfigError(f"the cache directory {directory} cannot be inspected "
                          f"({_os_reason(exc)})", source=source, key="cache.path") from None


def _name(key: str, suffix: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40] + suffix


def _read(directory: int, name: str) -> bytes:
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever;
    # O_NOFOLLOW: a link could point anywhere. (The secret-file reader, bounded_io, opens by
    # path; an entry must be opened below the checked directory's descriptor.)
    descriptor = os.open(name, os.O_RDONLY | _OPEN, dir_fd=directory)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegular(errno.EINVAL, f"not a regular file but {_kind(info.st_mode)}")
        data = b""
        while len(data) <= MAX_ENTRY_BYTES:
            chunk = os.read(descriptor, 64 * 1024)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        os.close(descriptor)


def _lock(directory: int, name: str, *, wait: bool, limit: float) -> int | None:
    """The descriptor holding ``name`` locked, or ``None`` if another holds it (after
    ``limit`` seconds when ``wait``)."""
    deadline = time.monotonic() + limit
    pause = _POLL_FIRST
    while True:
        descriptor = os.open(name, os.O_RDWR | os.O_CREAT | _OPEN, 0o600, dir_fd=directory)
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise _NotRegular(errno.EINVAL, f"not a regular file but {_kind(info.st_mode)}")
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


def _same_file(directory: int, name: str, info: os.stat_result) -> bool:
    try:
        now = os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino)


def _try_lock(directory: int, name: str) -> int | None:
    """The lock of ``name`` if nobody holds it now, else ``None``; never waits."""
    try:
        return _lock(directory, name, wait=False, limit=0)
    except OSError:
        return None


def _names(directory: int) -> list[str]:
    names = []
    with os.scandir(directory) as listing:
        for item in listing:
            names.append(item.name)
            if len(names) >= _MAX_FILES:
                break
    return names


def _describe(directory: int, name: str) -> StoredEntry:
    try:
        key, entry = decode_keyed(_read(directory, name))
    except FileNotFoundError:
        return StoredEntry(None, problem="removed while being read")
    except _NotRegular as exc:
        return StoredEntry(None, problem=exc.strerror)
    except OSError as exc:
        return StoredEntry(None, problem=f"cannot be read ({_os_reason(exc)})")
    except CorruptEntry as exc:
        return StoredEntry(None, problem=f"not a valid cache entry ({exc})")
    return StoredEntry(key, entry.expires_ts, entry.obtained_at)


def _prune(directory: int, now: float, *, everything: bool, target: str | None) -> int:
    """Delete what is stale (and every entry, or ``target``'s); returns how many entries."""
    names = _names(directory)
    removed = 0
    for name in names:
        if name.startswith(".") and _SUFFIX in name:
            _remove_if_old(directory, name, now)
        elif name.endswith(_SUFFIX):
            removed += _prune_entry(directory, name, now, everything=everything, target=target)
    present = set(_names(directory))
    for name in names:
        if name.endswith(_LOCK) and name[: -len(_LOCK)] + _SUFFIX not in present:
            _remove_unused_lock(directory, name)
    return removed


def _prune_entry(directory: int, name: str, now: float, *, everything: bool,
                 target: str | None) -> int:
    described = _describe(directory, name)
    stale = described.problem is not None or (
        described.expires_ts is not None and described.expires_ts <= now)
    chosen = everything or (target is not None and described.target == target)
    if not (stale or chosen):
        return 0
    lock = None
    if not chosen:
        # Stale only: under its lock, so a fetch writing it anew right now keeps its entry.
        lock = _try_lock(directory, name[: -len(_SUFFIX)] + _LOCK)
        if lock is None:
            return 0
    try:
        if lock is not None and _describe(directory, name) != described:
            return 0
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            os.unlink(name, dir_fd=directory)
            return 1
        return 0
    finally:
        if lock is not None:
            os.close(lock)


def _remove_unused_lock(directory: int, name: str) -> None:
    lock = _try_lock(directory, name)
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


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, _NotRegular):
        return exc.strerror or "not a regular file"
    name = errno.errorcode.get(exc.errno or 0)
    return f"{name}: {exc.strerror}" if name and exc.strerror else type(exc).__name__
