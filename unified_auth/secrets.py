"""The core's secret resolvers: ``env``, ``file``, ``keyring`` and ``command`` references.

Registered as a plugin (``trylast``), so another plugin can add kinds or take over one.
Errors name the file, target and key of the reference and never echo a secret.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from unified_auth.errors import SecretError
from unified_auth.hookspecs import hookimpl
from unified_auth.model import Secret, SecretRef

__all__ = ["COMMAND_TIMEOUT", "CORE_KINDS", "resolve_secret"]

COMMAND_TIMEOUT = 30.0
"""Seconds a ``{ command = ... }`` reference may run before it is abandoned."""


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
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise _error(ref, f"the secret file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(ref, f"the secret file {path} cannot be read: "
                          f"{type(exc).__name__}: {exc.args[-1] if exc.args else ''}") from None


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
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise _error(ref, f"the command {argv[0]!r} was not found") from None
    except subprocess.TimeoutExpired:
        raise _error(ref, f"the command {argv[0]!r} did not finish within "
                          f"{COMMAND_TIMEOUT:g} s") from None
    if done.returncode != 0:
        # stderr is shown (trimmed) because it is how the user learns what went wrong;
        # stdout, where the secret would be, never is.
        detail = done.stderr.strip().splitlines()[-1][:200] if done.stderr.strip() else ""
        raise _error(ref, f"the command {argv[0]!r} exited with status {done.returncode}"
                          + (f": {detail}" if detail else ""))
    return done.stdout.strip()


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
