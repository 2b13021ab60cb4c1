"""A failure while sending credentials never quotes or carries them.

requests' errors quote the URL they were sending and keep the request object on ``.request``:
for a plugin that puts its key in the query string (or any plugin, through the headers of
``.request``) that would hand the key to whatever logs the error. The session's adapter sends
authorised copies, so it can raise the error about the caller's request, its text redacted,
without the chained urllib3 error that quotes the URL too.
"""

from __future__ import annotations

import socket
import traceback

import attrs
import pytest
import requests
from raw_server import raw_server

from unified_auth import AuthRequest, Credentials, Secret, Target, UnifiedAuth, hookimpl
from unified_auth.testing import assert_no_leaks, load_isolated

KEY = "query-key-canary-7a6b5c4d"


@attrs.frozen
class QueryKeyOptions:
    pass


class QueryKeyPlugin:
    """Puts its key in the query string, as some APIs want it."""

    @hookimpl
    def register_providers(self, register: object) -> None:
        register("query-key", QueryKeyOptions)  # type: ignore[operator]

    @hookimpl
    def get_credentials(self, target: Target) -> Credentials:
        return Credentials(value=Secret(KEY), expires_at=None, token_type="")

    @hookimpl
    def apply_auth(self, target: Target, credentials: Credentials,
                   request: AuthRequest) -> bool:
        separator = "&" if "?" in request.url else "?"
        request.url += f"{separator}api_key={credentials.value.reveal()}"
        return True


def hub_for(origin: str) -> UnifiedAuth:
    return load_isolated({"targets": {"q": {"provider": "query-key", "hosts": [f"{origin}/"]}}},
                         plugins=[QueryKeyPlugin()])


@pytest.fixture
def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def shown(exc: BaseException) -> list[str]:
    """Everything a log line or a traceback of ``exc`` could show."""
    request = getattr(exc, "request", None)
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc)),
            request.url if request is not None else "",
            str(dict(request.headers)) if request is not None else ""]


def test_a_connection_failure_through_the_session_shows_no_key(closed_port: str) -> None:
    url = f"{closed_port}/v1/lists?page=2"
    with pytest.raises(requests.ConnectionError) as caught:
        hub_for(closed_port).session().get(url, timeout=2)
    assert caught.value.request.url == url  # the caller's request, as the caller made it
    assert "127.0.0.1" in str(caught.value)  # still says what failed
    assert_no_leaks(shown(caught.value), [KEY])


UNAUTHORISED = (b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
                b"Connection: close\r\n\r\n")


def first_401_then_hang_up(index: int, sock: socket.socket) -> None:
    """Every even connection is answered 401; the odd ones (the retries) are dropped."""
    if index % 2 == 0:
        sock.sendall(UNAUTHORISED)


@pytest.mark.parametrize("entry", ["session", "auth="])
def test_a_failure_of_the_401_retry_shows_no_key(entry: str) -> None:
    with raw_server(first_401_then_hang_up) as server:
        hub = hub_for(server.url)
        url = f"{server.url}/v1/x"
        send = (lambda: hub.session().get(url, timeout=2)) if entry == "session" else \
            (lambda: requests.get(url, auth=hub.auth("q"), timeout=2))
        with pytest.raises(requests.ConnectionError) as caught:
            send()
    assert server.connections == 2  # the 401, then the retry that failed
    assert_no_leaks(shown(caught.value), [KEY])
