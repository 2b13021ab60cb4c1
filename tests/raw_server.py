"""A loopback server that answers with raw bytes: trickles, truncations, broken framing.

Each connection reads one request and hands the socket to a script, ``script(index, sock)``,
where ``index`` counts connections from 0. The server stops (and every socket closes) when
the context ends; every wait in it is bounded.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Script = Callable[[int, socket.socket], None]


def token_answer(token: str = "tok-trickle-canary-0001", expires_in: int = 900) -> bytes:
    body = json.dumps({"access_token": token, "token_type": "Bearer",
                       "expires_in": expires_in}).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


class RawServer:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.stopped = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self._threads: list[threading.Thread] = []
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            index, self.connections = self.connections, self.connections + 1
            thread = threading.Thread(target=self._handle, args=(index, sock), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, index: int, sock: socket.socket) -> None:
        sock.settimeout(5.0)
        try:
            _read_request(sock)
            self.script(index, sock)
        except OSError:
            pass  # the client hung up: what a deadline is for
        finally:
            sock.close()

    def trickle(self, sock: socket.socket, data: bytes, every: float) -> None:
        """Send ``data`` one byte per ``every`` seconds, until done or stopped."""
        for byte in data:
            if self.stopped.wait(every):
                return
            sock.sendall(bytes([byte]))


def _read_request(sock: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            return
        body += chunk


@contextmanager
def raw_server(script: Script) -> Iterator[RawServer]:
    server = RawServer(script)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopped.set()
        thread.join(timeout=2)
        server._listener.close()
        deadline = time.monotonic() + 2
        for handler in server._threads:
            handler.join(timeout=max(0.0, deadline - time.monotonic()))
