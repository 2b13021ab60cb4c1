"""Putting credentials on requests: the session's transport adapter and a per-target AuthBase.

:class:`AuthAdapter` is mounted for ``http://`` and ``https://`` on the hub's session. Per
request it finds the target that owns the URL (on the parsed host), gets its lease from the
broker, lets the owning plugin apply it to a *copy* of the request, and sends the copy. The
caller's request object never carries credentials, so when requests follows a redirect
(re-sending that object) the new URL is routed afresh: another host gets its own
credentials or none.

A 401 drops the credentials it came back for, fetches once and retries once if the body can
be replayed; a second 401 raises :class:`~unified_auth.errors.AuthFailed`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from unified_auth.broker import Broker, Lease
from unified_auth.clock import Clock, to_datetime
from unified_auth.errors import AuthFailed, PluginError
from unified_auth.model import Target
from unified_auth.plugins import Hooks
from unified_auth.routing import Router

__all__ = ["AuthAdapter", "TargetAuth"]

log = logging.getLogger("unified_auth")

_EXPLAINED_STATUSES = (403, 404)
DEFAULT_TIMEOUT = (10.0, 60.0)
"""(connect, read) seconds for requests sent without a timeout of their own."""


class _Authoriser:
    """What the adapter and TargetAuth share: applying, 401 handling, explanations."""

    def __init__(self, broker: Broker, hooks: Hooks, clock: Clock) -> None:
        self.broker = broker
        self.hooks = hooks
        self.clock = clock
        self._explained: set[tuple[str, int]] = set()
        self._explained_lock = threading.Lock()

    def apply(self, lease: Lease, request: requests.PreparedRequest) -> None:
        now = to_datetime(self.clock())
        applied = self.hooks.apply_auth(lease.target, lease.credentials, request, now)
        if not applied:
            raise PluginError(
                f"target {lease.target.name}: no plugin applied credentials for provider "
                f"{lease.target.provider!r}", plugin=lease.target.provider)

    def authorised_copy(self, lease: Lease,
                        request: requests.PreparedRequest) -> requests.PreparedRequest:
        prepared = request.copy()
        self.apply(lease, prepared)
        return prepared

    def failed(self, target: Target, response: requests.Response) -> AuthFailed:
        host = urlsplit(response.url).hostname or "the API"
        explanation = self.hooks.explain_response(target, response) or (
            "check that the secret at its source is current and that these credentials may "
            "use this API")
        return AuthFailed(
            f"target {target.name}: {host} answered 401 Unauthorized again after fresh "
            f"credentials were fetched and the request was retried once. {explanation}",
            target=target.name, response=response, request=response.request)

    def explain(self, target: Target, response: requests.Response) -> None:
        """Log the provider's explanation of a 403/404 once per target and status."""
        if response.status_code not in _EXPLAINED_STATUSES:
            return
        explanation = self.hooks.explain_response(target, response)
        if not explanation:
            return
        with self._explained_lock:
            seen = (target.name, response.status_code) in self._explained
            self._explained.add((target.name, response.status_code))
        if not seen:
            log.warning("target %s: %s %s: %s", target.name, response.status_code,
                        response.reason, explanation)


class AuthAdapter(HTTPAdapter):
    """An :class:`HTTPAdapter` that authenticates each request for the target of its host."""

    def __init__(self, router: Router[Target], authoriser: _Authoriser, *,
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
        if target is None:
            return super().send(request, stream, timeout, verify, cert, proxies)
        broker = self._authoriser.broker
        lease = broker.lease(target)
        response = super().send(self._authoriser.authorised_copy(lease, request), stream,
                                timeout, verify, cert, proxies)
        if response.status_code != 401:
            self._authoriser.explain(target, response)
            return response
        broker.invalidate(lease)
        if not _replayable(request.body):
            log.info("target %s: 401 on a request whose body cannot be sent again; the "
                     "credentials were dropped, the request is not retried", target.name)
            return response
        response.close()
        fresh = broker.lease(target)
        retried = super().send(self._authoriser.authorised_copy(fresh, request), stream,
                               timeout, verify, cert, proxies)
        if retried.status_code == 401:
            broker.invalidate(fresh)
            raise self._authoriser.failed(target, retried)
        retried.history.insert(0, response)
        self._authoriser.explain(target, retried)
        return retried


class TargetAuth(AuthBase):
    """A :class:`requests.auth.AuthBase` for one target, for code that can't swap its session.

    It only authenticates URLs that belong to the target, takes the credentials it added
    off a request that is redirected to another host, and retries a 401 once.
    """

    def __init__(self, target: Target, router: Router[Target], authoriser: _Authoriser) -> None:
        self.target = target
        self._router = router
        self._authoriser = authoriser

    def __repr__(self) -> str:
        return f"TargetAuth({self.target.name!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._router.match(request.url or "") is not self.target:
            log.warning("target %s: not authenticating %s, which is not one of its hosts",
                        self.target.name, urlsplit(request.url or "").hostname)
            return request
        lease = self._authoriser.broker.lease(self.target)
        original = dict(request.headers)
        self._authoriser.apply(lease, request)
        state = _Sent(lease, original)
        request.register_hook(  # type: ignore[no-untyped-call]
            "response", lambda r, **kw: self._on_response(r, state, **kw))
        return request

    def _on_response(self, response: requests.Response, state: _Sent,
                     **kwargs: Any) -> requests.Response:
        sent = response.request
        if response.is_redirect:
            location = urljoin(response.url, response.headers.get("location", ""))
            if self._router.match(location) is not self.target:
                _restore(sent.headers, state.original)
            return response
        if response.status_code != 401:
            self._authoriser.explain(self.target, response)
            return response
        if state.retried:
            return response
        broker = self._authoriser.broker
        broker.invalidate(state.lease)
        if not _replayable(sent.body):
            return response
        state.retried = True
        fresh = broker.lease(self.target)
        retry = sent.copy()
        _restore(retry.headers, state.original)
        self._authoriser.apply(fresh, retry)
        response.close()
        adapter = response.connection
        retried: requests.Response = adapter.send(retry, **kwargs)
        retried.history.append(response)
        retried.request = retry
        if retried.status_code == 401:
            broker.invalidate(fresh)
            raise self._authoriser.failed(self.target, retried)
        return retried


class _Sent:
    __slots__ = ("lease", "original", "retried")

    def __init__(self, lease: Lease, original: dict[str, str]) -> None:
        self.lease = lease
        self.original = original
        self.retried = False


def _restore(headers: MutableMapping[str, str], original: Mapping[str, str]) -> None:
    """Put ``headers`` back as they were before credentials were applied."""
    for name in list(headers):
        if name not in original:
            del headers[name]
    headers.update(original)


def _replayable(body: object) -> bool:
    return body is None or isinstance(body, bytes | str)
