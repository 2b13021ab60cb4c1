"""Fixtures shared by the httpx tests: the five bundled providers, a recording server.

``five_targets`` is the end-to-end config of test_end_to_end.py (Liana OAuth, legacy
signatures, LiquidPlanner, Basic and an API key on the Classic emulator), with the secrets
in files so a test can list them for ``assert_no_leaks``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from unified_auth.testing import ClassicEmulator, ManualClock


@pytest.fixture
def classic(unified_auth_clock: ManualClock) -> Iterator[ClassicEmulator]:
    with ClassicEmulator(clock=unified_auth_clock) as emulator:
        yield emulator


@pytest.fixture
def five_targets(unified_auth_config: dict[str, Any], classic: ClassicEmulator,
                 tmp_path: Path) -> dict[str, Any]:
    password = classic.add_user("me@example.com")
    key = classic.create_api_key("ci")
    (tmp_path / "classic.password").write_text(password)
    (tmp_path / "classic.key").write_text(key)
    targets = dict(unified_auth_config["targets"])
    targets["classic"] = {"provider": "basic", "hosts": [f"{classic.url}/basic/"],
                          "username": "me@example.com",
                          "password": {"file": str(tmp_path / "classic.password")}}
    targets["keyed"] = {"provider": "api-key", "hosts": [f"{classic.url}/keyed/"],
                        "key": {"file": str(tmp_path / "classic.key")}}
    return {"targets": targets}


def secrets_of(config: dict[str, Any]) -> list[str]:
    """Every secret a config's targets read from files."""
    found = []
    for target in config["targets"].values():
        for value in target.values():
            if isinstance(value, dict) and "file" in value:
                found.append(Path(value["file"]).read_text().strip())
    return found


class Recorder:
    """A loopback server that records every request and, on ``/<any>/hop``, redirects.

    ``/x/hop?case=ID&status=S&to=URL`` answers ``S`` with ``Location: URL``; with
    ``&unauth=1`` the first request of a case is answered 401 instead (so the redirect is
    the answer to the retried request). Anything else gets 200 and a JSON echo.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[dict[str, Any]] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), _recording_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)
        self.url = f"http://{host}:{self._server.server_address[1]}"

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()

    def seen(self, needle: str) -> list[dict[str, Any]]:
        """The recorded requests whose request target contains ``needle``."""
        with self._lock:
            return [r for r in self.requests if needle in r["target"]]

    def answer(self, target: str) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(target)
        if not parts.path.endswith("/hop"):
            return 200, [("Content-Type", "application/json")], b'{"ok": true}'
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            first = query["case"] not in self._seen
            self._seen.add(query["case"])
        if query.get("unauth") == "1" and first:
            return 401, [("WWW-Authenticate", 'Bearer realm="recorder"')], b"{}"
        return int(query["status"]), [("Location", query["to"])], b""


def _recording_handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One segment per answer: otherwise Nagle and delayed ACKs add 40 ms to each.
        wbufsize = -1
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with recorder._lock:
                recorder.requests.append({
                    "method": self.command, "target": self.path,
                    "headers": dict(self.headers.items()),
                    "body": body.decode("utf-8", "replace")})
            status, headers, payload = recorder.answer(self.path)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_PUT = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
