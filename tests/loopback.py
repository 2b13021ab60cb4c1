"""A tiny threaded loopback server for the adapter's redirect tests: it redirects and echoes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path.startswith("/slow"):
            time.sleep(float(self.path.partition("?seconds=")[2] or 1))
        if self.path.startswith("/redirect"):
            status, _, location = self.path.partition("?to=")
            self.send_response(int(status.rsplit("/", 1)[-1]) if "/" in status[1:] else 302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = json.dumps({"path": self.path, "headers": dict(self.headers),
                              "body": body.decode("utf-8", "replace")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer


@contextmanager
def echo_server() -> Iterator[str]:
    """Serves ``/redirect/STATUS?to=URL`` (a redirect), ``/slow?seconds=S`` (a late echo)
    and anything else (an echo)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
