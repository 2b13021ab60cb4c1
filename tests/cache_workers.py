"""What the shared-cache tests run in other processes (importable under ``spawn``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import unified_auth
from unified_auth.testing import LianaEmulator


def liana_config(liana: LianaEmulator, client_id: str, secret_file: Path,
                 cache: dict[str, Any] | None, **refresh: float) -> dict[str, Any]:
    """A config with one Liana target on the emulator, and ``cache`` as its ``[cache]``."""
    config: dict[str, Any] = {"targets": {"mailer": {
        "provider": "liana",
        "hosts": [f"{liana.url}/v1/"],
        "client_id": client_id,
        "client_secret": {"file": str(secret_file)},
        "token_url": liana.token_url,
    }}}
    if cache is not None:
        config["cache"] = cache
    if refresh:
        config["refresh"] = dict(refresh)
    return config


def fetch_once(config: dict[str, Any]) -> None:
    """Load a hub and fetch the credentials (the SIGKILL test kills this mid-fetch)."""
    with unified_auth.load(config) as hub:
        hub.credentials("mailer")


def hammer(config: dict[str, Any], url: str, start: Any, seconds: float,
           results: Any) -> None:
    """Load a hub, wait for the others, then GET ``url`` for ``seconds``; report counts."""
    with unified_auth.load(config) as hub:
        session = hub.session()
        start.wait(timeout=60)
        ok = failed = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                status = session.get(url, timeout=10).status_code
            except Exception:  # counted: the test says how many failed
                status = 0
            if status == 200:
                ok += 1
            else:
                failed += 1
            time.sleep(0.005)
        results.put((ok, failed))
