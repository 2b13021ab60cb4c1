"""An example secret plugin: ``{ systemd = "NAME" }`` reads a systemd service credential.

systemd hands a service its credentials (``LoadCredential=``) as files in the directory
``$CREDENTIALS_DIRECTORY``. docs/plugins.md shows this plugin under ``resolve_secret``;
docs/examples/test_systemd_creds.py tests it.
"""

from __future__ import annotations

import os
from pathlib import Path

from unified_auth import Secret, SecretRef, hookimpl
from unified_auth.errors import SecretError


@hookimpl
def resolve_secret(ref: SecretRef) -> Secret | None:
    if ref.kind != "systemd":
        return None  # env, file, keyring, command: the core's; other kinds: other plugins'
    origin = ref.origin  # where the reference is written, to name in errors
    where = {"source": origin.source, "target": origin.target, "key": origin.key} if origin else {}
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        raise SecretError("$CREDENTIALS_DIRECTORY is not set: run under a systemd unit with "
                          f"LoadCredential={ref.location}:...", **where)
    try:
        value = Path(directory, ref.location).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(f"the systemd credential {ref.location!r} cannot be read "
                          f"({type(exc).__name__})", **where) from None
    if not value:
        raise SecretError(f"the systemd credential {ref.location!r} is empty", **where)
    return Secret(value)
