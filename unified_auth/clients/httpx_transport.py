"""httpx clients whose every request gets its host's credentials, sync and async.

The credentials are put on at httpx's transport layer: :class:`AuthTransport` and
:class:`AsyncAuthTransport` wrap the transport httpx would use (the default, a given one,
every mount and proxy), route each request they are handed on its parsed URL, and send a
*copy* with the owning target's credentials. httpx builds a redirect from the caller's
request object, which never carries them, so each hop is routed afresh: another host gets
its own credentials or none.

A 401 drops the lease it came back for, fetches once and retries once if the body is in
memory; a second 401 raises :class:`~unified_auth.errors.AuthFailed`. Async transports get
their lease through :func:`~unified_auth.core.async_lease.lease_async`, so a token fetch runs in
a worker thread and never blocks the event loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from unified_auth.clients.httpx_edge import (
    authorised,
    explain,
    failed,
    needs_body,
    small_body_length,
    through_proxy,
    verdict,
    verdict_async,
    without_copied,
)
from unified_auth.core.async_lease import lease_async
from unified_auth.core.authorise import Authoriser, Verdict
from unified_auth.core.routing import Router
from unified_auth.model import Target

__all__ = ["AsyncAuthTransport", "AuthTransport", "async_client", "client"]


class AuthTransport(httpx.BaseTransport):
    """Wraps an httpx transport: each request goes out with its host's credentials.

    ``direct`` is given when ``inner`` goes through a proxy: what may not take the proxy
    (see :func:`~unified_auth.clients.httpx_edge.through_proxy`) is sent through ``direct``.
    """

    def __init__(self, inner: httpx.BaseTransport, router: Router[Target],
                 authoriser: Authoriser, *, direct: AuthTransport | None = None) -> None:
        self.inner = inner
        self._router = router
        self._authoriser = authoriser
        self._direct = direct

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request = without_copied(request)
        target = self._router.match(str(request.url))
        if self._direct is not None and not through_proxy(request.url,
                                                          credentials=target is not None):
            return self._direct.handle_request(request)
        if target is None:
            return self.inner.handle_request(request)
        lease = self._authoriser.lease(target)
        response = self.inner.handle_request(authorised(self._authoriser, lease, request))
        if verdict(self._authoriser, target, lease, request, response,
                   retry=False) is not Verdict.RETRY:
            self._explain(target, request, response)
            return response
        response.close()
        fresh = self._authoriser.lease(target)
        retried = self.inner.handle_request(authorised(self._authoriser, fresh, request))
        if verdict(self._authoriser, target, fresh, request, retried,
                   retry=True) is Verdict.FAILED:
            body = retried.read() if small_body_length(retried) else b""
            retried.close()
            raise failed(self._authoriser, target, request, retried, body)
        self._explain(target, request, retried)
        return retried

    def _explain(self, target: Target, request: httpx.Request,
                 response: httpx.Response) -> None:
        if needs_body(response):
            explain(self._authoriser, target, request, response, response.read())

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
    """The async twin of :class:`AuthTransport`: same routing, same decisions."""

    def __init__(self, inner: httpx.AsyncBaseTransport, router: Router[Target],
                 authoriser: Authoriser, *, direct: AsyncAuthTransport | None = None) -> None:
        self.inner = inner
        self._router = router
        self._authoriser = authoriser
        self._direct = direct

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request = without_copied(request)
        target = self._router.match(str(request.url))
        if self._direct is not None and not through_proxy(request.url,
                                                          credentials=target is not None):
            return await self._direct.handle_async_request(request)
        if target is None:
            return await self.inner.handle_async_request(request)
        lease = await lease_async(self._authoriser.broker, target)
        response = await self.inner.handle_async_request(
            authorised(self._authoriser, lease, request))
        if await verdict_async(self._authoriser, target, lease, request, response,
                               retry=False) is not Verdict.RETRY:
            await self._explain(target, request, response)
            return response
        await response.aclose()
        fresh = await lease_async(self._authoriser.broker, target)
        retried = await self.inner.handle_async_request(
            authorised(self._authoriser, fresh, request))
        if await verdict_async(self._authoriser, target, fresh, request, retried,
                               retry=True) is Verdict.FAILED:
            body = await retried.aread() if small_body_length(retried) else b""
            await retried.aclose()
            raise failed(self._authoriser, target, request, retried, body)
        await self._explain(target, request, retried)
        return retried

    async def _explain(self, target: Target, request: httpx.Request,
                       response: httpx.Response) -> None:
        if needs_body(response):
            explain(self._authoriser, target, request, response, await response.aread())

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> AsyncAuthTransport:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None,
                        exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        await self.inner.__aexit__(exc_type, exc_value, traceback)


def client(router: Router[Target], authoriser: Authoriser, **kwargs: Any) -> httpx.Client:
    """An :class:`httpx.Client` built from ``kwargs``, every transport of it wrapped."""
    built = httpx.Client(**kwargs)
    _wrap_transports(built, kwargs, functools.partial(
        AuthTransport, router=router, authoriser=authoriser))
    return built


def async_client(router: Router[Target], authoriser: Authoriser,
                 **kwargs: Any) -> httpx.AsyncClient:
    """An :class:`httpx.AsyncClient` built from ``kwargs``, every transport of it wrapped."""
    built = httpx.AsyncClient(**kwargs)
    _wrap_transports(built, kwargs, functools.partial(
        AsyncAuthTransport, router=router, authoriser=authoriser))
    return built


def _wrap_transports(built: httpx.Client | httpx.AsyncClient, kwargs: dict[str, Any],
                     wrap: Callable[..., Any]) -> None:
    """Wrap ``built``'s default transport and every mount with ``wrap(inner, direct=...)``.

    httpx picks a transport per URL among the default one and its mounts (the given ones,
    and the proxies it sets up from proxy= and the environment): every one is wrapped, so
    no route skips the routing. httpx has no public way to reach them. A mount httpx made
    for a proxy gets the wrapped default transport as ``direct``, for what may not take
    the proxy; a mount the caller chose is the caller's route and keeps none.
    """
    direct = wrap(built._transport)
    given = set(kwargs.get("mounts") or ())  # the mount patterns the caller chose
    built._transport = direct
    built._mounts = {
        pattern: None if inner is None else wrap(
            inner, direct=None if pattern.pattern in given else direct)
        for pattern, inner in built._mounts.items()}
