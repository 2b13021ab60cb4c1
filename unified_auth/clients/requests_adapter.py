"""Putting credentials on requests: the session's transport adapter and a per-target AuthBase.

Both are thin requests wrappers around one decision, :mod:`unified_auth.core.authorise`: which
target owns a URL, what is sent (the lease on a *copy*), and what a 401 means.

:class:`AuthAdapter` is mounted for ``http://`` and ``https://`` on the hub's session and
sees every request, every hop of a redirect included, before it is sent: it routes each on
its own URL and sends an authorised copy, so the request object requests keeps (and copies
into a redirect) never carries credentials.

:class:`TargetAuth` (``requests.get(url, auth=ua.auth(name))``) runs once, before the first
hop, on the caller's request object, which requests then sends: an ``AuthBase`` can do no
other. Its response hook therefore puts that object back as the caller made it as soon as
an answer arrives, before requests copies it into a redirect, and it judges only answers
from URLs of its own target. A redirect within the target arrives without credentials; if
the target answers 401 to it, the hook sends it once more with them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies

from unified_auth.core.authorise import (
    Authoriser,
    Verdict,
    copy_headers,
    replayable,
)
from unified_auth.core.broker import Lease
from unified_auth.core.proxies import proxies_for, refuse_fixed_proxy
from unified_auth.core.redaction import redact
from unified_auth.core.routing import Router
from unified_auth.model import Target

__all__ = ["AuthAdapter", "TargetAuth"]

log = logging.getLogger("unified_auth")

DEFAULT_TIMEOUT = (10.0, 60.0)
"""(connect, read) seconds for requests sent without a timeout of their own."""

_Send = Callable[[requests.PreparedRequest], requests.Response]


class AuthAdapter(HTTPAdapter):
    """An :class:`HTTPAdapter` that authenticates each request for the target of its host."""

    def __init__(self, router: Router[Target], authoriser: Authoriser, *,
                 default_timeout: Any = DEFAULT_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._router = router
        self._authoriser = authoriser
        self.default_timeout = default_timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if timeout is None:
            # requests waits forever by default; a hung API must not hang the script.
            timeout = self.default_timeout
        target = self._router.match(request.url or "")
        if proxies:
            proxies = proxies_for(request.url or "", proxies, credentials=target is not None)
        if target is None:
            return super().send(request, stream, timeout, verify, cert, proxies)

        def send(prepared: requests.PreparedRequest) -> requests.Response:
            return HTTPAdapter.send(self, prepared, stream, timeout, verify, cert, proxies)

        lease = self._authoriser.lease(target)
        response = _send_authorised(send, self._authoriser, lease, request)
        return _judge(self._authoriser, target, lease, request, response, send)

    def __getstate__(self) -> NoReturn:
        # requests pickles adapters by a fixed attribute list, which would drop the hub and
        # leave an adapter that fails on its first request: refuse clearly instead.
        raise TypeError(
            "an AuthAdapter (and a session it is mounted on) cannot be pickled: it belongs to "
            "a live hub (broker, caches, secrets). Pickle the config instead and call "
            "unified_auth.load(config).session() where you unpickle it")


class TargetAuth(AuthBase):
    """A :class:`requests.auth.AuthBase` for one target, for code that can't swap its session.

    It only authenticates URLs that belong to the target, leaves the caller's request object
    as it found it once an answer arrives (so a redirect is followed without credentials),
    and retries a 401 from the target's URLs once.
    """

    def __init__(self, target: Target, router: Router[Target], authoriser: Authoriser) -> None:
        self.target = target
        self._router = router
        self._authoriser = authoriser

    def __repr__(self) -> str:
        return f"TargetAuth({self.target.name!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"{self!r} cannot be pickled: it belongs to a live hub (broker, caches, secrets); "
            f"call ua.auth({self.target.name!r}) where you need it")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = request.url or ""
        owner = self._router.match(url)
        if owner is not self.target:
            log.warning("%s", self._not_ours(url, owner))
            return request
        if url.startswith("http:"):
            # requests picks the proxy after auth has run, from the environment (or the
            # session's proxies, which an AuthBase cannot see): refuse a clear-text hop.
            refuse_fixed_proxy(url, get_environ_proxies(url))
        lease = self._authoriser.lease(self.target)
        sent = _Sent(request, lease)
        self._authoriser.apply(lease, request)
        request.register_hook(  # type: ignore[no-untyped-call]
            "response", functools.partial(self._on_response, sent))
        return request

    def _on_response(self, sent: _Sent, response: requests.Response,
                     **kwargs: Any) -> requests.Response:
        request = response.request
        lease: Lease | None = None
        if request is sent.request and not sent.restored:
            # Before requests copies this object into a redirect: no credentials on it.
            lease = sent.restore()
        elif self._router.match(request.url or "") is not self.target:
            return response  # another target's or nobody's answer: not ours to judge
        adapter = response.connection
        chosen = kwargs.pop("proxies", None)

        def send(prepared: requests.PreparedRequest) -> requests.Response:
            # The retry goes straight to the adapter, so the proxy rule is applied here.
            proxies = proxies_for(prepared.url or "", chosen, credentials=True)
            retried: requests.Response = adapter.send(prepared, proxies=proxies, **kwargs)
            return retried

        return _judge(self._authoriser, self.target, lease, request, response, send)

    def _not_ours(self, url: str, owner: Target | None) -> str:
        whose = f"it belongs to target {owner.name}" if owner is not None else \
            "no target owns it"
        return (f"target {self.target.name}: not authenticating {_shown(url)}, which is not "
                f"one of its hosts ({', '.join(self.target.hosts)}); {whose}, so it is sent "
                f"without credentials")


class _Sent:
    """The caller's request object as it was before ``TargetAuth`` applied a lease to it."""

    __slots__ = ("body", "headers", "lease", "request", "restored", "url")

    def __init__(self, request: requests.PreparedRequest, lease: Lease) -> None:
        self.request = request
        self.lease = lease
        self.url = request.url  # a plugin may put its key in the query string
        self.headers: CaseInsensitiveDict[str] = copy_headers(request.headers)
        self.body = request.body
        self.restored = False

    def restore(self) -> Lease:
        """Put the request back as the caller made it; returns the lease it carried."""
        self.request.url = self.url
        self.request.headers = self.headers
        self.request.body = self.body
        self.restored = True
        return self.lease


def _send_authorised(send: _Send, authoriser: Authoriser, lease: Lease,
                     request: requests.PreparedRequest) -> requests.Response:
    """Send ``lease`` on a copy of ``request``; a failure is raised without the credentials.

    requests' errors quote the URL they were sending (a plugin may put its key in the query
    string) and carry the request object on ``.request``: the error is raised about the
    caller's ``request`` instead, its text redacted, and without the chained urllib3 error,
    which quotes the URL too.
    """
    try:
        return send(authoriser.authorised_copy(lease, request))
    except requests.RequestException as exc:
        exc.args = (redact(str(exc), [lease.credentials.value]),)
        exc.request = request
        raise exc from None


def _judge(authoriser: Authoriser, target: Target, sent: Lease | None,
           request: requests.PreparedRequest, response: requests.Response,
           send: _Send) -> requests.Response:
    """Apply the shared verdict to a requests answer from ``target``'s URL.

    ``request`` is the request as the caller made it (no credentials): a retry is a fresh
    authorised copy of it, sent with ``send``.
    """
    can_replay = replayable(request.body)
    verdict = authoriser.verdict(target, sent, response.status_code, retry=False,
                                 can_replay=can_replay)
    if verdict is not Verdict.RETRY:
        authoriser.explain(target, response)
        return response
    response.close()
    fresh = authoriser.lease(target)
    retried = _send_authorised(send, authoriser, fresh, request)
    if authoriser.verdict(target, fresh, retried.status_code, retry=True,
                          can_replay=can_replay) is Verdict.FAILED:
        raise authoriser.failed(target, retried)
    retried.history.insert(0, response)
    authoriser.explain(target, retried)
    return retried


def _shown(url: str) -> str:
    """``url`` for a message: no user name, password, query or fragment."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "a URL that cannot be parsed"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
