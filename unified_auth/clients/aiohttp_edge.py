"""The aiohttp side of the flow: its requests and answers to the flow's types, and back.

aiohttp builds a new :class:`aiohttp.ClientRequest` for every hop from the caller's
arguments and hands it to each client middleware; the next hop never starts from it. So
a send puts the lease on the hop's request itself, noting what it replaced (``saved``),
and :func:`restore` takes it off again once the answer is in: afterwards the request
(``response.request_info``, a caller's own middleware, an error) carries no credentials.
A provider with ``auth_headers`` costs a header update; a signer sees an
:class:`~unified_auth.AuthRequest` with the body bytes when they can be read once and
bounded, else a :class:`~unified_auth.core.messages.StreamedBody` it refuses to sign.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
from yarl import URL

from unified_auth.core.authorise import EXPLAINED_STATUSES, MAX_EXPLAINED_BODY
from unified_auth.core.broker import Lease
from unified_auth.core.flow import Outcome, RequestFlow
from unified_auth.core.messages import AuthAnswer, AuthRequest, Headers, StreamedBody
from unified_auth.errors import AccessDenied, AuthFailed
from unified_auth.model import Target

__all__ = ["MAX_SIGNED_BODY", "Saved", "authorise", "is_replayable", "restore", "settle",
           "settled", "sign"]

MAX_SIGNED_BODY = 16 * 1024 * 1024
"""Bytes of a streamed body (a file, a multipart form) read into memory for a signer."""

class Saved:
    """What the sends of one hop replaced on its request, to be put back: header names
    with the caller's values (none: empty), and the URL and body a signer changed."""

    __slots__ = ("body", "headers", "url")

    def __init__(self) -> None:
        self.headers: list[tuple[str, Sequence[str]]] = []
        self.url: URL | None = None
        self.body: aiohttp.Payload | None = None


def is_replayable(request: aiohttp.ClientRequest) -> bool:
    """Whether the body is bytes in memory (``data=`` bytes, str or a form, ``json=``), so
    it can be signed and sent again after a 401; files, async iterables and multipart
    uploads stream, so they are sent once."""
    return isinstance(request.body, bytes | aiohttp.BytesPayload)


def authorise(flow: RequestFlow, lease: Lease, request: aiohttp.ClientRequest,
              saved: Saved) -> bool:
    """Put ``lease``'s headers on ``request``, after taking off what an earlier send put
    there; ``False`` when its plugin signs each request instead (then await :func:`sign`)."""
    if saved.headers:  # the retry after a 401
        restore(request, saved)
    headers = flow.authoriser.headers_for(lease)
    if headers is None:
        return False
    found, replaced = request.headers, saved.headers
    for name, value in headers.items():
        replaced.append((name, found.getall(name, ())))
        found[name] = value
    return True


def restore(request: aiohttp.ClientRequest, saved: Saved) -> None:
    """Put back the caller's headers that the sends noted in ``saved`` replaced."""
    found = request.headers
    for name, values in reversed(saved.headers):
        found.popall(name, None)
        for value in values:
            found.add(name, value)
    saved.headers.clear()


async def sign(flow: RequestFlow, lease: Lease, request: aiohttp.ClientRequest,
               saved: Saved) -> None:
    """Let ``lease``'s plugin sign ``request`` (what it changed noted in ``saved``), as the
    caller made it: a retry's signature is made afresh, not over the first one's."""
    restore(request, saved)
    if saved.url is not None:
        request.url, saved.url = saved.url, None
    if saved.body is not None:
        await request.update_body(saved.body)
        saved.body = None
    body = await _body_of(request)
    headers = Headers()
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    before = {name.lower(): (name, value) for name, value in headers.items()}
    seen = AuthRequest(request.method, str(request.url), headers, body)
    flow.authoriser.apply(lease, seen)
    after: dict[str, tuple[str, str | None]] = {
        name.lower(): (name, value) for name, value in seen.headers.items()}
    found = request.headers
    for key in sorted(before.keys() | after.keys()):
        spelled, now = after.get(key) or (before[key][0], None)
        if now != before.get(key, (None, None))[1]:
            saved.headers.append((spelled, found.getall(spelled, ())))
            found.popall(spelled, None)
            if now is not None:
                found[spelled] = now
    if seen.url != str(request.url):
        saved.url, request.url = request.url, URL(seen.url)
    signed = seen.body.encode("utf-8") if isinstance(seen.body, str) else seen.body
    if isinstance(signed, bytes) and signed != (body if isinstance(body, bytes) else b""):
        if isinstance(request.body, aiohttp.BytesPayload):  # sent again after a 401
            saved.body = request.body
        await request.update_body(signed)


async def _body_of(request: aiohttp.ClientRequest) -> bytes | StreamedBody | None:
    """What a signer sees of the body: its bytes if they are in memory or can be read once
    within :data:`MAX_SIGNED_BODY` (aiohttp reads a file in a worker thread and sends it
    again from where it started); otherwise a body it cannot read."""
    body = request.body
    if isinstance(body, bytes):  # aiohttp's b"" for no body
        return None
    if isinstance(body, aiohttp.BytesPayload):
        return await body.as_bytes()
    size = body.size  # None for an async iterable: it cannot be read within a bound
    return await body.as_bytes() if size is not None and size <= MAX_SIGNED_BODY else \
        StreamedBody()


def _small(response: aiohttp.ClientResponse) -> bool:
    length = response.headers.get("Content-Length", "")
    return length.isdigit() and int(length) <= MAX_EXPLAINED_BODY


def _answer(response: aiohttp.ClientResponse, body: bytes) -> AuthAnswer:
    return AuthAnswer(response.status, response.reason or "", response.headers,
                      str(response.url),
                      text=lambda: body.decode(response.charset or "utf-8", "replace"))


def settled(outcome: Outcome, response: aiohttp.ClientResponse) -> bool:
    """Whether ``response`` goes to the caller as it is, without :func:`settle`."""
    return outcome is Outcome.ANSWER and response.status not in EXPLAINED_STATUSES


async def settle(flow: RequestFlow, target: Target, outcome: Outcome,
                 response: aiohttp.ClientResponse) -> aiohttp.ClientResponse:
    """What a finished flow hands the caller: ``response``, explained if it is a 403 or a
    404 (its short body read, and kept for the caller), or, for
    :attr:`Outcome.REFUSED`, the error it means, carrying the aiohttp answer."""
    if outcome is Outcome.REFUSED:
        body = await response.read() if _small(response) else b""
        response.release()
        raise _attached(flow.refused(target, _answer(response, body)), response)
    if response.status in EXPLAINED_STATUSES and _small(response):
        try:
            flow.explain(target, _answer(response, await response.read()))
        except AccessDenied as error:
            raise _attached(error, response) from None
    return response


def _attached(error: AuthFailed | AccessDenied,
              response: aiohttp.ClientResponse) -> AuthFailed | AccessDenied:
    # The body was read, so the answer stays readable after its connection went back.
    error.response = response
    error.request = response.request_info
    return error
