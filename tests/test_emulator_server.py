"""The emulators' server base: where it listens, what it refuses to read, how it answers CONNECT."""

from __future__ import annotations

import socket

import pytest
import requests

from unified_auth.testing._server import EmulatorServer, Request, Response

TIMEOUT = 5


class _Bare(EmulatorServer):
    """Answers every request with 204 and no Content-Type."""

    def _dispatch(self, request: Request) -> Response:
        return Response(204, content_type=None)


def _exchange(url: str, raw: bytes) -> bytes:
    """Send ``raw`` and read until the server closes the connection (bounded)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(raw)
        received = b""
        while len(received) < 65536:
            chunk = sock.recv(4096)
            if not chunk:
                return received
            received += chunk
    raise AssertionError(f"the server kept the connection open: {received!r}")


def test_a_server_listens_on_another_loopback_address() -> None:
    with _Bare(host="127.0.0.2") as server:
        assert server.url.startswith("http://127.0.0.2:")
        response = requests.get(f"{server.url}/x", timeout=TIMEOUT)
    assert response.status_code == 204
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "::1", "localhost"])
def test_a_server_refuses_an_address_that_is_not_ipv4_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        _Bare(host=host)


@pytest.mark.parametrize(("head", "status"), [
    (b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000", 413),  # refused unread
    (b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443", 204),  # no tunnel follows
], ids=["body over the limit", "CONNECT"])
def test_the_answer_closes_the_connection(head: bytes, status: int) -> None:
    with _Bare() as server:
        answer = _exchange(server.url, head + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 %d " % status)
    assert b"Connection: close" in answer
