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
    digests,
    is_replayable,
    marked,
    settle,
    settle_async,
    with_note,
    without_copied,
)
from unified_auth.core.async_lease import advance_async, current_lease
from unified_auth.core.broker import Lease
from unified_auth.core.flow import Outcome, RequestFlow, Send, answer_flow, settled
from unified_auth.core.owned_urls import OwnedURLs
from unified_auth.model import Target

__all__ = ["TargetHttpxAuth"]

log = logging.getLogger("unified_auth")


class TargetHttpxAuth(httpx.Auth):
    """An :class:`httpx.Auth` for one target, sync and async: the flow's steps, each send
    yielded to httpx."""

    # The legacy signer covers the body bytes: httpx reads the body before the flow runs.
    requires_request_body = True

    def __init__(self, target: Target, flow: RequestFlow) -> None:
        self.target = target
        self._flow = flow
        self._owned = OwnedURLs(flow, target)
        self._warned = False
        # The digests of the current lease's headers, for the note on each request
        # (``None`` for a signer's lease, whose headers differ per request).
        self._note: tuple[Lease, frozenset[tuple[bytes, str]] | None] | None = None

    def __repr__(self) -> str:
        return f"TargetHttpxAuth({self.target.name!r})"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response,
                                                                   None]:
        request = without_copied(request)
        url = self._owned_url(request)
        if url is None:
            yield request
            return
        flow, target = self._flow, self.target
        # request_flow's first steps inline: the generator is made only for a 401.
        lease = flow.broker.lease(target)
        response = yield self._send(lease, request, url)
        self._check_hops(response)
        outcome = Outcome.ANSWER
        if not settled(response.status_code):
            steps = answer_flow(target, lease, response.status_code,
                                can_replay=is_replayable(request))
            step = flow.advance(steps, None)
            while isinstance(step, Send):
                response = yield self._send(step.lease, request, url)
                self._check_hops(response)
                step = flow.advance(steps, response.status_code)
            outcome = step
        settle(flow, target, outcome, request, response)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request,
                                                                               httpx.Response]:
        request = without_copied(request)
        url = self._owned_url(request)
        if url is None:
            yield request
            return
        flow, target = self._flow, self.target
        lease = await current_lease(flow, target)
        response = yield self._send(lease, request, url)
        self._check_hops(response)
        outcome = Outcome.ANSWER
        if not settled(response.status_code):
            steps = answer_flow(target, lease, response.status_code,
                                can_replay=is_replayable(request))
            step = await advance_async(flow, steps, None)
            while isinstance(step, Send):
                response = yield self._send(step.lease, request, url)
                self._check_hops(response)
                step = await advance_async(flow, steps, response.status_code)
            outcome = step
        await settle_async(flow, target, outcome, request, response)

    def _check_hops(self, response: httpx.Response) -> None:
        """Say so, once, when httpx followed a redirect copying this Auth's headers along."""
        if self._warned or not response.history or not copied_headers(response.request):
            return
        if self._flow.owner(str(response.request.url)) is self.target:
            return
        self._warned = True
        log.warning("target %s: the client followed a redirect to %s and copied this "
                    "target's credential headers onto it (httpx copies headers from hop to "
                    "hop): use ua.httpx_client(follow_redirects=True), whose transport "
                    "routes every hop, or follow response.next_request yourself",
                    self.target.name, response.request.url.host)

    def _owned_url(self, request: httpx.Request) -> str | None:
        """The request's URL if it is one of the target's, else ``None`` (and a warning)."""
        url = str(request.url)
        if self._owned.owns(url):  # the proxy rule too: httpx picks the proxy after the Auth
            return url
        log.warning("target %s: not authenticating %s, which is not one of its hosts",
                    self.target.name, request.url.host)
        return None

    def _send(self, lease: Lease, request: httpx.Request, url: str) -> httpx.Request:
        sent = authorised(self._flow, lease, request)
        note = self._note
        if note is None or note[0] is not lease:  # once a lease, not once a request
            headers = self._flow.authoriser.headers_for(lease)
            note = self._note = (lease, None if headers is None else digests(headers))
        if note[1] is None:  # a signer's headers differ per request
            return marked(request, sent)
        return with_note(sent, note[1], url if sent.url is request.url else None)
