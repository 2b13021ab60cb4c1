"""The authorisation decisions of the httpx path, each in one function the sync and async
transports and the httpx Auth all call.

What the requests path decides (whose request is this, what is sent, is this 401 ours to
retry once) is taken from :mod:`unified_auth.adapter`: the same router, the same
``_Authoriser`` (the plugin's ``apply_auth`` on a copy, the provider's explanation of a
refusal). Only what is httpx-specific lives here: translating the request, reading a
refusal's body within a bound.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

import attrs
import httpx

from unified_auth.adapter import _EXPLAINED_STATUSES, _Authoriser
from unified_auth.broker import Lease
from unified_auth.errors import AccessDenied, AuthFailed, InsecureTransportError
from unified_auth.httpx_translate import (
    MAX_EXPLAINED_BODY,
    is_replayable,
    to_prepared,
    to_requests_response,
    with_changes,
)
from unified_auth.model import Target
from unified_auth.routing import is_loopback

__all__ = [
    "authorised",
    "copied_headers",
    "explain",
    "failed",
    "marked",
    "may_retry",
    "needs_body",
    "small_body_length",
    "through_proxy",
    "without_copied",
]

log = logging.getLogger("unified_auth")

APPLIED = "unified_auth.applied"
"""The extension naming the headers an :class:`httpx.Auth` put on a request."""

# Digests of credential headers are keyed per process: outside it they tell nothing, not
# even to someone guessing a weak password offline.
_DIGEST_KEY = secrets.token_bytes(32)


@attrs.frozen
class _Applied:
    url: str
    headers: frozenset[tuple[bytes, str]]


def authorised(authoriser: _Authoriser, lease: Lease, request: httpx.Request) -> httpx.Request:
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

    A loopback host never goes through a proxy (plain http to it is allowed because it never
    leaves the machine); credentials never cross a proxy over plain http.
    """
    if is_loopback(url.host):
        return False
    if credentials and url.scheme == "http":
        raise InsecureTransportError(
            f"refusing to send credentials for {url.host} through a proxy over plain http: "
            f"the proxy and the network to it would see them in clear text. Use an https:// "
            f"URL, or add {url.host} to NO_PROXY if it must be reached directly")
    return True


def may_retry(target: Target, request: httpx.Request) -> bool:
    """After a 401 (the lease already dropped): whether the request may be sent once more."""
    if is_replayable(request):
        return True
    log.info("target %s: 401 on a request whose body cannot be sent again; the credentials "
             "were dropped, the request is not retried", target.name)
    return False


def needs_body(response: httpx.Response) -> bool:
    """Whether a plugin may explain this answer, so its body must be read first."""
    return response.status_code == 401 or response.status_code in _EXPLAINED_STATUSES


def explain(authoriser: _Authoriser, target: Target, request: httpx.Request,
            response: httpx.Response, body: bytes) -> None:
    """Log the provider's explanation of a 403/404 once per target and status.

    A plugin may raise instead (:class:`AccessDenied` for an API that is not licensed): the
    error then carries the httpx answer, as an httpx caller expects.
    """
    try:
        authoriser.explain(target, to_requests_response(response, request, body))
    except AccessDenied as error:
        error.response = _answer(response, request, body)
        error.request = request
        raise


def failed(authoriser: _Authoriser, target: Target, request: httpx.Request,
           response: httpx.Response, body: bytes) -> AuthFailed:
    """The error for a second 401, with the provider's explanation and the httpx answer."""
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
