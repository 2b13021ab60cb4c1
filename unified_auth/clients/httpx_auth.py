"""``ua.httpx_auth(name)``: an :class:`httpx.Auth` for one target, for clients you don't build.

Only URLs of the target get its credentials, applied to a copy of the request. httpx's
default is not to follow redirects: the ``next_request`` it offers is built from the copy
that carried the credentials, so before anything else the flow takes off every header it
put on an earlier hop (noted, by digest, in an extension httpx copies along), and a
foreign host gets the request without them. A 401 is retried once with fresh credentials, then
:class:`~unified_auth.errors.AuthFailed`.

A client that follows redirects itself (``follow_redirects=True``) copies the headers of
the hop before to the next one without asking the Auth: use ``ua.httpx_client()`` there,
whose transport routes every hop afresh.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator

import httpx

from unified_auth.clients.httpx_edge import (
    authorised,
    copied_headers,
    explain,
    failed,
    marked,
    needs_body,
    refuse_unseen_proxy,
    small_body_length,
    verdict,
    verdict_async,
    without_copied,
)
from unified_auth.core.async_lease import lease_async
from unified_auth.core.authorise import Authoriser, Verdict
from unified_auth.core.broker import Lease
from unified_auth.core.routing import Router
from unified_auth.model import Target

__all__ = ["TargetHttpxAuth"]

log = logging.getLogger("unified_auth")


class TargetHttpxAuth(httpx.Auth):
    """An :class:`httpx.Auth` for one target, sync and async."""

    # The legacy signer covers the body bytes: httpx reads the body before the flow runs.
    requires_request_body = True

    def __init__(self, target: Target, router: Router[Target], authoriser: Authoriser) -> None:
        self.target = target
        self._router = router
        self._authoriser = authoriser
        self._warned = False

    def __repr__(self) -> str:
        return f"TargetHttpxAuth({self.target.name!r})"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response,
                                                                   None]:
        request = without_copied(request)
        if not self._owns(request):
            yield request
            return
        lease = self._authoriser.lease(self.target)
        response = yield self._send(lease, request)
        self._check_hops(response)
        if verdict(self._authoriser, self.target, lease, request, response,
                   retry=False) is not Verdict.RETRY:
            if needs_body(response):
                explain(self._authoriser, self.target, request, response, response.read())
            return
        fresh = self._authoriser.lease(self.target)
        retried = yield self._send(fresh, request)
        if verdict(self._authoriser, self.target, fresh, request, retried,
                   retry=True) is Verdict.FAILED:
            body = retried.read() if small_body_length(retried) else b""
            raise failed(self._authoriser, self.target, request, retried, body)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request,
                                                                               httpx.Response]:
        request = without_copied(request)
        if not self._owns(request):
            yield request
            return
        broker = self._authoriser.broker
        lease = await lease_async(broker, self.target)
        response = yield self._send(lease, request)
        self._check_hops(response)
        if await verdict_async(self._authoriser, self.target, lease, request, response,
                               retry=False) is not Verdict.RETRY:
            if needs_body(response):
                explain(self._authoriser, self.target, request, response,
                        await response.aread())
            return
        fresh = await lease_async(broker, self.target)
        retried = yield self._send(fresh, request)
        if await verdict_async(self._authoriser, self.target, fresh, request, retried,
                               retry=True) is Verdict.FAILED:
            body = await retried.aread() if small_body_length(retried) else b""
            raise failed(self._authoriser, self.target, request, retried, body)

    def _check_hops(self, response: httpx.Response) -> None:
        """Say so, once, when httpx followed a redirect copying this Auth's headers along."""
        if self._warned or not response.history or not copied_headers(response.request):
            return
        if self._router.match(str(response.request.url)) is self.target:
            return
        self._warned = True
        log.warning("target %s: the client followed a redirect to %s and copied this "
                    "target's credential headers onto it (httpx copies headers from hop to "
                    "hop): use ua.httpx_client(follow_redirects=True), whose transport "
                    "routes every hop, or follow response.next_request yourself",
                    self.target.name, response.request.url.host)

    def _owns(self, request: httpx.Request) -> bool:
        if self._router.match(str(request.url)) is self.target:
            refuse_unseen_proxy(request.url)
            return True
        log.warning("target %s: not authenticating %s, which is not one of its hosts",
                    self.target.name, request.url.host)
        return False

    def _send(self, lease: Lease, request: httpx.Request) -> httpx.Request:
        return marked(request, authorised(self._authoriser, lease, request))
