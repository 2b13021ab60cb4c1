"""The session's transport adapter: every request it sends gets its host's credentials.

:class:`AuthAdapter` is mounted for ``http://`` and ``https://`` on the hub's session and
sees every request, every hop of a redirect included, before it is sent: it asks the flow
(:mod:`unified_auth.core.flow`) whose request it is and runs the flow on it, sending an
authorised copy, so the request object requests keeps (and copies into a redirect) never
carries credentials. A request no target owns goes to :class:`HTTPAdapter` untouched, with
the proxies requests chose for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import requests
from requests.adapters import HTTPAdapter

from unified_auth.clients.requests_edge import (
    authorised_copy,
    close,
    finish,
    status_of,
    without_credentials,
)
from unified_auth.core.authorise import replayable
from unified_auth.core.broker import Lease
from unified_auth.core.flow import RequestFlow
from unified_auth.core.proxies import chosen_proxies

__all__ = ["DEFAULT_TIMEOUT", "AuthAdapter"]

DEFAULT_TIMEOUT = (10.0, 60.0)
"""(connect, read) seconds for requests sent without a timeout of their own."""


class AuthAdapter(HTTPAdapter):
    """An :class:`HTTPAdapter` that authenticates each request for the target of its host."""

    def __init__(self, flow: RequestFlow, *, default_timeout: Any = DEFAULT_TIMEOUT,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._flow = flow
        self.default_timeout = default_timeout
        self._closed = False

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        self._closed = False
        if timeout is None:
            # requests waits forever by default; a hung API must not hang the script.
            timeout = self.default_timeout
        url = request.url or ""
        target = self._flow.owner(url)
        if target is None:
            return super().send(request, stream, timeout, verify, cert, proxies)
        chosen = chosen_proxies(url, proxies, credentials=True)
        flow = self._flow

        def send(lease: Lease) -> requests.Response:
            try:
                return HTTPAdapter.send(self, authorised_copy(flow, lease, request), stream,
                                        timeout, verify, cert, chosen)
            except requests.RequestException as exc:
                raise without_credentials(exc, lease, request) from None

        outcome, response, first = flow.run_request(target, send, status_of, close,
                                                    can_replay=replayable(request.body))
        return finish(flow, target, outcome, response, first)

    def close(self) -> None:
        """Close the connection pools, once: a session closes each mount, and one adapter
        may be mounted for both ``http://`` and ``https://``."""
        if self._closed:
            return
        self._closed = True
        super().close()

    def __getstate__(self) -> NoReturn:
        # requests pickles adapters by a fixed attribute list, which would drop the hub and
        # leave an adapter that fails on its first request: refuse clearly instead.
        raise TypeError(
            "an AuthAdapter (and a session it is mounted on) cannot be pickled: it belongs to "
            "a live hub (broker, caches, secrets). Pickle the config instead and call "
            "unified_auth.load(config).session() where you unpickle it")
