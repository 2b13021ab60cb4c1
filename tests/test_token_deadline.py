"""Token fetches end: a deadline per attempt and per fetch, a size cap, typed broken answers.

Raw loopback servers misbehave at the byte level (a trickle, a truncated body, broken
chunking, bad gzip); the deadlines are short so each test takes a second or two.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from raw_server import RawServer, raw_server, token_answer
from recorder import echo_server
from toy_provider import load, write_secret

from unified_auth import RetryPolicy
from unified_auth.core.token_session import TokenSession
from unified_auth.errors import TokenEndpointError
from unified_auth.testing import ManualClock

FAST = RetryPolicy(attempts=3, backoff=0.01, backoff_max=0.02, connect_timeout=1.0,
                   read_timeout=1.0, attempt_deadline=0.5, fetch_deadline=1.5)


def toy_config(token_url: str, api_url: str, secret_file: Path) -> dict[str, Any]:
    return {"targets": {"api": {
        "provider": "toy", "hosts": [f"{api_url}/"], "client_id": "client",
        "client_secret": {"file": str(secret_file)}, "token_url": f"{token_url}/token"}}}


def headers(extra: bytes, length: int | None = None) -> bytes:
    size = b"" if length is None else b"Content-Length: " + str(length).encode() + b"\r\n"
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + size + extra + b"\r\n")


def trickling(server_box: list[RawServer], chunked: bool) -> Callable[[int, socket.socket], None]:
    def script(index: int, sock: socket.socket) -> None:
        server = server_box[0]
        if chunked:
            sock.sendall(headers(b"Transfer-Encoding: chunked\r\n") + b"40\r\n")
        else:
            sock.sendall(headers(b"", length=64))
        server.trickle(sock, b'{"access_token": "x", "expires_in": 900}' + b" " * 24, 0.2)
    return script


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_trickling_token_endpoint_is_cut_at_the_fetch_deadline(chunked: bool) -> None:
    box: list[RawServer] = []
    with raw_server(trickling(box, chunked)) as server:
        box.append(server)
        session = TokenSession(FAST)
        started = time.monotonic()
        with pytest.raises(TokenEndpointError, match="within the deadline"):
            session.post(f"{server.url}/token", data={"client_secret": "s"})
        one_attempt = time.monotonic() - started
    # one read past the deadline at most: 0.5 s + one 0.2 s gap, with room for a busy box
    assert 0.45 <= one_attempt < 2.5  # without the deadline: 64 bytes x 0.2 s = 12.8 s


def test_the_whole_fetch_is_bounded_over_all_attempts(tmp_path: Path) -> None:
    box: list[RawServer] = []
    with raw_server(trickling(box, chunked=True)) as server, echo_server() as api:
        box.append(server)
        hub = load(toy_config(server.url, api, write_secret(tmp_path / "s", "secret-canary")),
                   retry=FAST, sleep=time.sleep)
        started = time.monotonic()
        with pytest.raises(TokenEndpointError, match="giving up after 3 attempts") as caught:
            hub.credentials("api")
        elapsed = time.monotonic() - started
        assert isinstance(caught.value, requests.RequestException)
        assert server.connections == 3
    assert elapsed < 5.0  # 1.5 s fetch deadline, plus slack for a loaded machine


def test_a_pause_that_would_overrun_the_fetch_deadline_is_not_taken(tmp_path: Path) -> None:
    box: list[RawServer] = []
    policy = RetryPolicy(attempts=5, backoff=5.0, backoff_max=5.0, attempt_deadline=0.3,
                         fetch_deadline=1.0)
    pauses: list[float] = []
    with raw_server(trickling(box, chunked=False)) as server, echo_server() as api:
        box.append(server)
        hub = load(toy_config(server.url, api, write_secret(tmp_path / "s", "secret-canary")),
                   retry=policy, sleep=pauses.append)
        # A 5 s pause is a random fraction of 5 s: the test pins the bound, not the draw.
        with pytest.raises(TokenEndpointError, match="giving up"):
            hub.credentials("api")
    assert sum(pauses) < 1.0
    assert len(pauses) + 1 == server.connections


def test_an_endless_answer_is_refused_at_the_size_cap() -> None:
    def endless(index: int, sock: socket.socket) -> None:
        sock.sendall(headers(b"", length=50 * 1024 * 1024))
        block = b" " * 65536
        for _ in range(800):  # bounded: 50 MiB at most, the client hangs up long before
            sock.sendall(block)

    with raw_server(endless) as server:
        session = TokenSession(RetryPolicy(max_answer_bytes=256 * 1024))
        with pytest.raises(TokenEndpointError, match="longer than 262144 bytes"):
            session.post(f"{server.url}/token", data={})


BROKEN = {
    "truncated": headers(b"", length=200) + b'{"access_token": "tok',
    "bad chunking": headers(b"Transfer-Encoding: chunked\r\n") + b"zz\r\nnot a chunk\r\n",
    "chunk cut short": headers(b"Transfer-Encoding: chunked\r\n") + b"ff\r\n{\"access",
    "invalid gzip": headers(b"Content-Encoding: gzip\r\n", length=17) + b"this is not gzip!",
}


@pytest.mark.parametrize("answer", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_answer_is_a_typed_error_and_retried(answer: bytes, tmp_path: Path) -> None:
    def broken(index: int, sock: socket.socket) -> None:
        sock.sendall(answer)

    with raw_server(broken) as server, echo_server() as api:
        hub = load(toy_config(server.url, api, write_secret(tmp_path / "s", "secret-canary")),
                   retry=FAST)
        with pytest.raises(TokenEndpointError, match="giving up after 3 attempts"):
            hub.credentials("api")
        assert server.connections == 3


@pytest.mark.parametrize("answer", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_answer_leaves_the_still_valid_token_in_use(
        answer: bytes, tmp_path: Path, unified_auth_clock: ManualClock) -> None:
    def first_good_then_broken(index: int, sock: socket.socket) -> None:
        sock.sendall(token_answer() if index == 0 else answer)

    with raw_server(first_good_then_broken) as server, echo_server() as api:
        hub = load(toy_config(server.url, api, write_secret(tmp_path / "s", "secret-canary")),
                   retry=FAST, clock=unified_auth_clock)
        session = hub.session()
        assert session.get(f"{api}/x").json()["headers"]["authorization"] == \
            "Bearer tok-trickle-canary-0001"
        # past the mandatory window: callers wait for a fetch
        unified_auth_clock.advance(900 * 0.95)
        response = session.get(f"{api}/x")
        assert response.status_code == 200
        assert response.json()["headers"]["authorization"] == "Bearer tok-trickle-canary-0001"
        assert server.connections == 4  # the first fetch, then three failed attempts
        unified_auth_clock.advance(900 * 0.1)  # expired: nothing valid left, so the error surfaces
        with pytest.raises(TokenEndpointError):
            session.get(f"{api}/x")


def test_429_retry_after_is_honoured(tmp_path: Path) -> None:
    def throttled_once(index: int, sock: socket.socket) -> None:
        if index == 0:
            sock.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\n"
                         b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        else:
            sock.sendall(token_answer())

    pauses: list[float] = []
    with raw_server(throttled_once) as server, echo_server() as api:
        hub = load(toy_config(server.url, api, write_secret(tmp_path / "s", "secret-canary")),
                   retry=RetryPolicy(fetch_deadline=10.0), sleep=pauses.append)
        assert hub.credentials("api").value.reveal() == "tok-trickle-canary-0001"
    assert pauses == [2.0]


def test_a_retry_after_beyond_the_fetch_deadline_gives_up_at_once(tmp_path: Path) -> None:
    def throttled(index: int, sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\n"
                     b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    pauses: list[float] = []
    with raw_server(throttled) as server, echo_server() as api:
        hub = load(toy_config(server.url, api, write_secret(tmp_path / "s", "secret-canary")),
                   retry=RetryPolicy(fetch_deadline=10.0), sleep=pauses.append)
        with pytest.raises(TokenEndpointError, match="fetch deadline") as caught:
            hub.credentials("api")
        assert caught.value.response is not None
        assert caught.value.response.status_code == 429
        assert server.connections == 1
    assert pauses == []


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf")])
def test_deadlines_must_be_finite_and_positive(value: float) -> None:
    with pytest.raises(ValueError, match="finite number > 0"):
        RetryPolicy(attempt_deadline=value)
    with pytest.raises(ValueError, match="finite number > 0"):
        RetryPolicy(fetch_deadline=value)


def test_a_throttled_endpoint_is_not_asked_again_before_its_retry_after(
        tmp_path: Path, unified_auth_clock: ManualClock) -> None:
    def throttled(index: int, sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\n"
                     b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    with raw_server(throttled) as server, echo_server() as api:
        hub = load(toy_config(server.url, api, write_secret(tmp_path / "s", "secret-canary")),
                   retry=RetryPolicy(attempts=2, fetch_deadline=10.0), clock=unified_auth_clock)
        with pytest.raises(TokenEndpointError, match="fetch deadline"):
            hub.credentials("api")
        for _ in range(20):
            with pytest.raises(TokenEndpointError, match="asked to wait"):
                hub.credentials("api")
        assert server.connections == 1
        unified_auth_clock.advance(31)
        with pytest.raises(TokenEndpointError, match="fetch deadline"):
            hub.credentials("api")
        assert server.connections == 2


def test_a_plugin_timeout_longer_than_the_deadline_is_cut_to_it() -> None:
    box: list[RawServer] = []

    def silent(index: int, sock: socket.socket) -> None:
        box[0].stopped.wait(5)  # never answers; ends when the test does

    with raw_server(silent) as server:
        box.append(server)
        session = TokenSession(RetryPolicy(attempt_deadline=0.4))
        started = time.monotonic()
        with pytest.raises(TokenEndpointError):
            session.post(f"{server.url}/token", data={}, timeout=60)
        assert time.monotonic() - started < 2.0


def test_a_token_endpoint_trickling_its_headers_is_cut_at_the_deadline() -> None:
    box: list[RawServer] = []

    def trickle_head(index: int, sock: socket.socket) -> None:
        box[0].trickle(sock, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"." * 200 + b"\r\n\r\n",
                       0.1)

    with raw_server(trickle_head) as server:
        box.append(server)
        session = TokenSession(RetryPolicy(attempt_deadline=0.5, read_timeout=5.0))
        started = time.monotonic()
        with pytest.raises(TokenEndpointError, match="within the deadline"):
            session.post(f"{server.url}/token", data={})
        # without the watchdog: 227 bytes x 0.1 s = 23 s, each read well within read_timeout
        assert time.monotonic() - started < 2.5
