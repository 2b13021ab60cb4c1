"""The loopback HTTP server every emulator runs on: start, stop, keep-alive, and nothing printed.

An emulator subclasses :class:`EmulatorServer` and implements :meth:`EmulatorServer._dispatch`,
a pure function from a parsed :class:`Request` to a :class:`Response` (or ``None`` to drop the
connection). Sockets, threads and HTTP framing stay here.

It runs a little past 300 lines because the request/response types, the counting base and
the server are the one base every emulator shares; none is used without the others.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

import attrs

__all__ = [
    "Clock",
    "CountingEmulator",
    "EmulatorServer",
    "Request",
    "Response",
    "parse_basic",
    "secret_digest",
]

Clock = Callable[[], float]
"""Seconds since the epoch, like :func:`time.time` (or a :class:`ManualClock`)."""

# serve_forever() only notices shutdown() between polls, so this bounds how long stop() takes.
_POLL_INTERVAL = 0.02
# Request bodies beyond this are refused (413) unread: no emulator needs more.
_MAX_BODY = 1 << 20


@attrs.frozen
class Request:
    """One HTTP request as an emulator sees it. Header names are lower-cased."""

    method: str
    target: str
    """The request target exactly as sent (path and query string), as a signature covers it."""
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@attrs.frozen
class Response:
    """One HTTP answer; ``Content-Length`` is added when it is sent.

    ``content_type=None`` sends no ``Content-Type`` header (a test server answering as a
    bare proxy or redirector would).
    """

    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(
        cls, status: int, payload: Any, *, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        """A JSON answer."""
        return cls(status, json.dumps(payload).encode(), "application/json", headers)


class EmulatorServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 (or ``host``, another IPv4 loopback address),
    run from a daemon thread.

    Use it as a context manager or call :meth:`start` and :meth:`stop` (both idempotent).
    Subclasses keep their state behind ``self._lock`` and take every time decision from
    ``self._clock``, so a test can share a :class:`ManualClock` with the code under test.
    """

    def __init__(self, *, clock: Clock | None = None, port: int = 0,
                 host: str = "127.0.0.1") -> None:
        # A second loopback address (127.0.0.2) makes "another host" for redirect tests.
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is None or address.version != 4 or not address.is_loopback:
            raise ValueError(f"{type(self).__name__}: host {host!r} must be an IPv4 loopback "
                             f"address such as 127.0.0.2")
        self._clock: Clock = clock if clock is not None else time.time
        self._lock = threading.Lock()
        self._host = host
        self._requested_port = port
        self._lifecycle_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (or the ``host`` given), without a trailing slash."""
        server = self._server
        if server is None:
            raise RuntimeError(
                f"{type(self).__name__} is not running: call start() or use it in a with block"
            )
        return f"http://{self._host}:{server.server_address[1]}"

    @property
    def running(self) -> bool:
        """Whether the server accepts connections."""
        return self._server is not None

    def start(self) -> Self:
        """Bind the port and serve in the background. Returns ``self``."""
        with self._lifecycle_lock:
            if self._server is None:
                server = self._bind()
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": _POLL_INTERVAL},
                    name=f"{type(self).__name__}:{server.server_address[1]}",
                    daemon=True,
                )
                thread.start()
                self._server, self._thread = server, thread
        return self

    def _bind(self) -> _Server:
        try:
            return _Server((self._host, self._requested_port), self._dispatch_safely)
        except OSError as exc:
            # The bare "Address already in use" names no port; several emulators start
            # together, so say which one could not listen.
            reason = exc.strerror or str(exc)
            raise OSError(exc.errno, f"{type(self).__name__} cannot listen on "
                                     f"{self._host}:{self._requested_port}: {reason}") from exc

    def stop(self) -> None:
        """Stop serving, close the listening socket and cut open keep-alive connections."""
        with self._lifecycle_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        thread.join()
        server.close_connections()
        server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _dispatch(self, request: Request) -> Response | None:
        """Answer one request; ``None`` closes the connection without an answer."""
        raise NotImplementedError

    def _dispatch_safely(self, request: Request) -> Response | None:
        try:
            return self._dispatch(request)
        except Exception as exc:  # noqa: BLE001 - a bug here must reach the test as a 500
            return Response.json(500, {"error": f"emulator error: {type(exc).__name__}: {exc}"})


CountersT = TypeVar("CountersT", bound=attrs.AttrsInstance)


class CountingEmulator(EmulatorServer, Generic[CountersT]):
    """An emulator that counts what it sees in an attrs class of int fields (``counters_class``).

    Subclasses bump ``self._counts[name]`` under ``self._lock``; readers get snapshots.
    """

    counters_class: type[CountersT]

    def __init__(self, *, clock: Clock | None = None, port: int = 0) -> None:
        super().__init__(clock=clock, port=port)
        self._counts: dict[str, int] = attrs.asdict(self.counters_class())

    @property
    def counters(self) -> CountersT:
        """A snapshot of the counters."""
        with self._lock:
            return self.counters_class(**self._counts)

    def stats(self) -> dict[str, int]:
        """The counters as a dict."""
        with self._lock:
            return dict(self._counts)

    def reset_counters(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self._counts = attrs.asdict(self.counters_class())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 overflows when dozens of threads connect at once, and the
    # kernel's SYN retry then stalls each of them for a whole second.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], dispatch: Callable[[Request], Response | None]
    ) -> None:
        self.dispatch = dispatch
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # A keep-alive client would otherwise go on talking to a "stopped" emulator.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-answer (and the "drop" fault) are normal here: stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "unified-auth-emulator/1"
    # Headers and body leave in one segment: written separately, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every keep-alive request.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def do_CONNECT(self) -> None:
        # Answered like any request (a test proxy records it), then closed: no tunnel follows.
        self.close_connection = True
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send(Response.json(411, {"error": "chunked bodies are not supported"}))
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            self._send(Response.json(400, {"error": "invalid Content-Length"}))
            return
        if length > _MAX_BODY:
            self.close_connection = True
            self._send(Response.json(413, {"error": f"bodies over {_MAX_BODY} bytes are refused"}))
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            target=self.path,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        response = self.server.dispatch(request)
        if response is None:
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.content_type is not None:
            self.send_header("Content-Type", response.content_type)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


def parse_basic(header: str) -> tuple[str, str] | None:
    """``(user, password)`` of an ``Authorization: Basic`` header value, or ``None``."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def secret_digest(secret: str) -> bytes:
    """What an emulator keeps of a secret it hands out: a digest, compared in constant time."""
    return hashlib.sha256(secret.encode()).digest()
