"""httpx transports whose every request gets its host's credentials, sync and async.

:class:`AuthTransport` and :class:`AsyncAuthTransport` wrap the transport httpx would use
(built by :mod:`unified_auth.clients.httpx_client`, or one of the caller's), ask the flow
(:mod:`unified_auth.core.flow`) whose each request is, and run the flow on it, sending a
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

from types import TracebackType

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

__all__ = ["AsyncAuthTransport", "AuthTransport"]


class AuthTransport(httpx.BaseTransport):
    """Wraps an httpx transport: each request goes out with its host's credentials.

    :param proxy: the proxy ``inner`` goes through: ``None``, its URL, or
        :data:`~unified_auth.core.proxies.UNSEEN`.
    :param direct: where a request with credentials goes instead when the proxy rule
        wants it direct (loopback); ``None`` when it must be refused instead.
    """

    def __init__(self, inner: httpx.BaseTransport, flow: RequestFlow, *,
                 proxy: str | None = None, direct: AuthTransport | None = None) -> None:
        self.inner = inner
        self.proxy = proxy
        self._flow = flow
        self._direct = direct

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request = without_copied(request)
        url = str(request.url)
        target = self._flow.owner(url)
        if target is None:
            return self.inner.handle_request(request)
        direct = self._direct
        if _goes_direct(url, self.proxy, direct is not None) and direct is not None:
            return direct.handle_request(request)
        inner, flow = self.inner, self._flow
        # run_request's first steps inline: no closure for an answer that stands.
        lease = flow.broker.lease(target)
        response = inner.handle_request(authorised(flow, lease, request))
        if response.status_code not in JUDGED_STATUSES:
            return response

        def send(lease: Lease) -> httpx.Response:
            return inner.handle_request(authorised(flow, lease, request))

        outcome, response, _ = flow.run_answer(target, lease, response, send, _status,
                                               httpx.Response.close,
                                               can_replay=is_replayable(request))
        return settle(flow, target, outcome, request, response)

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> AuthTransport:
        self.inner.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None = None,
                 exc_value: BaseException | None = None,
                 traceback: TracebackType | None = None) -> None:
        self.inner.__exit__(exc_type, exc_value, traceback)


class AsyncAuthTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`AuthTransport`: the same flow, its broker steps awaited
    (a token fetch runs in a worker thread, never on the event loop)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, flow: RequestFlow, *,
                 proxy: str | None = None, direct: AsyncAuthTransport | None = None) -> None:
        self.inner = inner
        self.proxy = proxy
        self._flow = flow
        self._direct = direct

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request = without_copied(request)
        url = str(request.url)
        target = self._flow.owner(url)
        if target is None:
            return await self.inner.handle_async_request(request)
        direct = self._direct
        if _goes_direct(url, self.proxy, direct is not None) and direct is not None:
            return await direct.handle_async_request(request)
        return await self._run(target, request)

    async def _run(self, target: Target, request: httpx.Request) -> httpx.Response:
        inner, flow = self.inner, self._flow
        # run_request_async's first steps inline: no closure for an answer that stands.
        lease = await current_lease(flow, target)
        response = await inner.handle_async_request(authorised(flow, lease, request))
        if response.status_code not in JUDGED_STATUSES:
            return response

        async def send(lease: Lease) -> httpx.Response:
            return await inner.handle_async_request(authorised(flow, lease, request))

        outcome, response, _ = await run_answer_async(
            flow, target, lease, response, send, _status, httpx.Response.aclose,
            can_replay=is_replayable(request))
        return await settle_async(flow, target, outcome, request, response)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> AsyncAuthTransport:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None,
                        exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        await self.inner.__aexit__(exc_type, exc_value, traceback)


def _status(response: httpx.Response) -> int:
    return response.status_code


def _goes_direct(url: str, proxy: str | None, can_bypass: bool) -> bool:
    """The proxy rule for a request with credentials through a transport with ``proxy``:
    ``True``, send it through the direct transport; else as it is, or refused (raises)."""
    return proxy is not None and bypasses_proxy(url, proxy, credentials=True,
                                                can_bypass=can_bypass)
