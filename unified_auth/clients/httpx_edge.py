"""The httpx side of the flow: its requests and answers to the flow's types, and back.

Shared by the transports (:mod:`unified_auth.clients.httpx_transport`) and the httpx Auth
(:mod:`unified_auth.clients.httpx_auth`). What is sent for a lease is a *new* request: the
caller's object (from which httpx builds a redirect, and which a test's handler may keep)
never carries credentials. A provider with ``auth_headers`` costs a header copy; a signer
sees an :class:`~unified_auth.AuthRequest` (header values cross as latin-1, which maps
every byte to one character, so nothing is lost either way) and whatever it changed comes
back onto the new request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import NamedTuple

import httpx

from unified_auth.core.authorise import EXPLAINED_STATUSES, MAX_EXPLAINED_BODY
from unified_auth.core.broker import Lease
from unified_auth.core.flow import Outcome, RequestFlow
from unified_auth.core.messages import AuthAnswer, AuthRequest, Headers, StreamedBody
from unified_auth.errors import AccessDenied, AuthFailed
from unified_auth.model import Target

__all__ = [
    "answer_of",
    "authorised",
    "copied_headers",
    "digests",
    "explain",
    "is_replayable",
    "marked",
    "needs_body",
    "refused",
    "settle",
    "settle_async",
    "small_body_length",
    "to_auth_request",
    "with_note",
    "without_copied",
]

APPLIED = "unified_auth.applied"
"""The extension naming the headers an :class:`httpx.Auth` put on a request."""

# Digests of credential headers are keyed per process: outside it they tell nothing, not
# even to someone guessing a weak password offline.
_DIGEST_KEY = secrets.token_bytes(32)


class _Applied(NamedTuple):
    """The note: the URL of the hop that carried the credentials, and their digests."""

    url: str
    headers: frozenset[tuple[bytes, str]]


def is_replayable(request: httpx.Request) -> bool:
    """Whether the body is bytes in memory (it can be signed and sent again after a 401).

    ``content=``, ``json=`` and ``data=`` bodies are; generators, files and multipart
    uploads stream, so they are sent once, as they are.
    """
    return isinstance(request.stream, httpx.ByteStream)


def to_auth_request(request: httpx.Request) -> AuthRequest:
    """What ``apply_auth`` sees of ``request``: a copy of its method, URL, headers and body."""
    headers = Headers()
    for name, value in request.headers.raw:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    body = request.read() if is_replayable(request) else StreamedBody()
    return AuthRequest(request.method, str(request.url), headers, body)


def authorised(flow: RequestFlow, lease: Lease, request: httpx.Request) -> httpx.Request:
    """What is sent: a new request carrying ``lease``; ``request`` as it was."""
    headers = flow.authoriser.headers_for(lease)
    if headers is None:
        return _signed(flow, lease, request)
    copy: httpx.Request = object.__new__(httpx.Request)
    copy.__dict__.update(vars(request))
    copy.headers = merged = request.headers.copy()
    for name, value in headers.items():  # MutableMapping.update looks each value up
        merged[name] = value
    return copy


def _signed(flow: RequestFlow, lease: Lease, request: httpx.Request) -> httpx.Request:
    seen = to_auth_request(request)
    before = {name.lower(): value for name, value in seen.headers.items()}
    flow.authoriser.apply(lease, seen)
    after = {name.lower(): (name, value) for name, value in seen.headers.items()}
    changed = {name for name, value in before.items()
               if after.get(name, (None, None))[1] != value} | (after.keys() - before.keys())
    raw = [(k, v) for k, v in request.headers.raw if k.decode("latin-1").lower() not in changed]
    raw += [(after[name][0].encode("latin-1"), after[name][1].encode("latin-1"))
            for name in sorted(changed) if name in after]
    url = request.url if seen.url == str(request.url) else httpx.URL(seen.url)
    stream = request.stream
    body = seen.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, bytes) and (not is_replayable(request) or body != request.content):
        stream = httpx.ByteStream(body)
    return httpx.Request(seen.method or request.method, url, headers=raw, stream=stream,
                         extensions=request.extensions)


def marked(source: httpx.Request, sent: httpx.Request) -> httpx.Request:
    """``sent`` noting (by digest) which headers the credentials added to ``source``.

    httpx builds the next hop of a redirect from the request an Auth yielded, extensions
    included: the note lets :func:`without_copied` take those headers off it again.
    """
    before = set(source.headers.raw)
    return with_note(sent, frozenset((name.lower(), _digest(value))
                                     for name, value in sent.headers.raw
                                     if (name, value) not in before))


def digests(headers: Mapping[str, str]) -> frozenset[tuple[bytes, str]]:
    """The note :func:`marked` makes for ``headers`` (a lease's, computed once for it)."""
    return frozenset((name.lower().encode("latin-1"), _digest(value.encode("latin-1")))
                     for name, value in headers.items())


def with_note(sent: httpx.Request, added: frozenset[tuple[bytes, str]],
              url: str | None = None) -> httpx.Request:
    """``sent`` with the note that it carries the headers ``added`` names (``url``:
    ``str(sent.url)`` when the caller has it already)."""
    sent.extensions = {**sent.extensions, APPLIED: _Applied(url or str(sent.url), added)}
    return sent


def without_copied(request: httpx.Request) -> httpx.Request:
    """``request`` without the credential headers httpx copied onto it from an earlier hop.

    The request an Auth authenticated is left alone; a redirect to another URL built from
    it comes back without them, to be routed afresh.
    """
    if APPLIED not in request.extensions:
        return request
    copied = copied_headers(request)
    if not copied:
        return request
    kept = [pair for pair in request.headers.raw if pair not in copied]
    extensions = {k: v for k, v in request.extensions.items() if k != APPLIED}
    return httpx.Request(request.method, request.url, headers=kept, stream=request.stream,
                         extensions=extensions)


def copied_headers(request: httpx.Request) -> list[tuple[bytes, bytes]]:
    """The headers an Auth put on an earlier hop that httpx copied onto ``request``."""
    applied = request.extensions.get(APPLIED)
    if not isinstance(applied, _Applied) or applied.url == str(request.url):
        return []
    return [(k, v) for k, v in request.headers.raw
            if (k.lower(), _digest(v)) in applied.headers]


def _digest(value: bytes) -> str:
    return hmac.new(_DIGEST_KEY, value, hashlib.sha256).hexdigest()


def small_body_length(response: httpx.Response) -> bool:
    """Whether the answer declares a body small enough to read for an explanation.

    A body of unknown or large length is left to the caller, unread.
    """
    length = response.headers.get("content-length", "")
    return length.isdigit() and int(length) <= MAX_EXPLAINED_BODY


def needs_body(response: httpx.Response) -> bool:
    """Whether a plugin may explain this answer, so its (short) body must be read first."""
    return response.status_code in EXPLAINED_STATUSES and small_body_length(response)


def answer_of(response: httpx.Response, request: httpx.Request, body: bytes) -> AuthAnswer:
    """What ``explain_response`` sees of ``response``, whose body ``body`` was read."""
    return AuthAnswer(response.status_code, response.reason_phrase, response.headers,
                      str(request.url),
                      text=lambda: body.decode(response.charset_encoding or "utf-8", "replace"))


def explain(flow: RequestFlow, target: Target, request: httpx.Request,
            response: httpx.Response, body: bytes) -> None:
    """Log the provider's explanation of a 403/404 once per target and status.

    A plugin may raise instead (:class:`AccessDenied` for an API that is not licensed): the
    error then carries the httpx answer, as an httpx caller expects.
    """
    try:
        flow.explain(target, answer_of(response, request, body))
    except AccessDenied as error:
        _attach(error, response, request, body)
        raise


def settle(flow: RequestFlow, target: Target, outcome: Outcome, request: httpx.Request,
           response: httpx.Response) -> httpx.Response:
    """What a finished flow hands the caller: ``response``, explained if it is a 403 or a
    404, or, for :attr:`Outcome.REFUSED`, the error it means (its short body read)."""
    if outcome is Outcome.REFUSED:
        body = response.read() if small_body_length(response) else b""
        response.close()
        raise refused(flow, target, request, response, body)
    if needs_body(response):
        explain(flow, target, request, response, response.read())
    return response


async def settle_async(flow: RequestFlow, target: Target, outcome: Outcome,
                       request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """:func:`settle` for async clients, the body awaited."""
    if outcome is Outcome.REFUSED:
        body = await response.aread() if small_body_length(response) else b""
        await response.aclose()
        raise refused(flow, target, request, response, body)
    if needs_body(response):
        explain(flow, target, request, response, await response.aread())
    return response


def refused(flow: RequestFlow, target: Target, request: httpx.Request,
            response: httpx.Response, body: bytes) -> AuthFailed:
    """The error for a 401 to the retry, carrying the httpx answer."""
    error = flow.refused(target, answer_of(response, request, body))
    _attach(error, response, request, body)
    return error


def _attach(error: AuthFailed | AccessDenied, response: httpx.Response,
            request: httpx.Request, body: bytes) -> None:
    # A read copy: the original may be closed by the time the caller looks.
    error.response = httpx.Response(response.status_code, headers=response.headers,
                                    content=body, request=request)
    error.request = request
