"""What the httpx tests share: a redirecting recorder, one request through each entry point."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
from recorder import Answer, Recorder, Script, Seen, recording_server

import unified_auth


def hops() -> Script:
    """Answers ``/x/hop?case=ID&status=S&to=URL`` with ``S`` and ``Location: URL``; with
    ``&unauth=1`` the first request of a case gets 401 instead (so the redirect is the
    answer to the retried request). Anything else gets 200 and a small JSON body."""
    cases: set[str] = set()
    lock = threading.Lock()

    def answer(seen: Seen) -> Answer:
        parts = urlsplit(seen.target)
        if not parts.path.endswith("/hop"):
            return Answer(200, (("Content-Type", "application/json"),), b'{"ok": true}')
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with lock:
            first = query["case"] not in cases
            cases.add(query["case"])
        if query.get("unauth") == "1" and first:
            return Answer(401, (("WWW-Authenticate", 'Bearer realm="recorder"'),), b"{}")
        return Answer(int(query["status"]), (("Location", query["to"]),))

    return answer


@contextmanager
def hop_server(host: str = "127.0.0.1") -> Iterator[Recorder]:
    """A recording server (tests/recorder.py) on ``host`` that answers with :func:`hops`."""
    with recording_server(hops(), host) as recorder:
        yield recorder


Entry = str


def send(hub: unified_auth.UnifiedAuth, entry: Entry, target: str, method: str, url: str,
         **kwargs: Any) -> httpx.Response:
    """One request through one of the four httpx entry points."""
    if entry == "client":
        with hub.httpx_client(timeout=5) as client:
            return client.request(method, url, **kwargs)
    if entry == "auth":
        with httpx.Client(auth=hub.httpx_auth(target), timeout=5) as client:
            return client.request(method, url, **kwargs)

    async def main() -> httpx.Response:
        if entry == "async_client":
            async with hub.httpx_async_client(timeout=5) as client:
                return await client.request(method, url, **kwargs)
        async with httpx.AsyncClient(auth=hub.httpx_auth(target), timeout=5) as client:
            return await client.request(method, url, **kwargs)

    return anyio.run(main)
