"""``ua.httpx_client()`` and ``ua.httpx_async_client()``: httpx clients built through
httpx's public ``transport=`` and ``mounts=``, every transport of them wrapped.

httpx sets up a transport per proxy (from ``proxy=`` and the environment) only when no
``transport=`` is given; since one always is here, the proxy map is built here, as httpx
builds it (:func:`proxy_map`), and each proxy's transport is one of ours that knows its
proxy. The client's own options (``verify``, ``cert``, ``trust_env``, ``http1``, ``http2``,
``limits``) go to every transport built here, as httpx passes them to its own.

The transports built here are :class:`httpx.HTTPTransport` (``AsyncHTTPTransport``)
subclasses, as httpx's own would be. A transport the caller passes (``transport=``, a
value in ``mounts=``) is wrapped as
:data:`~unified_auth.core.proxies.UNSEEN` unless httpx documents it as in-process
(``MockTransport``, ``WSGITransport``, ``ASGITransport``): whether it goes through a proxy
cannot be seen, so it carries credentials only where no proxy could read them.
"""

from __future__ import annotations

import functools
import ipaddress
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from unified_auth.clients.httpx_transport import (
    AsyncAuthHTTPTransport,
    AsyncAuthTransport,
    AuthHTTPTransport,
    AuthTransport,
)
from unified_auth.core.flow import RequestFlow
from unified_auth.core.proxies import UNSEEN

__all__ = ["async_client", "async_transport", "client", "proxy_map", "transport"]

TRANSPORT_OPTIONS = ("verify", "cert", "trust_env", "http1", "http2", "limits")
"""The client options httpx hands to the transports it builds."""

_IN_PROCESS = (httpx.MockTransport, httpx.WSGITransport, httpx.ASGITransport)

T = TypeVar("T", AuthTransport, AsyncAuthTransport)


def client(flow: RequestFlow, **kwargs: Any) -> httpx.Client:
    """An :class:`httpx.Client` built from ``kwargs``, every transport of it wrapped."""
    return httpx.Client(**_wrapped(kwargs, functools.partial(transport, flow)))


def async_client(flow: RequestFlow, **kwargs: Any) -> httpx.AsyncClient:
    """An :class:`httpx.AsyncClient` built from ``kwargs``, every transport of it wrapped."""
    return httpx.AsyncClient(**_wrapped(kwargs, functools.partial(async_transport, flow)))


def transport(flow: RequestFlow, inner: httpx.BaseTransport | None = None, *,
              proxy: Any = None, direct: AuthTransport | None = None,
              **options: Any) -> AuthTransport:
    """An :class:`AuthTransport` around ``inner``, or an :class:`AuthHTTPTransport` (an
    :class:`httpx.HTTPTransport`) built from ``proxy`` and ``options``, whose proxy is then
    known."""
    return _ours(AuthTransport, AuthHTTPTransport, flow, inner, proxy, direct, options)


def async_transport(flow: RequestFlow, inner: httpx.AsyncBaseTransport | None = None, *,
                    proxy: Any = None, direct: AsyncAuthTransport | None = None,
                    **options: Any) -> AsyncAuthTransport:
    """:func:`transport` for async clients."""
    return _ours(AsyncAuthTransport, AsyncAuthHTTPTransport, flow, inner, proxy, direct,
                 options)


def _ours(wrapper: type[T], built: Callable[..., T], flow: RequestFlow, inner: Any,
          proxy: Any, direct: T | None, options: dict[str, Any]) -> T:
    if isinstance(inner, wrapper):
        return inner
    if inner is not None:
        return wrapper(inner, flow, proxy=_seen_proxy(inner), direct=direct)
    if proxy is not None and direct is None:  # where loopback goes instead
        direct = built(flow, **options)
    return built(flow, proxy=proxy, proxy_url=_proxy_url(proxy), direct=direct, **options)


def _seen_proxy(inner: object) -> str | None:
    """The proxy of a transport the caller built: none if it runs in-process, else unseen."""
    return None if isinstance(inner, _IN_PROCESS) else UNSEEN


def _wrapped(kwargs: dict[str, Any], wrap: Callable[..., T]) -> dict[str, Any]:
    """``kwargs`` for the client, with ``transport=`` and ``mounts=`` made of ours."""
    kwargs = dict(kwargs)
    given = kwargs.pop("transport", None)
    mounts: Mapping[str, Any] = kwargs.pop("mounts", None) or {}
    proxy = kwargs.pop("proxy", None)
    options = {name: kwargs[name] for name in TRANSPORT_OPTIONS if name in kwargs}
    direct = wrap(given) if given is not None else wrap(**options)
    built: dict[str, T | None] = {}
    if proxy is not None:  # as httpx: proxy= holds with a transport; the environment not
        proxies: dict[str, Any] = {"all://": proxy}
    else:
        proxies = proxy_map() if given is None and options.get("trust_env", True) else {}
    for pattern, through in proxies.items():
        built[pattern] = None if through is None else wrap(proxy=through, direct=direct,
                                                           **options)
    for pattern, inner in mounts.items():
        built[pattern] = None if inner is None else wrap(inner)
    return {**kwargs, "transport": direct, "mounts": built}


def _proxy_url(proxy: Any) -> str | None:
    if proxy is None:
        return None
    return str(proxy.url if isinstance(proxy, httpx.Proxy) else proxy)


def proxy_map() -> dict[str, str | None]:
    """The environment's proxies as httpx reads them (``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY``, ``NO_PROXY``): mount pattern -> proxy URL, ``None`` for "no proxy"."""
    found = urllib.request.getproxies()
    mounts: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        if found.get(scheme):
            url = found[scheme]
            mounts[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    for host in (part.strip() for part in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if host:
            mounts[_no_proxy_pattern(host)] = None
    return mounts


def _no_proxy_pattern(host: str) -> str:
    if "://" in host:
        return host
    try:
        address = ipaddress.ip_address(host.split("/")[0])
    except ValueError:
        address = None
    if address is not None:
        return f"all://[{host}]" if address.version == 6 else f"all://{host}"
    if host.lower() == "localhost":
        return f"all://{host}"
    return f"all://*{host}"
