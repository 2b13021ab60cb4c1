"""The core's secret resolvers: ``env``, ``file``, ``keyring`` and ``command`` references.

Registered as a plugin (``trylast``), so another plugin can add kinds or take over one.
Errors name the file, target and key of the reference and never echo a secret. Files and
commands are bounded (see :mod:`unified_auth.core.bounded_io`): a secret is short, and reading
one must end.
"""

from __future__ import annotations

import logging
import os
import shlex
import threading
from collections.abc import Callable
from pathlib import Path

from unified_auth.core.bounded_io import SourceProblem, read_regular_file, run_bounded
from unified_auth.errors import SecretError
from unified_auth.hookspecs import hookimpl
from unified_auth.model import Secret, SecretRef
from unified_auth.notices import Notice, log_notice

__all__ = ["COMMAND_TIMEOUT", "CORE_KINDS", "MAX_SECRET_BYTES", "resolve_secret"]

log = logging.getLogger("unified_auth")

COMMAND_TIMEOUT = 30.0
"""Seconds a ``{ command = ... }`` reference may run before its process group is killed."""

MAX_SECRET_BYTES = 64 * 1024
"""The most a secret file, or a secret command's output, may hold."""


@hookimpl(trylast=True)
def resolve_secret(ref: SecretRef) -> Secret | None:
    resolver = _RESOLVERS.get(ref.kind)
    if resolver is None:
        return None
    value = resolver(ref)
    if not value:
        raise _error(ref, f"the {ref.describe()} is empty")
    return Secret(value)


def _from_env(ref: SecretRef) -> str:
    value = os.environ.get(ref.location)
    if value is None:
        raise _error(ref, f"the environment variable {ref.location} is not set; "
                          f"export it or point the key at another source")
    return value.strip()


def _from_file(ref: SecretRef) -> str:
    path = Path(ref.location).expanduser()
    try:
        data, mode = read_regular_file(str(path), MAX_SECRET_BYTES)
        text = data.decode("utf-8").strip()
    except FileNotFoundError:
        raise _error(ref, f"the secret file {path} does not exist") from None
    except SourceProblem as exc:
        raise _error(ref, f"the secret file {path} {exc}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL in the path
        raise _error(ref, f"the secret file {path} cannot be read: "
                          f"{type(exc).__name__}: {exc.args[-1] if exc.args else ''}") from None
    if mode & 0o044:
        _warn_readable(ref, path, mode)
    return text


_warned_paths: set[str] = set()
_warned_lock = threading.Lock()


def _warn_readable(ref: SecretRef, path: Path, mode: int) -> None:
    """Say once per file (ssh's habit) that others on this machine can read the secret."""
    # Module level: the hook is a module function, with no hub to hang this on.
    with _warned_lock:
        if str(path) in _warned_paths:
            return
        _warned_paths.add(str(path))
    who = ("its group and others" if mode & 0o004 and mode & 0o040 else
           "others" if mode & 0o004 else "its group")
    origin = ref.origin
    log_notice(log, Notice(
        "secret_file_readable",
        f"{origin or 'a secret reference'}: the secret file {path} is readable by {who} "
        f"(mode {mode:o}); restrict it with: chmod 600 {path}",
        target=origin.target if origin else None))


def _from_keyring(ref: SecretRef) -> str:
    try:
        import keyring  # noqa: PLC0415 - optional dependency, only when a keyring ref is used
        import keyring.errors  # noqa: PLC0415
    except ImportError:
        raise _error(ref, "keyring references need the keyring package: "
                          "pip install 'unified-auth[keyring]'") from None
    try:
        if ref.username is not None:
            value = keyring.get_password(ref.location, ref.username)
        else:
            credential = keyring.get_credential(ref.location, None)
            value = credential.password if credential is not None else None
    except keyring.errors.KeyringError as exc:
        raise _error(ref, f"the keyring failed: {type(exc).__name__}") from None
    if value is None:
        who = f" for user {ref.username!r}" if ref.username else ""
        raise _error(ref, f"the keyring has no password for service {ref.location!r}{who}; "
                          f"store one with: keyring set {ref.location} USERNAME")
    return str(value)


def _from_command(ref: SecretRef) -> str:
    try:
        argv = shlex.split(ref.location)
    except ValueError as exc:
        raise _error(ref, f"the command cannot be parsed: {exc}") from None
    if not argv:
        raise _error(ref, "the command is empty")
    try:
        done = run_bounded(argv, timeout=COMMAND_TIMEOUT, limit=MAX_SECRET_BYTES)
    except FileNotFoundError:
        raise _error(ref, f"the command {argv[0]!r} was not found") from None
    except SourceProblem as exc:
        raise _error(ref, f"the command {argv[0]!r} {exc}; it was stopped") from None
    except (OSError, ValueError) as exc:  # not executable, a NUL in the command line...
        raise _error(ref, f"the command {argv[0]!r} cannot be run: "
                          f"{type(exc).__name__}") from None
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        # stderr is shown (trimmed) because it is how the user learns what went wrong;
        # stdout, where the secret would be, never is.
        detail = stderr.splitlines()[-1][:200] if stderr else ""
        raise _error(ref, f"the command {argv[0]!r} exited with status {done.returncode}"
                          + (f": {detail}" if detail else ""))
    try:
        return done.stdout.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _error(ref, f"the command {argv[0]!r} printed something that is not "
                          f"UTF-8 text") from None


_RESOLVERS: dict[str, Callable[[SecretRef], str]] = {
    "env": _from_env,
    "file": _from_file,
    "keyring": _from_keyring,
    "command": _from_command,
}
CORE_KINDS = tuple(_RESOLVERS)


def _error(ref: SecretRef, message: str) -> SecretError:
    origin = ref.origin
    if origin is None:
        return SecretError(message)
    return SecretError(message, source=origin.source, target=origin.target, key=origin.key)
