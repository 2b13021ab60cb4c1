"""``ua.aiohttp_session()``: an :class:`aiohttp.ClientSession` whose every request runs the
flow, through aiohttp's public client middlewares (aiohttp 3.12 or newer).

aiohttp calls a session's middlewares once for every hop it sends, redirects included, each
with a request built afresh from the caller's arguments; :class:`AuthMiddleware` comes
after the caller's own, nearest the wire, so it judges each hop (and each retry a caller's
middleware makes) on the URL and proxy it will be sent with. A hop no target owns goes as
it came. Credentials for loopback are sent directly, never through the proxy of the hop
(``proxy=`` or, with ``trust_env=True``, the environment's); plain http through a proxy is
refused (:func:`~unified_auth.core.proxies.bypasses_proxy`).

aiohttp turns an :class:`OSError` raised by a middleware into its own ``ClientOSError``,
and unified-auth's errors subclass :class:`requests.RequestException`, an ``OSError``: so
they leave the middleware as subclasses of :class:`aiohttp.ClientError` too, which aiohttp
passes on as they are, and callers catch them by either name.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from unified_auth.clients.aiohttp_edge import Saved, authorise, is_replayable, restore, settle
from unified_auth.core.async_lease import run_request_async
from unified_auth.core.broker import Lease
from unified_auth.core.flow import RequestFlow
from unified_auth.core.proxies import bypasses_proxy
from unified_auth.errors import UnifiedAuthError

__all__ = ["AuthMiddleware", "session"]

_CLIENT_ERRORS: dict[type[UnifiedAuthError], type[UnifiedAuthError]] = {}


def session(flow: RequestFlow, **kwargs: Any) -> aiohttp.ClientSession:
    """An :class:`aiohttp.ClientSession` built from ``kwargs``, :class:`AuthMiddleware`
    after the caller's ``middlewares``."""
    mine = tuple(kwargs.pop("middlewares", None) or ())
    return aiohttp.ClientSession(**kwargs, middlewares=(*mine, AuthMiddleware(flow)))


class AuthMiddleware:
    """An aiohttp client middleware: each hop goes out with its host's credentials."""

    __slots__ = ("_flow",)

    def __init__(self, flow: RequestFlow) -> None:
        self._flow = flow

    def __repr__(self) -> str:
        return "<unified-auth AuthMiddleware>"

    async def __call__(self, request: aiohttp.ClientRequest,
                       handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
        flow = self._flow
        url = str(request.url)
        target = flow.owner(url)
        if target is None:
            return await handler(request)
        saved: Saved = []

        async def send(lease: Lease) -> aiohttp.ClientResponse:
            await authorise(flow, lease, request, saved)
            return await handler(request)

        try:
            proxy = request.proxy
            if proxy is not None and bypasses_proxy(url, str(proxy), credentials=True):
                request.proxy = request.proxy_headers = None  # loopback: reached directly
            outcome, response, _ = await run_request_async(
                flow, target, send, _status, _release, can_replay=is_replayable(request))
            return await settle(flow, target, outcome, response)
        except UnifiedAuthError as error:
            error.__class__ = _client_error(type(error))
            raise
        finally:
            restore(request, saved)


def _client_error(kind: type[UnifiedAuthError]) -> type[UnifiedAuthError]:
    """``kind`` that is also an :class:`aiohttp.ClientError` (same name and module)."""
    if issubclass(kind, aiohttp.ClientError):
        return kind
    mixed = _CLIENT_ERRORS.get(kind)
    if mixed is None:
        mixed = _CLIENT_ERRORS[kind] = type(kind.__name__, (kind, aiohttp.ClientError), {
            "__module__": kind.__module__, "__qualname__": kind.__qualname__,
            "__doc__": kind.__doc__})
    return mixed


def _status(response: aiohttp.ClientResponse) -> int:
    return response.status


async def _release(response: aiohttp.ClientResponse) -> None:
    response.release()
