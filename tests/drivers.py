"""Every client driver, behind one call: the behaviour matrices run through each of them.

A driver is one way a script sends a request with a hub's credentials:

- ``session``: ``ua.session()`` (the transport adapter);
- ``auth``: ``requests.request(..., auth=ua.auth(name))``;
- ``httpx`` / ``httpx-async``: ``ua.httpx_client()`` / ``ua.httpx_async_client()``;
- ``httpx-transport``: ``httpx.Client(transport=ua.httpx_transport())``, a client the caller
  builds around our transport;
- ``httpx-mounted``: ``ua.httpx_client(mounts={"all://": ua.httpx_transport()})``, the
  caller's own mount;
- ``httpx-auth`` / ``httpx-auth-async``: ``httpx.Client(auth=ua.httpx_auth(name))``, which
  follows redirects through ``response.next_request`` (httpx's default), as documented;
- ``aiohttp``: ``ua.aiohttp_session(trust_env=True)``, which follows redirects itself
  (aiohttp's default), its middleware called for every hop, and takes its proxies from the
  environment (aiohttp's default is not to, which would leave the proxy rule untested).

:meth:`Drivers.send` follows redirects for every driver and returns the last answer as a
:class:`Reply`, or raises what the driver raised.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import anyio
import attrs
import httpx
import requests

import unified_auth

REQUESTS_DRIVERS = ("session", "auth")
HTTPX_DRIVERS = ("httpx", "httpx-async", "httpx-transport", "httpx-mounted", "httpx-auth",
                 "httpx-auth-async")
AIOHTTP_DRIVERS = ("aiohttp",)
DRIVERS = REQUESTS_DRIVERS + HTTPX_DRIVERS + AIOHTTP_DRIVERS
ASYNC_DRIVERS = ("httpx-async", "httpx-auth-async", "aiohttp")

MAX_HOPS = 6

# One TLS context for every client: building one per client costs milliseconds.
_CONTEXT = ssl.create_default_context()


@attrs.frozen
class Reply:
    """The last answer a driver got: its status and body."""

    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Drivers:
    """Clients of one hub, one per driver (and target, for the per-target ones), reused."""

    def __init__(self, hub: unified_auth.UnifiedAuth) -> None:
        self.hub = hub
        self._session: requests.Session | None = None
        self._clients: dict[tuple[str, str], httpx.Client] = {}

    def send(self, driver: str, target: str, method: str, url: str, *, timeout: float = 5,
             **kwargs: Any) -> Reply:
        """Send through ``driver`` (``target``: whose Auth, for the per-target drivers),
        following redirects; the last answer."""
        if driver == "session":
            answer = self.session().request(method, url, timeout=timeout, **kwargs)
            return Reply(answer.status_code, answer.content)
        if driver == "auth":
            answer = requests.request(method, url, auth=self.hub.auth(target),
                                      timeout=timeout, **kwargs)
            return Reply(answer.status_code, answer.content)
        if driver in AIOHTTP_DRIVERS:
            return anyio.run(self._send_aiohttp, method, url, timeout, kwargs)
        body = _httpx_body(kwargs)
        if driver in ASYNC_DRIVERS:
            return anyio.run(self._send_async, driver, target, method, url, timeout, body)
        client = self._client(driver, target, timeout)
        response = client.request(method, url, **body)
        if driver == "httpx-auth":
            response = _follow(client.send, response)
        return Reply(response.status_code, response.read())

    async def _send_async(self, driver: str, target: str, method: str, url: str,
                          timeout: float, body: dict[str, Any]) -> Reply:
        if driver == "httpx-async":
            async with self.hub.httpx_async_client(
                    timeout=timeout, follow_redirects=True, verify=_CONTEXT) as client:
                response = await client.request(method, url, **body)
                return Reply(response.status_code, await response.aread())
        async with httpx.AsyncClient(auth=self.hub.httpx_auth(target), timeout=timeout,
                                     verify=_CONTEXT) as client:
            response = await client.request(method, url, **body)
            response = await _follow_async(client.send, response)
            return Reply(response.status_code, await response.aread())

    async def _send_aiohttp(self, method: str, url: str, timeout: float,
                            kwargs: dict[str, Any]) -> Reply:
        async with self.hub.aiohttp_session(
                timeout=aiohttp.ClientTimeout(total=timeout), trust_env=True,
                connector=aiohttp.TCPConnector(ssl=_CONTEXT)) as session, \
                session.request(method, url, **kwargs) as response:
            return Reply(response.status, await response.read())

    def session(self) -> requests.Session:
        if self._session is None:
            self._session = self.hub.session()
        return self._session

    def _client(self, driver: str, target: str, timeout: float) -> httpx.Client:
        key = (driver, target if driver == "httpx-auth" else "")
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._new_client(driver, target, timeout)
        return client

    def _new_client(self, driver: str, target: str, timeout: float) -> httpx.Client:
        hub = self.hub
        if driver == "httpx":
            return hub.httpx_client(timeout=timeout, follow_redirects=True, verify=_CONTEXT)
        if driver == "httpx-transport":
            return httpx.Client(transport=hub.httpx_transport(verify=_CONTEXT),
                                timeout=timeout, follow_redirects=True)
        if driver == "httpx-mounted":
            return hub.httpx_client(mounts={"all://": hub.httpx_transport(verify=_CONTEXT)},
                                    timeout=timeout, follow_redirects=True, verify=_CONTEXT)
        if driver == "httpx-auth":
            return httpx.Client(auth=hub.httpx_auth(target), timeout=timeout, verify=_CONTEXT)
        raise ValueError(f"unknown driver {driver!r}")

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        for client in self._clients.values():
            client.close()


def _httpx_body(kwargs: dict[str, Any]) -> dict[str, Any]:
    """requests' ``data=`` (a str or bytes body, or an iterator of chunks) as httpx's
    ``content=``."""
    if "data" in kwargs and not isinstance(kwargs["data"], dict):
        kwargs = dict(kwargs)
        kwargs["content"] = kwargs.pop("data")
    return kwargs


def _follow(send: Callable[[httpx.Request], httpx.Response],
            response: httpx.Response) -> httpx.Response:
    for _ in range(MAX_HOPS):
        if response.next_request is None:
            return response
        response = send(response.next_request)
    raise AssertionError("too many redirects")


async def _follow_async(send: Callable[[httpx.Request], Awaitable[httpx.Response]],
                        response: httpx.Response) -> httpx.Response:
    for _ in range(MAX_HOPS):
        if response.next_request is None:
            return response
        response = await send(response.next_request)
    raise AssertionError("too many redirects")
