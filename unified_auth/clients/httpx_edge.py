"""The httpx side of the one authorisation decision (:mod:`unified_auth.core.authorise`).

The sync and async transports and the httpx Auth ask what the requests entry points ask
(whose request is this, what is sent, what does this answer mean) and get the answers from
the same :class:`~unified_auth.core.authorise.Authoriser`: the plugin's ``apply_auth`` on a copy,
:meth:`~unified_auth.core.authorise.Authoriser.verdict` on a 401, the adapter's explanation and
:class:`AuthFailed`, :func:`~unified_auth.core.proxies.proxies_for` for proxies. What is here is
only what httpx needs around them: translating its request, reading a refusal's body within
a bound, running a 401's verdict (which drops a lease, I/O for a shared cache) off the
event loop, and noting the headers an httpx Auth added.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

import anyio.to_thread
import attrs
import httpx
from requests.utils import get_environ_proxies

from unified_auth.clients.httpx_translate import (
    MAX_EXPLAINED_BODY,
    is_replayable,
    to_prepared,
    to_requests_response,
    with_changes,
)
from unified_auth.core.authorise import EXPLAINED_STATUSES, Authoriser, Verdict
from unified_auth.core.broker import Lease
from unified_auth.core.proxies import proxies_for, refuse_fixed_proxy
from unified_auth.errors import AccessDenied, AuthFailed
from unified_auth.model import Target

__all__ = [
    "authorised",
    "copied_headers",
    "explain",
    "failed",
    "marked",
    "needs_body",
    "refuse_unseen_proxy",
    "small_body_length",
    "through_proxy",
    "verdict",
    "verdict_async",
    "without_copied",
]

APPLIED = "unified_auth.applied"
"""The extension naming the headers an :class:`httpx.Auth` put on a request."""

# Digests of credential headers are keyed per process: outside it they tell nothing, not
# even to someone guessing a weak password offline.
_DIGEST_KEY = secrets.token_bytes(32)


@attrs.frozen
class _Applied:
    url: str
    headers: frozenset[tuple[bytes, str]]


def authorised(authoriser: Authoriser, lease: Lease, request: httpx.Request) -> httpx.Request:
    """What is sent: a new request with the lease applied by its plugin; ``request`` as it was."""
    translated = to_prepared(request)
    authoriser.apply(lease, translated.prepared)
    return with_changes(translated)


def marked(source: httpx.Request, sent: httpx.Request) -> httpx.Request:
    """``sent`` noting (by digest) which headers the credentials added to ``source``.

    httpx builds the next hop of a redirect from the request an Auth yielded, extensions
    included: the note lets :func:`without_copied` take those headers off it again.
    """
    before = set(source.headers.raw)
    added = frozenset((name.lower(), _digest(value)) for name, value in sent.headers.raw
                      if (name, value) not in before)
    sent.extensions = {**sent.extensions, APPLIED: _Applied(str(sent.url), added)}
    return sent


def without_copied(request: httpx.Request) -> httpx.Request:
    """``request`` without the credential headers httpx copied onto it from an earlier hop.

    The request an Auth authenticated is left alone; a redirect to another URL built from
    it comes back without them, to be routed afresh.
    """
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


def through_proxy(url: httpx.URL, *, credentials: bool) -> bool:
    """Whether a request httpx routed to a proxy may take it; ``False``: connect directly.

    :raises InsecureTransportError: credentials would cross the proxy over plain http.
    """
    # httpx already chose a proxy for this URL: say so in the shape proxies_for reads.
    return bool(proxies_for(str(url), {url.scheme: "the proxy httpx chose"},
                            credentials=credentials))


def refuse_unseen_proxy(url: httpx.URL) -> None:
    """For an httpx Auth, which runs before its client picks a proxy and cannot change it:
    refuse credentials for a plain-http URL the environment would send through a proxy, as
    ``ua.auth()`` does.

    :raises InsecureTransportError: with the fix (``NO_PROXY``, or ``ua.httpx_client()``).
    """
    if url.scheme == "http":
        refuse_fixed_proxy(str(url), get_environ_proxies(str(url)))


def verdict(authoriser: Authoriser, target: Target, sent: Lease, request: httpx.Request,
            response: httpx.Response, *, retry: bool) -> Verdict:
    """The shared verdict on ``target``'s answer to ``request`` (a 401 drops ``sent``)."""
    return authoriser.verdict(target, sent, response.status_code, retry=retry,
                              can_replay=is_replayable(request))


async def verdict_async(authoriser: Authoriser, target: Target, sent: Lease,
                        request: httpx.Request, response: httpx.Response, *,
                        retry: bool) -> Verdict:
    """:func:`verdict` for coroutines: only a 401 is judged (it drops a lease, which a
    shared cache does with I/O), and that in a worker thread; any other answer stands."""
    if response.status_code != 401:
        return Verdict.KEEP
    return await anyio.to_thread.run_sync(functools.partial(
        verdict, authoriser, target, sent, request, response, retry=retry))


def needs_body(response: httpx.Response) -> bool:
    """Whether a plugin may explain this answer, so its body must be read first."""
    return response.status_code in EXPLAINED_STATUSES and small_body_length(response)


def explain(authoriser: Authoriser, target: Target, request: httpx.Request,
            response: httpx.Response, body: bytes) -> None:
    """Log the provider's explanation of a 403/404 once per target and status, as the
    adapter does.

    A plugin may raise instead (:class:`AccessDenied` for an API that is not licensed): the
    error then carries the httpx answer, as an httpx caller expects.
    """
    try:
        authoriser.explain(target, to_requests_response(response, request, body))
    except AccessDenied as error:
        error.response = _answer(response, request, body)
        error.request = request
        raise


def failed(authoriser: Authoriser, target: Target, request: httpx.Request,
           response: httpx.Response, body: bytes) -> AuthFailed:
    """The adapter's error for a 401 to the retry, carrying the httpx answer."""
    error = authoriser.failed(target, to_requests_response(response, request, body))
    error.response = _answer(response, request, body)
    error.request = request
    return error


def _answer(response: httpx.Response, request: httpx.Request, body: bytes) -> httpx.Response:
    """A read copy of ``response`` for an error to carry (the original may be closed)."""
    return httpx.Response(response.status_code, headers=response.headers, content=body,
                          request=request)


def small_body_length(response: httpx.Response) -> bool:
    """Whether the answer declares a body small enough to read for an explanation.

    A body of unknown or large length is left to the caller, unread.
    """
    length = response.headers.get("content-length", "")
    return length.isdigit() and int(length) <= MAX_EXPLAINED_BODY
