"""A real ``redis-server`` on a free loopback port, with ``requirepass``, for the cache tests.

Without the binary the tests that need one skip, unless ``UNIFIED_AUTH_REQUIRE_REDIS`` is
set (``.ci/run`` sets it): then they fail, so CI never passes by skipping them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

REQUIRE_ENV = "UNIFIED_AUTH_REQUIRE_REDIS"
_CANDIDATES = ("/usr/bin/redis-server", "/usr/local/bin/redis-server")


def redis_binary() -> str:
    """The redis-server path, or skip (fail when ``UNIFIED_AUTH_REQUIRE_REDIS`` is set)."""
    found = shutil.which("redis-server") or next(
        (c for c in _CANDIDATES if os.access(c, os.X_OK)), None)
    if found is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{message}, and {REQUIRE_ENV} is set")
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """One redis-server process: no persistence, loopback only, a random password."""

    def __init__(self, directory: Path, tls: tuple[Path, Path] | None = None) -> None:
        self.directory = directory
        self.password = secrets.token_urlsafe(18)
        self.port = free_port()
        self.tls = tls
        """``(certificate chain, key)`` files: serve TLS only (``rediss://``)."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        if self.tls:
            return redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                               socket_timeout=5, socket_connect_timeout=5, ssl=True,
                               ssl_cert_reqs="none")
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                           socket_timeout=5, socket_connect_timeout=5)

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [redis_binary(), *self._listen(), "--bind", "127.0.0.1",
             "--requirepass", self.password, "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("redis-server did not start within 10 s") from None
                time.sleep(0.02)

    def _listen(self) -> list[str]:
        if self.tls is None:
            return ["--port", str(self.port)]
        chain, key = self.tls
        return ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(chain),
                "--tls-key-file", str(key), "--tls-auth-clients", "no"]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def scan(self) -> dict[bytes, bytes]:
        """Every key and its value (strings only), to look for leaks."""
        client = self.client()
        found = {}
        for key in client.scan_iter(count=100):
            value = client.get(key)
            found[key] = value if isinstance(value, bytes) else b""
        return found


@contextmanager
def running_redis(directory: Path,
                  tls: tuple[Path, Path] | None = None) -> Iterator[RedisServer]:
    server = RedisServer(directory, tls).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on loopback that accepts connections and never answers; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()
