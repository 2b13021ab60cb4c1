"""httpx transports whose every request gets its host's credentials, sync and async.

:class:`AuthTransport` and :class:`AsyncAuthTransport` wrap a transport of the caller's;
:class:`AuthHTTPTransport` and :class:`AsyncAuthHTTPTransport` *are* the
``httpx.HTTPTransport`` httpx would build (made by :mod:`unified_auth.clients.httpx_client`
from the client's options), so code that asks ``isinstance(transport, httpx.HTTPTransport)``
or looks at what httpx keeps on it sees httpx's own. Each asks the flow
(:mod:`unified_auth.core.flow`) whose each request is, and runs the flow on it, sending a
*copy* with the owning target's credentials. httpx builds a redirect from the caller's
request object, which never carries them, so each hop is routed afresh: another host gets
its own credentials or none. A request no target owns goes to the wrapped transport as it
came.

Each transport knows the proxy it sends through (``proxy``): none, the proxy URL of a
transport unified-auth built, or :data:`~unified_auth.core.proxies.UNSEEN` for one of the
caller's. The proxy rule (:func:`~unified_auth.core.proxies.bypasses_proxy`) then sends a
request through ``direct`` (the client's direct transport) or refuses it.
"""

from __future__ import annotations

from types import MethodType, TracebackType
from typing import Any

import httpx

from unified_auth.clients.httpx_edge import (
    authorised,
    is_replayable,
    settle,
    settle_async,
    without_copied,
)
from unified_auth.core.async_lease import current_lease, run_answer_async
from unified_auth.core.broker import Lease
from unified_auth.core.flow import JUDGED_STATUSES, RequestFlow
from unified_auth.core.proxies import bypasses_proxy
from unified_auth.model import Target

__all__ = ["AsyncAuthHTTPTransport", "AsyncAuthTransport", "AuthHTTPTransport",
           "AuthTransport"]


class AuthTransport(httpx.BaseTransport):
    """Wraps an httpx transport: each request goes out with its host's credentials.

    :param proxy: the proxy ``inner`` goes through: ``None``, its URL, or
        :data:`~unified_auth.core.proxies.UNSEEN`.
    :param direct: where a request with credentials goes instead when the proxy rule
        wants it direct (loopback); ``None`` when it must be refused instead.
    """

    def __init__(self, inner: httpx.BaseTransport, flow: RequestFlow, *,
                 proxy: str | None = None, direct: AuthTransport | None = None) -> None:
        self._inner = inner
        self._send_on = inner.handle_request
        self.proxy = proxy
        self._flow = flow
        self._direct = direct

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request = without_copied(request)
        url = str(request.url)
        target = self._flow.owner(url)
        if target is None:
            return self._send_on(request)
        direct = self._direct
        if _goes_direct(url, self.proxy, direct is not None) and direct is not None:
            return direct.handle_request(request)
        send_on, flow = self._send_on, self._flow
        # run_request's first steps inline: no closure for an answer that stands.
        lease = flow.broker.lease(target)
        response = send_on(authorised(flow, lease, request))
        if response.status_code not in JUDGED_STATUSES:
            return response

        def send(lease: Lease) -> httpx.Response:
            return send_on(authorised(flow, lease, request))

        outcome, response, _ = flow.run_answer(target, lease, response, send, _status,
                                               httpx.Response.close,
                                               can_replay=is_replayable(request))
        return settle(flow, target, outcome, request, response)

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> AuthTransport:
        self._inner.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None = None,
                 exc_value: BaseException | None = None,
                 traceback: TracebackType | None = None) -> None:
        self._inner.__exit__(exc_type, exc_value, traceback)


class AuthHTTPTransport(AuthTransport, httpx.HTTPTransport):
    """An :class:`httpx.HTTPTransport` (built from ``options``, ``proxy`` included) whose
    every request goes out with its host's credentials.

    :param proxy_url: ``proxy``'s URL, for the proxy rule.
    """

    def __init__(self, flow: RequestFlow, *, proxy: httpx.Proxy | str | None = None,
                 proxy_url: str | None = None, direct: AuthTransport | None = None,
                 **options: Any) -> None:
        httpx.HTTPTransport.__init__(self, proxy=proxy, **options)
        AuthTransport.__init__(self, self, flow, proxy=proxy_url, direct=direct)
        # The way out is httpx's own handle_request, not the flow's (which would recurse).
        self._send_on = MethodType(httpx.HTTPTransport.handle_request, self)

    close = httpx.HTTPTransport.close
    __enter__ = httpx.HTTPTransport.__enter__
    __exit__ = httpx.HTTPTransport.__exit__


class AsyncAuthTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`AuthTransport`: the same flow, its broker steps awaited
    (a token fetch runs in a worker thread, never on the event loop)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, flow: RequestFlow, *,
                 proxy: str | None = None, direct: AsyncAuthTransport | None = None) -> None:
        self._inner = inner
        self._send_on = inner.handle_async_request
        self.proxy = proxy
        self._flow = flow
        self._direct = direct

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request = without_copied(request)
        url = str(request.url)
        target = self._flow.owner(url)
        if target is None:
            return await self._send_on(request)
        direct = self._direct
        if _goes_direct(url, self.proxy, direct is not None) and direct is not None:
            return await direct.handle_async_request(request)
        return await self._run(target, request)

    async def _run(self, target: Target, request: httpx.Request) -> httpx.Response:
        send_on, flow = self._send_on, self._flow
        # run_request_async's first steps inline: no closure for an answer that stands.
        lease = await current_lease(flow, target)
        response = await send_on(authorised(flow, lease, request))
        if response.status_code not in JUDGED_STATUSES:
            return response

        async def send(lease: Lease) -> httpx.Response:
            return await send_on(authorised(flow, lease, request))

        outcome, response, _ = await run_answer_async(
            flow, target, lease, response, send, _status, httpx.Response.aclose,
            can_replay=is_replayable(request))
        return await settle_async(flow, target, outcome, request, response)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> AsyncAuthTransport:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None,
                        exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        await self._inner.__aexit__(exc_type, exc_value, traceback)


class AsyncAuthHTTPTransport(AsyncAuthTransport, httpx.AsyncHTTPTransport):
    """:class:`AuthHTTPTransport` for async clients: an :class:`httpx.AsyncHTTPTransport`."""

    def __init__(self, flow: RequestFlow, *, proxy: httpx.Proxy | str | None = None,
                 proxy_url: str | None = None, direct: AsyncAuthTransport | None = None,
                 **options: Any) -> None:
        httpx.AsyncHTTPTransport.__init__(self, proxy=proxy, **options)
        AsyncAuthTransport.__init__(self, self, flow, proxy=proxy_url, direct=direct)
        self._send_on = MethodType(httpx.AsyncHTTPTransport.handle_async_request, self)

    aclose = httpx.AsyncHTTPTransport.aclose
    __aenter__ = httpx.AsyncHTTPTransport.__aenter__
    __aexit__ = httpx.AsyncHTTPTransport.__aexit__


def _status(response: httpx.Response) -> int:
    return response.status_code


def _goes_direct(url: str, proxy: str | None, can_bypass: bool) -> bool:
    """The proxy rule for a request with credentials through a transport with ``proxy``:
    ``True``, send it through the direct transport; else as it is, or refused (raises)."""
    return proxy is not None and bypasses_proxy(url, proxy, credentials=True,
                                                can_bypass=can_bypass)
