"""A loopback HTTP server that records every request it receives and answers from a script.

For the security tests: the "foreign" side of a redirect, a recording proxy (it answers 502,
CONNECT included), an API that echoes a header back. ``text()`` is everything received, for
``assert_no_leaks``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs

_MAX_BODY = 1 << 20


@attrs.frozen
class Seen:
    """One request as received: the request target verbatim (a proxy sees a full URL)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        lines = [f"{self.method} {self.target}", *(f"{k}: {v}" for k, v in self.headers.items())]
        return "\n".join(lines) + "\n\n" + self.body.decode("utf-8", "backslashreplace")


@attrs.frozen
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


Script = Callable[[Seen], Answer]


def always(status: int) -> Script:
    return lambda seen: Answer(status)


class Recorder:
    """What one server received (thread-safe), and its base URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._seen: list[Seen] = []
        self._lock = threading.Lock()

    def add(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def matching(self, fragment: str) -> list[Seen]:
        """The requests whose target contains ``fragment`` (a test case's id)."""
        return [seen for seen in self.seen if fragment in seen.target]

    def text(self, fragment: str = "") -> str:
        return "\n".join(seen.text() for seen in self.matching(fragment))


def _handler(recorder: Recorder, script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body in one segment: written apart, Nagle's algorithm and the client's
        # delayed ACK add 40 ms to every keep-alive answer with a body.
        wbufsize = -1
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
            body = self.rfile.read(length) if length else b""
            seen = Seen(self.command, self.path, dict(self.headers.items()), body)
            recorder.add(seen)
            answer = script(seen)
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            if self.command == "CONNECT":
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_CONNECT = _answer

    return Handler


@contextmanager
def recording_server(script: Script | None = None,
                     host: str = "127.0.0.1") -> Iterator[Recorder]:
    """A threaded server on ``host`` (a loopback address) and a free port; answers 401 unless
    ``script`` says otherwise."""
    script = script or always(401)
    server = ThreadingHTTPServer((host, 0), _handler(Recorder(""), script))
    recorder = Recorder(f"http://{host}:{server.server_port}")
    server.RequestHandlerClass = _handler(recorder, script)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
