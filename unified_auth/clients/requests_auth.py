"""``ua.auth(name)``: a :class:`requests.auth.AuthBase` for one target, for code that can't
swap its session.

An ``AuthBase`` runs once, before the first hop, on the caller's request object, which
requests then sends: it can do no other. So it runs the flow's first steps itself (the
lease, put on that object), and a response hook puts the object back as the caller made it
as soon as an answer arrives, before requests copies it into a redirect; the flow then
judges the answer (:func:`~unified_auth.core.flow.answer_flow`), for answers from URLs of
its own target only. A redirect within the target arrives without credentials; if the
target answers 401 to it, the hook sends it once more with them.

It cannot choose the proxy requests will use, so the proxy rule refuses instead of
re-routing, from what the environment names (:mod:`unified_auth.core.owned_urls`).
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.auth import AuthBase
from requests.structures import CaseInsensitiveDict

from unified_auth.clients.requests_edge import (
    apply_to,
    authorised_copy,
    close,
    finish,
    status_of,
    without_credentials,
)
from unified_auth.core.authorise import replayable
from unified_auth.core.broker import Lease
from unified_auth.core.flow import Outcome, RequestFlow, answer_flow, settled
from unified_auth.core.owned_urls import OwnedURLs
from unified_auth.core.proxies import chosen_proxies
from unified_auth.model import Target

__all__ = ["TargetAuth"]

log = logging.getLogger("unified_auth")


class TargetAuth(AuthBase):
    """A :class:`requests.auth.AuthBase` for one target, for code that can't swap its session.

    It only authenticates URLs that belong to the target, leaves the caller's request object
    as it found it once an answer arrives (so a redirect is followed without credentials),
    and retries a 401 from the target's URLs once.
    """

    def __init__(self, target: Target, flow: RequestFlow) -> None:
        self.target = target
        self._flow = flow
        self._owned = OwnedURLs(flow, target)

    def __repr__(self) -> str:
        return f"TargetAuth({self.target.name!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"{self!r} cannot be pickled: it belongs to a live hub (broker, caches, secrets); "
            f"call ua.auth({self.target.name!r}) where you need it")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = request.url or ""
        # The proxy rule included: requests picks the proxy after auth has run.
        if not self._owned.owns(url):
            log.warning("%s", self._not_ours(url, self._flow.owner(url)))
            return request
        flow = self._flow
        lease = flow.broker.lease(self.target)
        headers = flow.authoriser.headers_for(lease)
        if headers is None:  # a signer: it may change anything, so everything is kept
            sent = _Sent(self, request, lease, None)
            sent.keep_all()
            apply_to(flow, lease, request)
        else:  # the same headers on every request: only what they replace is kept
            kept = request.headers
            sent = _Sent(self, request, lease, [(name, kept.get(name)) for name in headers])
            for name, value in headers.items():
                kept[name] = value
        try:
            request.hooks["response"].append(sent)
        except (AttributeError, KeyError, TypeError):  # not a prepared request's hooks
            request.register_hook("response", sent)  # type: ignore[no-untyped-call]
        return request

    def _on_response(self, sent: _Sent, response: requests.Response,
                     **kwargs: Any) -> requests.Response:
        request = response.request
        lease: Lease | None = None
        if request is sent.request and not sent.restored:
            # Before requests copies this object into a redirect: no credentials on it.
            lease = sent.restore()
        elif self._flow.owner(request.url or "") is not self.target:
            return response  # another target's or nobody's answer: not ours to judge
        flow = self._flow
        if settled(response.status_code):
            return finish(flow, self.target, Outcome.ANSWER, response, None)
        adapter = response.connection
        proxies = kwargs.pop("proxies", None)

        def send(lease: Lease) -> requests.Response:
            # The retry goes straight to the adapter, so the proxy rule is applied here.
            chosen = chosen_proxies(request.url or "", proxies, credentials=True)
            try:
                return adapter.send(authorised_copy(flow, lease, request), proxies=chosen,
                                    **kwargs)
            except requests.RequestException as exc:
                raise without_credentials(exc, lease, request) from None

        steps = answer_flow(self.target, lease, response.status_code,
                            can_replay=replayable(request.body))
        outcome, answer, first = flow.run(steps, send, status_of, close, response)
        return finish(flow, self.target, outcome, answer, first)

    def _not_ours(self, url: str, owner: Target | None) -> str:
        whose = f"it belongs to target {owner.name}" if owner is not None else \
            "no target owns it"
        return (f"target {self.target.name}: not authenticating {_shown(url)}, which is not "
                f"one of its hosts ({', '.join(self.target.hosts)}); {whose}, so it is sent "
                f"without credentials")


class _Sent:
    """The caller's request object as it was before ``TargetAuth`` applied a lease to it
    (the values of the few headers a lease sets; for a signer, all its headers, its URL and
    its body), and the response hook that puts it back."""

    __slots__ = ("auth", "body", "headers", "lease", "replaced", "request", "restored", "url")

    def __init__(self, auth: TargetAuth, request: requests.PreparedRequest, lease: Lease,
                 replaced: list[tuple[str, str | None]] | None) -> None:
        self.auth = auth
        self.request = request
        self.lease = lease
        self.replaced = replaced
        self.headers: CaseInsensitiveDict[str] | None = None
        self.restored = False

    def keep_all(self) -> None:
        """Keep what a signer may change: the headers, the URL (a plugin may put its key
        in the query string) and the body."""
        request = self.request
        self.headers = request.headers.copy()
        self.url = request.url
        self.body = request.body

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        return self.auth._on_response(self, response, **kwargs)

    def restore(self) -> Lease:
        """Put the request back as the caller made it; returns the lease it carried."""
        request = self.request
        if self.headers is not None:
            request.url = self.url
            request.body = self.body
            request.headers = self.headers
        headers = request.headers
        for name, value in self.replaced or ():
            if value is not None:
                headers[name] = value
                continue
            try:  # noqa: SIM105 - pop(name, None) looks it up twice, suppress() costs more
                del headers[name]
            except KeyError:  # a hook of the caller's took it off already
                pass
        self.restored = True
        return self.lease


def _shown(url: str) -> str:
    """``url`` for a message: no user name, password, query or fragment."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "a URL that cannot be parsed"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
