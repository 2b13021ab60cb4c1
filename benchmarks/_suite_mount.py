"""pytest plugin: every requests session and httpx client of a third-party suite goes through
a unified-auth hub whose one target claims a host no test uses.

Loaded by :mod:`benchmarks.third_party_suites` with ``-p benchmarks._suite_mount`` for the
"mounted" run. Nothing here is owned by the hub, so each request must leave exactly as it
would without us: any test that passes plain and fails here is a transparency bug of ours.
"""

from __future__ import annotations

import functools
from typing import Any

import unified_auth

CONFIG: dict[str, Any] = {
    "targets": {
        "only": {
            "provider": "api-key",
            "hosts": ["api.unrelated.invalid"],
            "key": "k",
        },
    },
}
"""One target on a name no suite dials (``.invalid`` never resolves, RFC 2606)."""

_hub: Any = None


def pytest_configure(config: Any) -> None:
    global _hub
    _hub = unified_auth.load(CONFIG)
    _mount_on_requests(_hub)
    _wrap_httpx(_hub)


def _mount_on_requests(hub: Any) -> None:
    try:
        import requests  # noqa: PLC0415 - only the suite under test need have it
    except ImportError:
        return
    plain_init = requests.Session.__init__

    @functools.wraps(plain_init)
    def init(self: requests.Session, *args: Any, **kwargs: Any) -> None:
        plain_init(self, *args, **kwargs)
        # Two adapters, as UnifiedAuth.session() mounts: Session.close() closes each once.
        self.mount("https://", hub.adapter())
        self.mount("http://", hub.adapter())

    requests.Session.__init__ = init  # type: ignore[method-assign]


def _wrap_httpx(hub: Any) -> None:
    """Give every httpx client our transports in place of the ones it would build itself.

    httpx builds its default transport from ``verify``, ``cert``, ``trust_env``, ``http1``,
    ``http2`` and ``limits``, and one proxy transport per entry of ``proxy=`` or of the
    environment's proxies. Through the public seam (``transport=``, ``mounts=``) we pass
    ``hub.httpx_transport(**those options)``, which builds that same ``HTTPTransport`` and so
    knows its proxy; a caller's own ``transport=`` and each of its ``mounts=`` are wrapped as
    given. httpx ignores the environment's proxies once ``transport=`` is given, so the
    proxy mounts it would have made are rebuilt here from the same inputs.
    """
    try:
        import httpx  # noqa: PLC0415
    except ImportError:
        return
    if not hasattr(hub, "httpx_transport"):
        return  # this tree has no public transports yet: the mounted run tests requests only
    httpx.Client.__init__ = _wrapping_init(  # type: ignore[method-assign]
        httpx, httpx.Client.__init__, hub.httpx_transport)
    httpx.AsyncClient.__init__ = _wrapping_init(  # type: ignore[method-assign]
        httpx, httpx.AsyncClient.__init__, hub.httpx_async_transport)


_TRANSPORT_OPTIONS = ("verify", "cert", "trust_env", "http1", "http2", "limits")


def _wrapping_init(httpx: Any, plain_init: Any, ours: Any) -> Any:
    @functools.wraps(plain_init)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        options = {key: kwargs[key] for key in _TRANSPORT_OPTIONS if key in kwargs}
        given = kwargs.pop("transport", None)
        transport = ours(given) if given is not None else ours(**options)
        mounts = {pattern: (None if inner is None else ours(inner))
                  for pattern, inner in (kwargs.pop("mounts", None) or {}).items()}
        for pattern, proxy in _proxy_map(httpx, kwargs, given).items():
            mounts.setdefault(pattern, None if proxy is None else ours(proxy=proxy, **options))
        plain_init(self, *args, transport=transport, mounts=mounts, **kwargs)

    return init


def _proxy_map(httpx: Any, kwargs: dict[str, Any], given: Any) -> dict[str, Any]:
    """The proxy mounts httpx itself would derive: ``proxy=``, else (with no ``transport=``
    of the caller's) the environment's, by httpx's own reading of it."""
    proxy = kwargs.pop("proxy", None)
    if proxy is not None:
        return {"all://": proxy if isinstance(proxy, httpx.Proxy) else httpx.Proxy(url=proxy)}
    if given is not None or not kwargs.get("trust_env", True):
        return {}
    # Private, but this is a harness of httpx's own suite: reading the environment as httpx
    # does is the point, and a copy of that logic here could drift from it.
    from httpx._utils import get_environment_proxies  # noqa: PLC0415

    return {key: (None if url is None else httpx.Proxy(url=url))
            for key, url in get_environment_proxies().items()}
