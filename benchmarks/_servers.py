"""The API every contender calls: a small JSON answer on loopback, over http and https.

:func:`loopback_api` starts two threaded :mod:`http.server` servers on 127.0.0.1 (HTTP/1.1,
keep-alive): one plain http, the intranet case, and one https with a certificate from a
throwaway trustme CA. Each answers ``GET /v1/lists`` with 200 when the request carries the
expected ``Authorization`` header and 401 otherwise, counting the refusals, so a contender
that sent nothing (or the wrong thing) shows in the notes instead of looking fast.

Without trustme (``pip install trustme``) there is no https server: the https endpoint
keeps its URL for the stubbed measurements, which never connect, and its loopback rows are
skipped.
"""

from __future__ import annotations

import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs

__all__ = ["Endpoint", "loopback_api"]

BODY = b'{"lists": [], "page": 2}'
REFUSED = b'{"error": "unauthorized"}'


@attrs.frozen
class Endpoint:
    """One URL of the API and what a client needs to trust it."""

    scheme: str
    url: str
    """The URL every contender GETs."""
    prefix: str
    """The target's host entry: the URL's origin and ``/v1/``."""
    requests_verify: bool | str
    """``verify=`` for requests: ``True``, or the CA bundle's path."""
    httpx_verify: bool | ssl.SSLContext
    """``verify=`` for httpx."""
    server: _Server | None = attrs.field(eq=False, repr=False)
    """The server behind the URL, or ``None`` when nothing listens (no trustme)."""

    @property
    def live(self) -> bool:
        return self.server is not None

    @property
    def refused(self) -> int:
        """Requests the server answered 401 (without the expected header)."""
        return self.server.refused if self.server is not None else 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, expected: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.expected = expected
        self.refused = 0

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK hold the body back 40 ms on every keep-alive GET.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        ok = self.headers.get("Authorization") == self.server.expected
        if not ok:
            self.server.refused += 1
        body = BODY if ok else REFUSED
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


def _serve(stack: ExitStack, server: _Server) -> None:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    stack.callback(stop)


@contextmanager
def loopback_api(expected: str) -> Iterator[tuple[Endpoint, Endpoint]]:
    """The http and the https endpoint, both answering 200 to ``Authorization: expected``."""
    with ExitStack() as stack:
        plain = _Server(expected)
        _serve(stack, plain)
        http = Endpoint("http", f"http://127.0.0.1:{plain.port}/v1/lists?page=2",
                        f"http://127.0.0.1:{plain.port}/v1/", True, True, plain)
        yield http, _https(stack, expected)


def _https(stack: ExitStack, expected: str) -> Endpoint:
    try:
        import trustme  # noqa: PLC0415 - optional: without it, no https server
    except ImportError:
        url = "https://127.0.0.1:9/v1/lists?page=2"  # never connected to
        return Endpoint("https", url, "https://127.0.0.1:9/v1/", True, True, None)
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    server = _Server(expected)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _serve(stack, server)
    bundle = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return Endpoint("https", f"https://127.0.0.1:{server.port}/v1/lists?page=2",
                    f"https://127.0.0.1:{server.port}/v1/", str(bundle), client, server)
