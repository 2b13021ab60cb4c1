"""The network replaced below urllib3: each library's whole client side, no socket.

Inside :func:`stubbed_network`, every ``urlopen`` of a urllib3 connection pool answers at
once with a small canned 200, so a ``session.get()`` runs everything above the socket:
requests' preparation, the library's auth, the adapter, response building. It is the least
noisy measure of what a library adds per request.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from urllib3 import HTTPResponse
from urllib3.connectionpool import HTTPConnectionPool

_BODY = b'{"lists": []}'
_HEADERS = {"Content-Type": "application/json", "Content-Length": str(len(_BODY))}


def _answer(self: HTTPConnectionPool, method: str, url: str, *args: Any,
            **kwargs: Any) -> HTTPResponse:
    return HTTPResponse(body=io.BytesIO(_BODY), headers=_HEADERS, status=200, reason="OK",
                        preload_content=False, decode_content=False, request_method=method,
                        request_url=url)


@contextmanager
def stubbed_network() -> Iterator[None]:
    original = HTTPConnectionPool.urlopen
    HTTPConnectionPool.urlopen = _answer  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        HTTPConnectionPool.urlopen = original  # type: ignore[method-assign]
