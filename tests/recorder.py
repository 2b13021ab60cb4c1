"""A loopback server on the emulators' base that records every request and answers from a script.

For the tests of what is sent where: the "foreign" side of a redirect, a recording proxy (it
answers 502, CONNECT included), an API that echoes what it received (:func:`echo`). ``text()``
is everything received, for ``assert_no_leaks``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import attrs
from requests.structures import CaseInsensitiveDict

from unified_auth.testing._server import EmulatorServer, Request, Response


@attrs.frozen
class Seen:
    """One request as received: the request target verbatim (a proxy sees a full URL).

    Header names compare case-insensitively (they arrive lower-cased).
    """

    method: str
    target: str
    headers: Mapping[str, str]
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


def echo(seen: Seen) -> Answer:
    """Answers ``/redirect/STATUS?to=URL`` with a redirect, ``/slow?seconds=S`` late, and
    anything else with what arrived, as JSON: method, path (the target), headers, body."""
    if seen.target.startswith("/slow"):
        time.sleep(min(float(seen.target.partition("?seconds=")[2] or 1), 5.0))
    if seen.target.startswith("/redirect"):
        status, _, location = seen.target.partition("?to=")
        code = int(status.rsplit("/", 1)[-1]) if "/" in status[1:] else 302
        return Answer(code, (("Location", location),))
    payload = {"method": seen.method, "path": seen.target, "headers": dict(seen.headers),
               "body": seen.body.decode("utf-8", "replace")}
    return Answer(200, (("Content-Type", "application/json"),), json.dumps(payload).encode())


class Recorder(EmulatorServer):
    """What one server received (thread-safe), and its base URL."""

    def __init__(self, script: Script, host: str = "127.0.0.1") -> None:
        super().__init__(host=host)
        self._script = script
        self._seen: list[Seen] = []

    def _dispatch(self, request: Request) -> Response:
        seen = Seen(request.method, request.target, CaseInsensitiveDict(request.headers),
                    request.body)
        with self._lock:
            self._seen.append(seen)
        answer = self._script(seen)
        content_type = next((value for name, value in answer.headers
                             if name.lower() == "content-type"), None)
        others = tuple((name, value) for name, value in answer.headers
                       if name.lower() != "content-type")
        return Response(answer.status, answer.body, content_type, others)

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def matching(self, fragment: str) -> list[Seen]:
        """The requests whose target contains ``fragment`` (a test case's id)."""
        return [seen for seen in self.seen if fragment in seen.target]

    def text(self, fragment: str = "") -> str:
        return "\n".join(seen.text() for seen in self.matching(fragment))


@contextmanager
def recording_server(script: Script | None = None,
                     host: str = "127.0.0.1") -> Iterator[Recorder]:
    """A threaded server on ``host`` (a loopback address) and a free port; answers 401 unless
    ``script`` says otherwise."""
    with Recorder(script or always(401), host) as recorder:
        yield recorder


@contextmanager
def echo_server() -> Iterator[str]:
    """A recording server that answers with :func:`echo`; yields its base URL."""
    with recording_server(echo) as recorder:
        yield recorder.url
