"""The ``file`` store: one file per cache key in a private directory, shared by the
processes of one machine.

- Entries are written atomically: a temporary file in the same directory (0600), fsync,
  ``os.replace``; a reader sees the old entry or the new one, never half of one.
- The directory is 0700 and must not be writable by anyone else: who can write it can
  plant tokens of their own. Such a directory is refused with an error that names it.
- A fetch holds an inter-process lock (``filelock``) on ``<name>.lock``; the operating
  system releases it when its holder dies, so a killed process blocks nobody. Every wait
  on it is bounded.
- File names are a digest of the cache key, which is itself a digest: no name says more
  than the target it is for.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import filelock

from unified_auth.cache.codec import MAX_ENTRY_BYTES, CorruptEntry, decode, encode
from unified_auth.cache.protocol import CachedCredentials, StoreUnavailable
from unified_auth.errors import ConfigError
from unified_auth.model import Secret

__all__ = ["FileStore", "check_directory"]

log = logging.getLogger("unified_auth")

_SUFFIX = ".token"


class FileStore:
    """Entries as files in ``directory``; see the module docstring."""

    def __init__(self, directory: Path, *, lock_timeout: float = 10.0,
                 source: str | None = None) -> None:
        self.directory = directory
        self.description = f"file cache {directory}"
        self.lock_timeout = lock_timeout
        self._source = source
        self._ready = False
        self._warned: set[str] = set()
        self._warned_lock = threading.Lock()
        if directory.exists() or directory.is_symlink():
            check_directory(directory, source=source)

    def load(self, key: str, now: float) -> CachedCredentials | None:
        path = self._path(key, _SUFFIX)
        try:
            data = _read(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn_once(path, f"cannot be read ({_os_reason(exc)})")
            return None
        try:
            entry = decode(data)
        except CorruptEntry as exc:
            self._warn_once(path, f"is not a valid cache entry ({exc})")
            return None
        return entry if entry.expires_ts > now else None

    def store(self, key: str, entry: CachedCredentials, now: float) -> None:
        if entry.expires_ts <= now:
            return
        self._prepare()
        path = self._path(key, _SUFFIX)
        descriptor, temporary = _mkstemp(self.directory, path.name)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(encode(entry))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise StoreUnavailable(f"writing {path} failed ({_os_reason(exc)})") from None
        with self._warned_lock:
            self._warned.discard(str(path))

    def discard(self, key: str, value: Secret) -> None:
        path = self._path(key, _SUFFIX)
        with self.lock(key, wait=True):
            try:
                entry = decode(_read(path))
            except (OSError, CorruptEntry):
                return
            if entry.credentials.value == value:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    @contextlib.contextmanager
    def lock(self, key: str, *, wait: bool) -> Iterator[bool]:
        self._prepare()
        path = self._path(key, ".lock")
        lock = filelock.FileLock(path, mode=0o600, thread_local=False,
                                 preserve_lock_file=True)
        try:
            if wait:
                lock.acquire(timeout=self.lock_timeout)
            else:
                lock.acquire(blocking=False)
        except filelock.Timeout:
            if not wait:
                yield False
                return
            # The holder is alive (the OS frees the lock of a dead one) but slow: fetch
            # anyway rather than fail the request.
            log.warning("%s: waited %.0f s for another process's token fetch; fetching "
                        "here too", self.description, self.lock_timeout)
            yield True
            return
        except OSError as exc:
            raise StoreUnavailable(f"locking {path} failed ({_os_reason(exc)})") from None
        try:
            yield True
        finally:
            lock.release()

    def close(self) -> None:
        pass

    def _prepare(self) -> None:
        if self._ready:
            return
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"the directory {self.directory} cannot be created ({_os_reason(exc)})") from None
        try:
            check_directory(self.directory, source=self._source)
        except ConfigError as exc:
            raise StoreUnavailable(str(exc)) from None
        self._ready = True

    def _path(self, key: str, suffix: str) -> Path:
        name = hashlib.sha256(key.encode()).hexdigest()[:40]
        return self.directory / f"{name}{suffix}"

    def _warn_once(self, path: Path, problem: str) -> None:
        with self._warned_lock:
            if str(path) in self._warned:
                return
            self._warned.add(str(path))
        log.warning("%s: the cache file %s %s; ignoring it, the next token fetch rewrites it",
                    self.description, path, problem)


def check_directory(directory: Path, *, source: str | None = None) -> None:
    """Refuse a cache directory that is not a directory of ours, closed to other writers."""
    try:
        info = directory.lstat()
    except OSError as exc:
        raise ConfigError(f"the cache directory {directory} cannot be inspected "
                          f"({_os_reason(exc)})", source=source, key="cache.path") from None
    problem = None
    if not stat.S_ISDIR(info.st_mode):
        problem = "is not a directory (a symbolic link is refused too)"
    elif info.st_uid != os.getuid():
        problem = "belongs to another user"
    elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = (f"is writable by other users (mode {stat.S_IMODE(info.st_mode):o}); "
                   f"run: chmod 700 {directory}")
    if problem is not None:
        raise ConfigError(f"refusing the cache directory {directory}: it {problem}. Others "
                          f"could plant tokens there; use a private directory",
                          source=source, key="cache.path")


def _read(path: Path) -> bytes:
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "rb") as file:
        return file.read(MAX_ENTRY_BYTES + 1)


def _mkstemp(directory: Path, name: str) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    except OSError as exc:
        raise StoreUnavailable(f"writing in {directory} failed ({_os_reason(exc)})") from None


def _os_reason(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0)
    return f"{name}: {exc.strerror}" if name and exc.strerror else type(exc).__name__
