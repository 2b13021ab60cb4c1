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

This module is the store itself; reading one file is :mod:`unified_auth.cache.file_entry`,
the lock :mod:`unified_auth.cache.file_lock`, listing and pruning
:mod:`unified_auth.cache.file_prune`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

from unified_auth.cache.codec import CorruptEntry, decode_keyed, encode
from unified_auth.cache.directory import UnsafeDirectory, open_checked_directory
from unified_auth.cache.file_entry import (
    ENTRY_SUFFIX,
    LOCK_SUFFIX,
    OPEN_FLAGS,
    file_name,
    os_reason,
    read_entry,
)
from unified_auth.cache.file_lock import lock_file
from unified_auth.cache.file_prune import describe, list_names, prune_directory
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
        name = file_name(key, ENTRY_SUFFIX)
        try:
            with self._directory() as directory:
                data = read_entry(directory, name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn_once(name, f"cannot be read ({os_reason(exc)})")
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
        name = file_name(key, ENTRY_SUFFIX)
        with self._directory(create=True) as directory:
            temporary = f".{name}.{secrets.token_hex(6)}"
            try:
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | OPEN_FLAGS,
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
                                       f"({os_reason(exc)})") from None
            with self._warned_lock:
                self._warned.discard(name)
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_INTERVAL:
                self._pruned_at = now
                with contextlib.suppress(OSError):  # opportunistic: the entry is written
                    prune_directory(directory, now, everything=False, target=None)

    def discard(self, key: str, value: Secret) -> None:
        name = file_name(key, ENTRY_SUFFIX)
        with self.lock(key, wait=True), self._directory() as directory:
            try:
                _, entry = decode_keyed(read_entry(directory, name))
            except (OSError, CorruptEntry):
                return
            if entry.credentials.value == value:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=directory)

    @contextlib.contextmanager
    def lock(self, key: str, *, wait: bool) -> Iterator[bool]:
        name = file_name(key, LOCK_SUFFIX)
        with self._directory(create=True) as directory:
            try:
                held = lock_file(directory, name, wait=wait, limit=self.hold_limit)
            except OSError as exc:
                raise StoreUnavailable(f"locking {self.directory / name} failed "
                                       f"({os_reason(exc)})") from None
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
                return [describe(directory, name) for name in list_names(directory)
                        if name.endswith(ENTRY_SUFFIX) and not name.startswith(".")]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreUnavailable(f"listing {self.directory} failed ({os_reason(exc)})") \
                from None

    def clear(self, target: str | None, now: float) -> int:
        return self._pruning(now, everything=target is None, target=target)

    def prune(self, now: float) -> int:
        return self._pruning(now, everything=False, target=None)

    def _pruning(self, now: float, *, everything: bool, target: str | None) -> int:
        try:
            with self._directory() as directory:
                return prune_directory(directory, now, everything=everything, target=target)
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise StoreUnavailable(f"pruning {self.directory} failed ({os_reason(exc)})") \
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
                                   f"opened ({os_reason(exc)})") from None
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
                          f"({os_reason(exc)})", source=source, key="cache.path") from None
