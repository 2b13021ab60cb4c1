"""The session plugins fetch credentials with: timeouts, no redirects, no plain http.

Failures the core should retry (connection errors, timeouts, 5xx) come out of it as
:class:`~unified_auth.errors.TokenEndpointError`, so a plugin never has to tell them apart
from its own parsing errors; the broker retries them with backoff and jitter.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import urlsplit

import attrs
import requests

from unified_auth.errors import InsecureTransportError, TokenEndpointError
from unified_auth.proxies import session_proxies
from unified_auth.routing import is_loopback

__all__ = ["RetryPolicy", "TokenSession"]


@attrs.frozen
class RetryPolicy:
    """How token fetches are bounded: per-call timeouts and retries with backoff.

    ``attempts`` counts every try (3 = one call and two retries). The pause before retry
    ``n`` is a random fraction ("full jitter") of ``min(backoff_max, backoff * 2**n)``.
    """

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    backoff: float = 0.5
    backoff_max: float = 8.0
    connect_timeout: float = 3.05
    read_timeout: float = 10.0

    def pause(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        ceiling = min(self.backoff_max, self.backoff * 2**retry)
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography


class TokenSession(requests.Session):
    """A :class:`requests.Session` for token endpoints, handed to ``get_credentials``.

    - every call has a timeout (``RetryPolicy.connect_timeout``/``read_timeout``);
    - redirects are not followed: a 307 would re-send the client secret to another host;
    - plain http is refused unless the host is loopback, and loopback never goes through
      a proxy (:mod:`unified_auth.proxies`);
    - 5xx answers, connection failures and timeouts raise ``TokenEndpointError``.
    """

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        super().__init__()
        self.policy = policy or RetryPolicy()
        self.headers["User-Agent"] = "unified-auth"

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # Everything goes through send(), whether a plugin calls get/post/request or send.
        parts = urlsplit(request.url or "")
        host = parts.hostname or "?"
        if parts.scheme == "http" and not is_loopback(host):
            raise InsecureTransportError(
                f"refusing to send credentials to {host} over plain http; "
                f"use an https:// token URL")
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (self.policy.connect_timeout, self.policy.read_timeout)
        kwargs["allow_redirects"] = False
        kwargs["proxies"] = session_proxies(self, request, kwargs.get("proxies"), credentials=True)
        try:
            response = super().send(request, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TokenEndpointError(
                f"the token endpoint {host} could not be reached "
                f"({type(exc).__name__}); check the network and the token URL",
                request=request) from exc
        if response.status_code >= 500:
            raise TokenEndpointError(
                f"the token endpoint {host} answered {response.status_code} "
                f"{response.reason}; the provider may be having trouble",
                response=response)
        if response.is_redirect:
            raise TokenEndpointError(
                f"the token endpoint {host} answered a redirect ({response.status_code}); "
                f"token requests are never redirected: set the token URL to the final address",
                response=response)
        return response
