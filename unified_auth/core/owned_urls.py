"""Which URLs one target's credentials may go to, for the drivers bound to one target.

``ua.auth()`` and ``ua.httpx_auth()`` run before their client picks a proxy, so on every
request they ask two questions: is this URL the target's (the route), and would the
environment's proxy see the credentials in clear (the proxy rule,
:func:`~unified_auth.core.proxies.refuse_environment_proxy`)? Both answers are the same
for the same URL until the environment's proxy variables change, so :class:`OwnedURLs`
remembers the URLs that passed both, and a request to one of them costs a dict read and
the environment's check (:func:`~unified_auth.core.proxies.environment_generation`).
A URL that failed either question is asked again each time, so its warning or its
:class:`~unified_auth.errors.InsecureTransportError` comes every time.
"""

from __future__ import annotations

from unified_auth.core.flow import RequestFlow
from unified_auth.core.proxies import environment_generation, refuse_environment_proxy
from unified_auth.core.routing import URL_CACHE_SIZE
from unified_auth.model import Target

__all__ = ["OwnedURLs"]

_ANY_ENVIRONMENT = -1
"""The generation remembered for an https URL: the environment's proxy can't read it."""


class OwnedURLs:
    """The URLs of ``target`` that passed the route and the proxy rule, up to
    :data:`~unified_auth.core.routing.URL_CACHE_SIZE` of them."""

    __slots__ = ("_cleared", "_flow", "target")

    def __init__(self, flow: RequestFlow, target: Target) -> None:
        self._flow = flow
        self.target = target
        self._cleared: dict[str, int] = {}  # URL -> the environment's generation it passed in

    def owns(self, url: str) -> bool:
        """Whether ``url`` is the target's: ``False`` sends the request without credentials.

        :raises InsecureTransportError: the environment would send it through a proxy over
            plain http.
        """
        cleared = self._cleared.get(url)
        if cleared is not None and (cleared == _ANY_ENVIRONMENT
                                    or cleared == environment_generation()):
            return True
        if self._flow.owner(url) is not self.target:
            return False
        # Taken before the check: a change while it runs is seen on the next request.
        generation = environment_generation()
        refuse_environment_proxy(url)
        cleared_urls = self._cleared
        if len(cleared_urls) >= URL_CACHE_SIZE:
            cleared_urls.clear()
        cleared_urls[url] = generation if url.startswith("http:") else _ANY_ENVIRONMENT
        return True
