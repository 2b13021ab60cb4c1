"""A cache directory opened as a descriptor, checked from the root down, for the file store.

Who can write the cache directory, or rename one of its parents, can plant tokens of their
own or swap the directory for another after it was checked. So the directory is reached by
``openat`` from ``/``, one component at a time, never following a symbolic link, and every
step is checked on the descriptor it opened (``fstat``), not on a path that may change:

- each parent belongs to us or to root, and is not writable by others unless it is sticky
  (like ``/tmp``, where others may add names but not rename or remove ours);
- the directory itself is a real directory (not a symbolic link), ours, and writable by
  nobody else (0700 when this module creates it).

The entries are then opened relative to that descriptor (``dir_fd``), so the check holds
across the open. Symbolic links among the parents are resolved once, before the walk
(``/var`` on macOS is one); the walk then opens what they pointed to, checked like any parent.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

__all__ = ["UnsafeDirectory", "open_checked_directory"]

_DIRECTORY_FLAGS = (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
                    | getattr(os, "O_CLOEXEC", 0))
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


class UnsafeDirectory(Exception):
    """The cache directory or one of its parents may be changed by someone else.

    The message is a sentence naming the path and the fix.
    """


def open_checked_directory(directory: Path, *, create: bool = False) -> int:
    """A descriptor of ``directory``, checked with its parents; the caller closes it.

    :param create: make missing components (mode 0700) instead of raising.
    :raises FileNotFoundError: if a component is missing and ``create`` is false.
    :raises NotADirectoryError: if a parent is a file.
    :raises UnsafeDirectory: if the directory or a parent fails the checks above.
    :raises OSError: for any other failure to open a component.
    """
    directory = Path(os.path.abspath(directory))
    parent = Path(os.path.realpath(directory.parent))
    root = Path(parent.anchor or "/")
    fd = os.open(root, _DIRECTORY_FLAGS)
    try:
        _check_parent(os.fstat(fd), root, directory)
        current = root
        for name in parent.parts[1:]:
            current = current / name
            fd = _step(fd, name, current, directory, create=create)
            _check_parent(os.fstat(fd), current, directory)
        fd = _step(fd, directory.name, directory, directory, create=create)
        _check_own(os.fstat(fd), directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    return fd


def _step(parent_fd: int, name: str, path: Path, directory: Path, *, create: bool) -> int:
    """Open ``name`` below ``parent_fd`` without following a link; closes ``parent_fd``."""
    try:
        try:
            info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            if not create:
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode) and not stat.S_ISLNK(info.st_mode) \
                and path != directory:
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
        if not stat.S_ISDIR(info.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a directory"
            raise UnsafeDirectory(
                f"refusing the cache directory {directory}: {path} is {kind} (a symbolic "
                f"link is refused, as it could be pointed elsewhere after the check); use "
                f"a real directory")
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=parent_fd)
    finally:
        os.close(parent_fd)


def _check_parent(info: os.stat_result, path: Path, directory: Path) -> None:
    if info.st_uid not in (os.getuid(), 0):
        problem = f"belongs to another user (uid {info.st_uid})"
    elif info.st_mode & _OTHERS_WRITE and not info.st_mode & stat.S_ISVTX:
        problem = (f"is writable by other users and not sticky (mode "
                   f"{stat.S_IMODE(info.st_mode):o})")
    else:
        return
    raise UnsafeDirectory(
        f"refusing the cache directory {directory}: its parent {path} {problem}, so others "
        f"could swap the cache for one of their own; use a directory whose parents only "
        f"you or root can change")


def _check_own(info: os.stat_result, directory: Path) -> None:
    if info.st_uid != os.getuid():
        problem = "belongs to another user"
    elif info.st_mode & _OTHERS_WRITE:
        problem = (f"is writable by other users (mode {stat.S_IMODE(info.st_mode):o}); "
                   f"run: chmod 700 {directory}")
    else:
        return
    raise UnsafeDirectory(f"refusing the cache directory {directory}: it {problem}. Others "
                          f"could plant tokens there; use a private directory")
