"""``ua.aiohttp_session()``: an :class:`aiohttp.ClientSession` whose every request runs the
flow, through aiohttp's public client middlewares (aiohttp 3.12 or newer).

aiohttp calls a session's middlewares for every hop, redirects included, each a request
built afresh from the caller's arguments. :class:`AuthMiddleware` comes after the caller's
own, nearest the wire, so it judges each hop on the URL and proxy it goes with: a hop no
target owns goes as it came, loopback credentials skip the hop's proxy (``proxy=``, or the
environment's with ``trust_env=True``), plain http through one is refused.

aiohttp turns an :class:`OSError` from a middleware into a ``ClientOSError``, and each of
our errors is one (a :class:`requests.RequestException`), so they leave as subclasses of
:class:`aiohttp.ClientError` too, which aiohttp passes on untouched.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from yarl import URL

from unified_auth.clients.aiohttp_edge import (
    Saved,
    authorise,
    is_replayable,
    restore,
    settle,
    settled,
    sign,
)
from unified_auth.core.async_lease import lease_async, run_answer_async
from unified_auth.core.broker import Lease
from unified_auth.core.flow import JUDGED_STATUSES, Outcome, RequestFlow
from unified_auth.core.flow import settled as settled_status
from unified_auth.core.proxies import bypasses_proxy
from unified_auth.core.routing import URL_CACHE_SIZE
from unified_auth.errors import UnifiedAuthError
from unified_auth.model import Target

__all__ = ["AuthMiddleware", "session"]

_CLIENT_ERRORS: dict[type[UnifiedAuthError], type[UnifiedAuthError]] = {}

_UNKNOWN: Any = object()
"""Not yet routed (``None`` is an owner too: nobody's)."""


def session(flow: RequestFlow, **kwargs: Any) -> aiohttp.ClientSession:
    """An :class:`aiohttp.ClientSession` built from ``kwargs``, :class:`AuthMiddleware`
    after the caller's ``middlewares``."""
    mine = tuple(kwargs.pop("middlewares", None) or ())
    return aiohttp.ClientSession(**kwargs, middlewares=(*mine, AuthMiddleware(flow)))


class AuthMiddleware:
    """An aiohttp client middleware: each hop goes out with its host's credentials."""

    __slots__ = ("_flow", "_owners")

    def __init__(self, flow: RequestFlow) -> None:
        self._flow = flow
        # The owner of each URL seen lately, by yarl URL (equal URLs, equal strings): the
        # string the router takes costs more to build than the routing.
        self._owners: dict[URL, Target | None] = {}

    def _route(self, url: URL) -> Target | None:
        owners = self._owners
        if len(owners) >= URL_CACHE_SIZE:
            owners.clear()
        target = owners[url] = self._flow.owner(str(url))
        return target

    def __repr__(self) -> str:
        return "<unified-auth AuthMiddleware>"

    async def __call__(self, request: aiohttp.ClientRequest,
                       handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
        flow = self._flow
        target = self._owners.get(request.url, _UNKNOWN)
        if target is _UNKNOWN:
            target = self._route(request.url)
        if target is None:
            return await handler(request)
        saved = Saved()
        try:
            proxy = request.proxy
            if proxy is not None and bypasses_proxy(str(request.url), str(proxy),
                                                    credentials=True):
                request.proxy = request.proxy_headers = None  # loopback: reached directly
            # run_request_async's first steps inline: no coroutine for a valid lease, and
            # no closure for an answer that stands.
            lease = flow.broker.lease_nowait(target) or await lease_async(flow.broker, target)
            if not authorise(flow, lease, request, saved):
                await sign(flow, lease, request, saved)
            response = await handler(request)
            if response.status not in JUDGED_STATUSES:
                return response
            return await self._judge(target, lease, request, handler, saved, response)
        except UnifiedAuthError as error:
            error.__class__ = _client_error(type(error))
            raise
        finally:
            if saved.headers:
                restore(request, saved)

    async def _judge(self, target: Target, lease: Lease, request: aiohttp.ClientRequest,
                     handler: aiohttp.ClientHandlerType, saved: Saved,
                     response: aiohttp.ClientResponse) -> aiohttp.ClientResponse:
        """The rest of the flow for an answer that may not stand: a 401 (retried once), a
        403 or 404 (explained)."""
        flow = self._flow

        async def send(lease: Lease) -> aiohttp.ClientResponse:
            if not authorise(flow, lease, request, saved):
                await sign(flow, lease, request, saved)
            return await handler(request)

        outcome = Outcome.ANSWER
        if not settled_status(response.status):
            outcome, response, _ = await run_answer_async(
                flow, target, lease, response, send, _status, _release,
                can_replay=is_replayable(request))
        if settled(outcome, response):
            return response
        return await settle(flow, target, outcome, response)


def _client_error(kind: type[UnifiedAuthError]) -> type[UnifiedAuthError]:
    """``kind`` that is also an :class:`aiohttp.ClientError` (same name and module)."""
    if issubclass(kind, aiohttp.ClientError):
        return kind
    mixed = _CLIENT_ERRORS.get(kind)
    if mixed is None:
        mixed = _CLIENT_ERRORS[kind] = type(kind.__name__, (kind, aiohttp.ClientError), {
            "__module__": kind.__module__, "__qualname__": kind.__qualname__})
    return mixed


def _status(response: aiohttp.ClientResponse) -> int:
    return response.status


async def _release(response: aiohttp.ClientResponse) -> None:
    response.release()
