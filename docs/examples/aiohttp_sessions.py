"""The code shown in docs/aiohttp.md; tests/test_docs.py runs main().

The functions are the page's snippets. main() runs them against the Liana and classic
(API key) emulators of unified_auth.testing instead of the real APIs, and serves the
example app with aiohttp's own test server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import unified_auth
from unified_auth.testing import ClassicEmulator, LianaEmulator

LIANA = "https://rest.lianamailer.com"
STATUS = "https://status.example.com"


async def with_a_session(ua: unified_auth.UnifiedAuth, api: str = LIANA) -> Any:
    # Any aiohttp.ClientSession keyword argument; make it in a coroutine, as aiohttp wants.
    async with ua.aiohttp_session(timeout=aiohttp.ClientTimeout(total=30)) as session, \
            session.get(f"{api}/v1/lists") as response:
        response.raise_for_status()
        return await response.json()


CONFIG = web.AppKey("config", dict)
HTTP = web.AppKey("http", aiohttp.ClientSession)
APIS = web.AppKey("apis", dict)


async def hub_and_session(app: web.Application) -> AsyncIterator[None]:
    # One hub and one session for the life of the app (a cleanup context): tokens are
    # fetched once and shared by every handler; a fetch runs in a worker thread.
    ua = unified_auth.load(app[CONFIG])
    async with ua.aiohttp_session(timeout=aiohttp.ClientTimeout(total=30)) as session:
        app[HTTP] = session
        yield
    ua.close()


async def overview(request: web.Request) -> web.Response:
    # Two APIs, two targets, one session: each URL gets its own target's credentials.
    http = request.app[HTTP]
    apis = request.app[APIS]
    async with http.get(f"{apis['mailer']}/v1/lists") as lists, \
            http.get(f"{apis['status']}/keyed/status") as status:
        lists.raise_for_status()
        status.raise_for_status()
        return web.json_response({"lists": (await lists.json())["result"],
                                  "status": (await status.json())["method"]})


def make_app(config: dict[str, Any], liana: str = LIANA, status: str = STATUS) -> web.Application:
    app = web.Application()
    app[CONFIG] = config
    app[APIS] = {"mailer": liana, "status": status}
    app.cleanup_ctx.append(hub_and_session)
    app.router.add_get("/overview", overview)
    return app


# What follows runs the snippets above against the emulators.


def main() -> None:
    with LianaEmulator() as liana, ClassicEmulator() as classic:
        client_id, secret = liana.create_credential("aiohttp docs")
        config = {"targets": {
            "mailer": {"provider": "liana", "hosts": [f"{liana.url}/v1/"],
                       "client_id": client_id, "client_secret": secret,
                       "token_url": liana.token_url},
            "status": {"provider": "api-key", "hosts": [f"{classic.url}/keyed/"],
                       "key": classic.create_api_key("docs")},
        }}
        ua = unified_auth.load(config)
        assert asyncio.run(with_a_session(ua, liana.url))["succeed"] is True
        ua.close()

        async def serve() -> list[Any]:
            app = make_app(config, liana.url, classic.url)
            async with TestClient(TestServer(app)) as client:
                answers = []
                for _ in range(3):
                    async with client.get("/overview") as response:
                        answers.append(await response.json())
                return answers

        answers = asyncio.run(serve())
        assert all(answer["status"] == "api-key" and answer["lists"] for answer in answers)
        assert liana.counters.tokens_issued == 2  # the app's own hub fetched one, once


if __name__ == "__main__":
    main()
