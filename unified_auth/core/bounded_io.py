"""Reading a secret file and running a secret command, each bounded in time and size.

A secret source is configuration, and configuration goes wrong: a path pointing at a FIFO
(which blocks an ``open`` for ever), at ``/dev/zero`` (endless), a 300 MB log file, ``yes``
as a command, or a command that exits while a background child it started keeps its
stdout open (the reader would wait for an end that never comes). Everything here ends,
with a :class:`SourceProblem` that says which of these it was.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import stat
import subprocess  # nosec B404 # commands are the user's own secret sources, run without a shell
import time
from collections.abc import Sequence

import attrs

__all__ = ["CommandResult", "SourceProblem", "file_kind", "read_regular_file", "run_bounded"]

# After the command exits, how long output still in the pipe may take to arrive.
_EXIT_GRACE = 0.2
_READ = 64 * 1024


class SourceProblem(Exception):
    """A source that could not be read within its bounds; the text says why (no secret)."""


@attrs.frozen
class CommandResult:
    returncode: int
    stdout: bytes = attrs.field(repr=False)
    stderr: bytes = attrs.field(repr=False)


def read_regular_file(path: str, limit: int) -> tuple[bytes, int]:
    """The content of ``path`` (at most ``limit`` bytes) and its permission bits.

    :raises FileNotFoundError: if there is no such file.
    :raises SourceProblem: if it is not a regular file or is longer than ``limit``.
    :raises OSError: for any other failure to open or read it.
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SourceProblem(f"is not a regular file but {file_kind(info.st_mode)}; "
                                f"point the reference at a file holding only the secret")
        if info.st_size > limit:
            raise SourceProblem(f"is {info.st_size} bytes long, more than the {limit} bytes "
                                f"a secret may have; is it the right file?")
        data = b""
        while len(data) <= limit:
            chunk = os.read(fd, _READ)
            if not chunk:
                break
            data += chunk
        if len(data) > limit:  # it grew while being read
            raise SourceProblem(f"is longer than the {limit} bytes a secret may have")
        return data, stat.S_IMODE(info.st_mode)
    finally:
        os.close(fd)


def run_bounded(argv: Sequence[str], *, timeout: float, limit: int) -> CommandResult:
    """Run ``argv`` (no shell) in a process group of its own, reading its output with bounds.

    The whole group is killed when ``timeout`` passes, when stdout exceeds ``limit`` bytes,
    or when the command has exited but something it started still holds stdout open.

    :raises FileNotFoundError: if the program does not exist.
    :raises SourceProblem: on timeout or too much output.
    """
    process = subprocess.Popen(  # nosec B603 # argv from the user's own config, no shell
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    try:
        stdout, stderr = _collect(process, timeout, limit)
    finally:
        _kill_group(process)
    return CommandResult(process.returncode, stdout, stderr)


def _collect(process: subprocess.Popen[bytes], timeout: float,
             limit: int) -> tuple[bytes, bytes]:
    stdout, stderr = process.stdout, process.stderr
    if stdout is None or stderr is None:  # pragma: no cover - both are PIPEs
        raise SourceProblem("has no output pipes")
    streams = {stdout.fileno(): bytearray(), stderr.fileno(): bytearray()}
    deadline = time.monotonic() + timeout
    exited_at: float | None = None
    with selectors.DefaultSelector() as selector:
        for fd in streams:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                raise SourceProblem(f"did not finish within {timeout:g} s")
            if exited_at is None and _exited(process):
                exited_at = now
            if exited_at is not None and now >= exited_at + _EXIT_GRACE:
                break  # exited, yet its output is held open by a child: stop waiting
            wait = min(deadline - now, 0.05 if exited_at is None else _EXIT_GRACE)
            for key, _ in selector.select(wait):
                chunk = os.read(key.fd, _READ)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                buffer = streams[key.fd]
                if key.fd == stderr.fileno():
                    buffer += chunk[: max(0, limit - len(buffer))]
                    continue
                buffer += chunk
                if len(buffer) > limit:
                    raise SourceProblem(f"printed more than the {limit} bytes a secret may "
                                        f"have")
    while not _exited(process):  # it closed its output; it should exit next
        if time.monotonic() >= deadline:
            raise SourceProblem(f"did not finish within {timeout:g} s")
        time.sleep(0.01)
    return bytes(streams[stdout.fileno()]), bytes(streams[stderr.fileno()])


def _exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether the command has exited, without reaping it: until it is reaped its process
    group id cannot be reused, so killing the group later cannot hit a stranger."""
    if not hasattr(os, "waitid"):  # macOS: reap it; its group lives on while members do
        return process.poll() is not None
    try:
        return os.waitid(os.P_PID, process.pid,
                         os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill what is left of the command's process group, then reap the command.

    Anything the command started and left in its group is killed too: a helper meant to
    outlive the command detaches into a session of its own (as ssh-agent and gpg-agent do).
    """
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    elif process.poll() is None:  # pragma: no cover - no process groups here
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, for a message: ``"a FIFO"``, ``"a socket"``..."""
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"
