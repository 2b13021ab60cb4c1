"""Which proxy a request may take: loopback goes direct, credentials never ride plain http.

requests picks proxies from ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` (and ``NO_PROXY``)
and from ``session.proxies``; :func:`proxies_for` then filters that choice for one request:

- a request to a loopback host (``localhost``, ``127.0.0.0/8``, ``::1``) never goes through
  a proxy: plain http to loopback is allowed because it never leaves the machine, and a
  proxy would carry it, and its credentials, across the network in clear text;
- a request that carries credentials to a plain ``http://`` URL through a proxy is refused
  with :class:`~unified_auth.errors.InsecureTransportError` (rather than sent without its
  credentials, which would only turn into a puzzling 401);
- anything else keeps its proxy; https through a proxy is a CONNECT tunnel, encrypted end
  to end.

Transport-neutral: it takes a URL and a ``{scheme-or-host: proxy URL}`` mapping, as both
requests and httpx describe proxies.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import requests
from requests.utils import resolve_proxies, select_proxy

from unified_auth.core.routing import is_loopback
from unified_auth.errors import InsecureTransportError

__all__ = ["proxies_for", "refuse_fixed_proxy", "session_proxies"]


def proxies_for(url: str, proxies: Mapping[str, str] | None, *,
                credentials: bool) -> Mapping[str, str] | None:
    """The proxies ``url`` may use, out of those the HTTP library chose.

    :param url: the request's URL, as it will be sent.
    :param proxies: the proxies chosen for it (environment and session settings), or None.
    :param credentials: whether the request carries credentials (or will, once applied).
    :returns: ``proxies`` itself when nothing needs changing (the common case costs one
        truth test), else an empty mapping: connect directly.
    :raises InsecureTransportError: credentials would cross a proxy over plain http.
    """
    if not proxies:
        return proxies
    parts = urlsplit(url)
    try:
        host = parts.hostname or ""
    except ValueError:  # pragma: no cover - requests refuses such a URL before this
        return {}
    if host and is_loopback(host):
        return {}
    if credentials and parts.scheme == "http" and select_proxy(url, dict(proxies)):
        raise InsecureTransportError(
            f"refusing to send credentials for {host} through a proxy over plain http: the "
            f"proxy and the network to it would see them in clear text. Use an https:// "
            f"URL, or add {host} to NO_PROXY if it must be reached directly")
    return proxies



def session_proxies(session: requests.Session, request: requests.PreparedRequest,
                    chosen: Mapping[str, str] | None, *,
                    credentials: bool) -> Mapping[str, str] | None:
    """:func:`proxies_for` on the proxies ``session.send`` would use for ``request``.

    :param chosen: the ``proxies`` passed to ``send`` (``Session.request`` passes them),
        or ``None`` to take them from the session and the environment as requests does.
    """
    if chosen is None:
        chosen = resolve_proxies(request, dict(session.proxies), session.trust_env)
    return proxies_for(request.url or "", chosen, credentials=credentials)


def refuse_fixed_proxy(url: str, proxies: Mapping[str, str] | None) -> None:
    """For callers that cannot change the proxy a request will take (an ``AuthBase`` runs
    before requests picks one): refuse where :func:`proxies_for` would have re-routed.

    :raises InsecureTransportError: ``url`` carries credentials and would go through a proxy
        although it is loopback, or over plain http.
    """
    proxy = select_proxy(url, dict(proxies)) if proxies else None
    if proxy is None:
        return
    host = urlsplit(url).hostname or ""
    if is_loopback(host):
        raise InsecureTransportError(
            f"refusing to send credentials for {host} through the proxy {_shown(proxy)}: a "
            f"loopback host is reached directly, never through a proxy. Add it to NO_PROXY "
            f"(NO_PROXY=localhost,127.0.0.1,::1) or use ua.session(), which does this itself")
    proxies_for(url, proxies, credentials=True)


def _shown(proxy: str) -> str:
    """A proxy URL without its user name and password."""
    parts = urlsplit(proxy)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "?"
