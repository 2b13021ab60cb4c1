"""The code shown in docs/fleet.md; tests/test_docs.py runs main().

``hub()``, ``app`` and ``sync_lists`` are the page's snippets: a WSGI application served
by N gunicorn workers, and a Celery-style task, sharing tokens through the config's
``[cache]``. main() runs them against the Liana emulator, with a file cache in a temporary
directory, and loads more hubs in the same way N worker processes would.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

import unified_auth
from unified_auth.testing import LianaEmulator

LIANA = os.environ.get("LIANA_API", "https://rest.lianamailer.com")

_per_process: dict[int, tuple[unified_auth.UnifiedAuth, requests.Session]] = {}
_loading = threading.Lock()


def hub() -> tuple[unified_auth.UnifiedAuth, requests.Session]:
    """This process's hub and session, loaded on first use in each worker process.

    Never load the hub in a parent that forks workers (gunicorn --preload, Celery's
    prefork pool): keyed by process id, every worker gets its own after the fork.
    """
    pid = os.getpid()
    with _loading:
        if pid not in _per_process:
            ua = unified_auth.load()  # $UNIFIED_AUTH_CONFIG, with its [cache] table
            _per_process[pid] = ua, ua.session()
        return _per_process[pid]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A WSGI application: gunicorn -w 8 fleet_app:app"""
    _, session = hub()
    answer = session.get(f"{LIANA}/v1/lists", timeout=30)
    answer.raise_for_status()
    body = json.dumps(answer.json()["result"]).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def sync_lists() -> int:
    """A Celery task (decorate it with @celery_app.task): the same hub() in each worker."""
    _, session = hub()
    answer = session.get(f"{LIANA}/v1/lists", timeout=30)
    answer.raise_for_status()
    return len(answer.json()["result"])


# What follows runs the snippets above against the Liana emulator.

CONFIG = """\
[cache]
backend = "file"
path = {cache_dir}

[targets.mailer]
provider = "liana"
hosts = [{hosts}]
client_id = {client_id}
client_secret = {{ file = {secret_file} }}
token_url = {token_url}
"""

NEEDS = ("liana",)


def main() -> None:
    global LIANA
    with LianaEmulator() as liana, tempfile.TemporaryDirectory() as tmp:
        client_id, secret = liana.create_credential("fleet example")
        secret_file = Path(tmp, "liana.secret")
        secret_file.write_text(secret, encoding="utf-8")
        config = Path(tmp, "unified-auth.toml")
        config.write_text(CONFIG.format(
            cache_dir=json.dumps(str(Path(tmp, "cache"))), hosts=json.dumps(f"{liana.url}/v1/"),
            client_id=json.dumps(client_id), secret_file=json.dumps(str(secret_file)),
            token_url=json.dumps(liana.token_url)), encoding="utf-8")
        saved, LIANA = (os.environ.get("UNIFIED_AUTH_CONFIG"), LIANA), liana.url
        os.environ["UNIFIED_AUTH_CONFIG"] = str(config)
        try:
            body = b"".join(app({}, lambda status, headers: None))
            assert json.loads(body), "the app answered with the lists"
            assert sync_lists() == 2
            # Three more workers (here: three more hubs) get the token from the cache.
            for _ in range(3):
                with unified_auth.load() as worker:
                    assert worker.session().get(f"{liana.url}/v1/lists", timeout=30).ok
        finally:
            _per_process.pop(os.getpid())[0].close()
            (previous, LIANA) = saved
            if previous is None:
                os.environ.pop("UNIFIED_AUTH_CONFIG", None)
            else:
                os.environ["UNIFIED_AUTH_CONFIG"] = previous
        assert liana.counters.token_requests == 1, "one fetch for every worker"
        print(f"{liana.counters.api_requests} API requests, 1 token fetch")


if __name__ == "__main__":
    main()
