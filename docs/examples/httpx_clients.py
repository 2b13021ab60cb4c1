"""The code shown in docs/httpx.md; tests/test_docs.py runs main().

The functions are the page's snippets. main() runs them against the Liana emulator of
unified_auth.testing, under asyncio and trio, instead of the real Liana API.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import trio

import unified_auth
from unified_auth.testing import LianaEmulator

LIANA = "https://rest.lianamailer.com"


def with_a_client(ua: unified_auth.UnifiedAuth, api: str = LIANA) -> Any:
    with ua.httpx_client(timeout=30) as client:  # any httpx.Client keyword argument
        response = client.get(f"{api}/v1/lists")
        response.raise_for_status()
        return response.json()


async def with_an_async_client(ua: unified_auth.UnifiedAuth, api: str = LIANA) -> Any:
    async with ua.httpx_async_client(timeout=30) as client:
        response = await client.get(f"{api}/v1/lists")
        response.raise_for_status()
        return response.json()


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    # One hub and one client for the life of the app: tokens are fetched once and shared
    # by every request handler; a fetch runs in a worker thread, never on the event loop.
    ua = unified_auth.load(app.state.config)
    async with ua.httpx_async_client(timeout=30) as client:
        app.state.http = client
        yield
    ua.close()


async def list_handler(app: Any, api: str = LIANA) -> Any:
    response = await app.state.http.get(f"{api}/v1/lists")
    response.raise_for_status()
    return response.json()


def with_trio(ua: unified_auth.UnifiedAuth, api: str = LIANA) -> Any:
    return trio.run(with_an_async_client, ua, api)


def with_an_auth(ua: unified_auth.UnifiedAuth, api: str = LIANA) -> Any:
    # For a client you don't build: only URLs of the target "mailer" get its credentials.
    with httpx.Client(auth=ua.httpx_auth("mailer"), timeout=30) as client:
        response = client.get(f"{api}/v1/lists")
        response.raise_for_status()
        return response.json()


# What follows runs the snippets above against the Liana emulator.


def main() -> None:
    with LianaEmulator() as liana:
        client_id, secret = liana.create_credential("httpx docs")
        config = {"targets": {"mailer": {
            "provider": "liana", "hosts": [f"{liana.url}/v1/"], "client_id": client_id,
            "client_secret": secret, "token_url": liana.token_url}}}
        ua = unified_auth.load(config)
        assert with_a_client(ua, liana.url)["succeed"] is True
        assert anyio.run(with_an_async_client, ua, liana.url)["succeed"] is True
        assert with_trio(ua, liana.url)["succeed"] is True
        assert with_an_auth(ua, liana.url)["succeed"] is True
        assert liana.counters.tokens_issued == 1  # one hub: one token for all of them

        app = types.SimpleNamespace(state=types.SimpleNamespace(config=config))

        async def serve() -> None:
            async with lifespan(app):
                answers = [await list_handler(app, liana.url) for _ in range(3)]
            assert all(answer["succeed"] for answer in answers)

        anyio.run(serve)
        assert liana.counters.tokens_issued == 2  # the app's own hub fetched its own


if __name__ == "__main__":
    main()
