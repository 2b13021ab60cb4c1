"""The session plugins fetch credentials with: deadlines, size caps, no redirects, no plain http.

Failures the core should retry (connection errors, timeouts, 5xx, 429, broken or endless
answers: every :class:`requests.RequestException`) come out of it as
:class:`~unified_auth.errors.TokenEndpointError`, so a plugin never has to tell them apart
from its own parsing errors; the broker retries them with backoff and jitter.

A socket timeout bounds one read, not an answer: a server trickling a byte every few
seconds would hold a fetch (and every caller waiting for it) for minutes. So the body is
read here, in small pieces, against a deadline for the whole attempt and a size cap.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import http.client
import math
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import attrs
import requests
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
import urllib3.response

from unified_auth.core.proxies import session_proxies
from unified_auth.core.routing import is_loopback
from unified_auth.errors import InsecureTransportError, TokenEndpointError

__all__ = ["RetryPolicy", "TokenSession", "retry_after"]

_CHUNK = 16 * 1024
# The deadline of the send() in progress in this thread, for the connection's watchdog.
_SENDING: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "unified_auth_token_deadline", default=None)


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"RetryPolicy.{attribute.name} must be a finite number > 0")


@attrs.frozen
class RetryPolicy:
    """How token fetches are bounded: timeouts, deadlines, a size cap and retries.

    ``attempts`` counts every try (3 = one call and two retries). The pause before retry
    ``n`` is a random fraction ("full jitter") of ``min(backoff_max, backoff * 2**n)``, or
    what a 429/503 answer's ``Retry-After`` asks for. ``attempt_deadline`` bounds one try
    from connecting to the last byte of the answer; ``fetch_deadline`` bounds every try and
    pause of one fetch together. A token answer longer than ``max_answer_bytes`` is refused.
    ``sleep`` is how the pauses are taken (a test passes ``lambda seconds: None``).
    """

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    backoff: float = 0.5
    backoff_max: float = 8.0
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    attempt_deadline: float = attrs.field(default=30.0, validator=_positive)
    fetch_deadline: float = attrs.field(default=60.0, validator=_positive)
    max_answer_bytes: int = attrs.field(default=1024 * 1024, validator=attrs.validators.ge(1))
    # How to wait, not a bound: two policies with the same numbers are the same policy.
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)

    def pause(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        ceiling = min(self.backoff_max, self.backoff * 2**retry)
        return random.uniform(0, ceiling)  # noqa: S311 # nosec B311 # jitter, not cryptography


def _within(timeout: Any, policy: RetryPolicy, remaining: float) -> Any:
    """The plugin's timeout (or the policy's), no longer than what is left of the deadline."""
    if timeout is None:
        timeout = (policy.connect_timeout, policy.read_timeout)
    if isinstance(timeout, int | float):
        timeout = (timeout, timeout)
    if isinstance(timeout, tuple) and len(timeout) == 2:
        return tuple(remaining if t is None else min(t, remaining) for t in timeout)
    return timeout  # a urllib3 Timeout: the deadline is still checked between reads


def retry_after(response: requests.Response | None, now: float) -> float | None:
    """Seconds a 429/503 answer asks the client to wait (``Retry-After``), if it says."""
    if response is None or response.status_code not in (429, 503):
        return None
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(min(int(value[:12]), 10**9))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


class TokenSession(requests.Session):
    """A :class:`requests.Session` for token endpoints, handed to ``get_credentials``.

    - every call has a timeout (``RetryPolicy.connect_timeout``/``read_timeout``) and the
      whole answer a deadline (``attempt_deadline``, or what :meth:`deadline` set);
    - answers longer than ``RetryPolicy.max_answer_bytes`` are refused;
    - redirects are not followed: a 307 would re-send the client secret to another host;
    - plain http is refused unless the host is loopback, and loopback never goes through
      a proxy (:mod:`unified_auth.core.proxies`);
    - 5xx and 429 answers, and every failure of ``requests`` itself (connection, timeout,
      truncated or undecodable body), raise ``TokenEndpointError``.
    """

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        super().__init__()
        self.policy = policy or RetryPolicy()
        self.headers["User-Agent"] = "unified-auth"
        # One session serves every target's fetch, each in its own thread.
        self._attempt = threading.local()
        for adapter in self.adapters.values():
            if isinstance(adapter, requests.adapters.HTTPAdapter):
                adapter.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    @contextlib.contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Bound every call made in this thread inside the block to ``seconds`` in all."""
        previous = getattr(self._attempt, "deadline", None)
        self._attempt.deadline = time.monotonic() + max(0.0, seconds)
        try:
            yield
        finally:
            self._attempt.deadline = previous

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # Everything goes through send(), whether a plugin calls get/post/request or send.
        parts = urlsplit(request.url or "")
        host = parts.hostname or "?"
        if parts.scheme == "http" and not is_loopback(host):
            raise InsecureTransportError(
                f"refusing to send credentials to {host} over plain http; "
                f"use an https:// token URL")
        deadline = getattr(self._attempt, "deadline", None)
        if deadline is None:
            deadline = time.monotonic() + self.policy.attempt_deadline
        remaining = self._remaining(deadline, host, request)
        kwargs["timeout"] = _within(kwargs.get("timeout"), self.policy, remaining)
        kwargs["allow_redirects"] = False
        kwargs["proxies"] = session_proxies(self, request, kwargs.get("proxies"), credentials=True)
        kwargs["stream"] = True  # the body is read below, against the deadline
        sending = _SENDING.set(deadline)
        try:
            response = super().send(request, **kwargs)
        except requests.RequestException as exc:
            if isinstance(exc, InsecureTransportError | TokenEndpointError):
                raise
            if time.monotonic() >= deadline:  # the watchdog cut it: say why
                raise self._late(host, request) from exc
            raise TokenEndpointError(
                f"the token endpoint {host} could not be reached "
                f"({type(exc).__name__}); check the network and the token URL",
                request=request) from exc
        finally:
            _SENDING.reset(sending)
        self._read_body(response, host, deadline)
        if response.status_code >= 500 or response.status_code == 429:
            raise TokenEndpointError(
                f"the token endpoint {host} answered {response.status_code} "
                f"{response.reason}; the provider may be having trouble"
                + (" or is throttling this client" if response.status_code == 429 else ""),
                response=response)
        if response.is_redirect:
            raise TokenEndpointError(
                f"the token endpoint {host} answered a redirect ({response.status_code}); "
                f"token requests are never redirected: set the token URL to the final address",
                response=response)
        return response

    def _remaining(self, deadline: float, host: str,
                   request: requests.PreparedRequest) -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._late(host, request)
        return remaining

    def _late(self, host: str, request: requests.PreparedRequest) -> TokenEndpointError:
        return TokenEndpointError(
            f"the token endpoint {host} did not answer within the deadline "
            f"({self.policy.attempt_deadline:g} s per attempt, "
            f"{self.policy.fetch_deadline:g} s per fetch)", request=request)

    def _read_body(self, response: requests.Response, host: str, deadline: float) -> None:
        limit = self.policy.max_answer_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                self._remaining(deadline, host, response.request)
                # read1 returns what has arrived instead of waiting for a full chunk, so
                # a trickle cannot hold us past the deadline by more than one read.
                chunk = response.raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise TokenEndpointError(
                        f"the token endpoint {host} sent an answer longer than {limit} "
                        f"bytes; no token answer is that long", response=response)
                chunks.append(chunk)
        except TokenEndpointError:
            response.close()
            raise
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError,
                ValueError) as exc:
            response.close()
            raise TokenEndpointError(
                f"the token endpoint {host} sent a broken answer ({type(exc).__name__}: "
                f"truncated, badly chunked or badly compressed); the provider or a proxy "
                f"may be having trouble", response=response) from None
        except BaseException:
            response.close()
            raise
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]
        response.raw.release_conn()


# A socket timeout bounds each read, so a server trickling its status line and headers
# would still hold a send() for as long as it likes: a timer cuts the socket at the
# deadline instead. The body is read against the deadline by TokenSession itself.
def _watched(connection: urllib3.connection.HTTPConnection,
             read_head: Callable[[], urllib3.response.HTTPResponse],
             ) -> urllib3.response.HTTPResponse:
    deadline = _SENDING.get()
    sock = connection.sock
    if deadline is None or sock is None:
        return read_head()
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, (sock,))
    watchdog.daemon = True
    watchdog.start()
    try:
        return read_head()
    finally:
        watchdog.cancel()


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        return _watched(self, super().getresponse)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        return _watched(self, super().getresponse)


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
