"""Which proxy a request with credentials may take: the one rule every client applies.

:func:`bypasses_proxy` is the rule, for a request and the proxy its client chose (or would
choose) for it:

- a request that carries no credentials is not ours to change: it takes the proxy its
  client chose, as if unified-auth were not there;
- credentials for a loopback host (``localhost``, ``127.0.0.0/8``, ``::1``) never go through
  a proxy: the request is sent directly, as plain http to loopback is allowed only because it
  never leaves the machine; a client that cannot route around the proxy is refused;
- credentials for a plain ``http://`` URL through a proxy are refused with
  :class:`~unified_auth.errors.InsecureTransportError` (rather than sent without them,
  which would only turn into a puzzling 401): the proxy, and the network to it, would read
  them;
- anything else keeps its proxy: https through a proxy is a CONNECT tunnel, encrypted end
  to end.

The clients differ only in what they know of the proxy. The requests adapter and the httpx
transports see the one their client chose. ``ua.auth()`` and ``ua.httpx_auth()`` run before
their client picks one and see only the environment: :func:`environment_proxy` reads it,
remembering the answer until the environment changes, since scanning the whole
environment costs more than everything else a request does here. A transport the caller
built is :data:`UNSEEN`: it may go through a proxy nobody can see, so it may carry
credentials only where a proxy could do no harm.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies, resolve_proxies, select_proxy

from unified_auth.core.routing import is_loopback
from unified_auth.errors import InsecureTransportError

__all__ = ["UNSEEN", "bypasses_proxy", "chosen_proxies", "environment_generation",
           "environment_proxy", "refuse_environment_proxy", "session_proxies"]

UNSEEN = "a transport of the caller's own"
"""The proxy of a transport the caller built: whether it has one cannot be seen."""

_ENVIRONMENT_CACHE_SIZE = 256


def bypasses_proxy(url: str, proxy: str | None, *, credentials: bool,
                   can_bypass: bool = True) -> bool:
    """Whether a request to ``url`` goes directly instead of through ``proxy``.

    :param url: the request's URL, as it will be sent.
    :param proxy: the proxy its client chose for it, :data:`UNSEEN`, or ``None`` for none.
    :param credentials: whether the request carries credentials (or will, once applied).
    :param can_bypass: whether the caller can send it directly; one that cannot (an
        ``AuthBase``, an ``httpx.Auth``, a transport of the caller's) is refused instead.
    :returns: ``True``: send it directly; ``False``: as the client chose.
    :raises InsecureTransportError: the credentials would cross a proxy in clear text.
    """
    if proxy is None or not credentials:
        return False
    parts = urlsplit(url)
    host = parts.hostname or ""
    if is_loopback(host):
        if can_bypass:
            return True
        if proxy is UNSEEN:
            if parts.scheme == "https":
                return False
            raise InsecureTransportError(
                f"refusing to send credentials for {host} over plain http through a "
                f"transport unified-auth did not build: it cannot see whether that "
                f"transport goes through a proxy. Pass proxy=... (or nothing) to "
                f"ua.httpx_client() instead of your own transport")
        raise InsecureTransportError(
            f"refusing to send credentials for {host} through the proxy {_shown(proxy)}: a "
            f"loopback host is reached directly, never through a proxy. Add it to NO_PROXY "
            f"(NO_PROXY=localhost,127.0.0.1,::1) or use ua.session(), which does this itself")
    if parts.scheme == "http":
        through = "" if proxy is UNSEEN else f" ({_shown(proxy)})"
        unseen = (" (a transport of your own, which may use one; let ua.httpx_client() or "
                  "ua.httpx_transport() build it)") if proxy is UNSEEN else ""
        raise InsecureTransportError(
            f"refusing to send credentials for {host} through a proxy over plain "
            f"http{through}{unseen}: the proxy and the network to it would see them in clear "
            f"text. Use an https:// URL, or add {host} to NO_PROXY if it must be reached "
            f"directly")
    return False


def chosen_proxies(url: str, proxies: Mapping[str, str] | None, *,
                   credentials: bool) -> Mapping[str, str] | None:
    """``proxies`` (as requests describes them) after :func:`bypasses_proxy`: itself, or
    an empty mapping to connect directly."""
    if not proxies or not credentials:
        return proxies
    proxy = select_proxy(url, dict(proxies))
    return {} if bypasses_proxy(url, proxy, credentials=True) else proxies


def session_proxies(session: requests.Session, request: requests.PreparedRequest,
                    chosen: Mapping[str, str] | None, *,
                    credentials: bool) -> Mapping[str, str] | None:
    """:func:`chosen_proxies` on the proxies ``session.send`` would use for ``request``.

    :param chosen: the ``proxies`` passed to ``send`` (``Session.request`` passes them),
        or ``None`` to take them from the session and the environment as requests does.
    """
    if chosen is None:
        chosen = resolve_proxies(request, dict(session.proxies), session.trust_env)
    return chosen_proxies(request.url or "", chosen, credentials=credentials)


class _EnvironmentProxies:
    """The environment's proxy per origin, forgotten when the environment changes: when a
    variable is added or removed (scripts and tests set ``HTTPS_PROXY`` or ``NO_PROXY``
    that way), or a ``*_proxy`` variable that was set changes its value. Reading only the
    variables that are set keeps the check cheap: a missing one costs an exception."""

    def __init__(self) -> None:
        self._size = -1
        self._seen: tuple[tuple[str, str], ...] = ()
        self._found: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self.generation = 0

    def _changed(self) -> bool:
        environ = os.environ
        if len(environ) != self._size:
            return True
        for name, value in self._seen:  # noqa: SIM110 - cheaper than any() per request
            if environ.get(name) != value:
                return True
        return False

    def current(self) -> int:
        """The generation of what is remembered, after forgetting it if the environment
        changed."""
        if self._changed():
            with self._lock:
                environ = os.environ
                self._seen = tuple((name, value) for name, value in environ.items()
                                   if name.lower().endswith("_proxy"))
                self._found, self._size = {}, len(environ)
                self.generation += 1
        return self.generation

    def proxy(self, url: str, origin: str) -> str | None:
        self.current()
        try:
            return self._found[origin]
        except KeyError:
            pass
        proxy = select_proxy(url, get_environ_proxies(url))
        found = self._found
        if len(found) >= _ENVIRONMENT_CACHE_SIZE:
            found.clear()
        found[origin] = proxy
        return proxy


_ENVIRONMENT = _EnvironmentProxies()


def environment_generation() -> int:
    """A number that changes whenever the environment's proxy variables may have: what
    :func:`refuse_environment_proxy` found for a URL holds while it stays the same."""
    return _ENVIRONMENT.current()


def environment_proxy(url: str) -> str | None:
    """The proxy the environment (``HTTP_PROXY``, ``NO_PROXY``, ...) names for ``url``.

    Remembered per origin until the environment gains or loses a variable or a proxy
    variable changes its value. (``ua.session()`` and ``ua.httpx_client()`` don't need
    this: they see their client's own choice.)
    """
    # Keyed by the URL up to its path: requests decides from the scheme and the host.
    end = url.find("/", url.find("//") + 2)
    origin = url if end < 0 else url[:end]
    if "?" in origin or "#" in origin:
        origin = origin.partition("?")[0].partition("#")[0]
    return _ENVIRONMENT.proxy(url, origin)


def refuse_environment_proxy(url: str) -> None:
    """For a client that picks its proxy only after the credentials are on (an
    ``AuthBase``, an ``httpx.Auth``): refuse a plain-http ``url`` the environment would
    send through a proxy, as :func:`bypasses_proxy` would with no way around it.

    :raises InsecureTransportError: with the fix (``NO_PROXY``, or a client of the hub's).
    """
    if url.startswith("http:"):
        bypasses_proxy(url, environment_proxy(url), credentials=True, can_bypass=False)


def _shown(proxy: str) -> str:
    """A proxy URL without its user name and password."""
    parts = urlsplit(proxy)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "?"
