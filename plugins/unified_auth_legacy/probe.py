"""``check``'s probes: Liana's echoMessage for signed requests, ``probe_url`` for the others."""

from __future__ import annotations

from typing import Any

import requests

from unified_auth import Target
from unified_auth.errors import AccessDenied, ConfigError

__all__ = ["ECHO", "PROBE_TIMEOUT", "probe_echo", "probe_url"]

PROBE_TIMEOUT = (5.0, 15.0)
ECHO = "/api/v1/echoMessage"
_HELLO = ["hello"]


def probe_echo(target: Target, http: requests.Session) -> str | None:
    """POST ``["hello"]`` to echoMessage: a signed request Liana verifies and writes nothing."""
    url = target.url(ECHO)
    if url is None:
        return None
    response = http.post(url, json=_HELLO, timeout=PROBE_TIMEOUT)
    _refuse_unless_ok(target, response, ECHO)
    if _json(response).get("result") != _HELLO:
        raise AccessDenied(
            f"target {target.name}: {ECHO} answered {response.status_code} without echoing "
            f"the message; is {url} a Liana legacy API?", target=target.name,
            response=response)
    return f"user {target.options.user_id} in realm {target.options.realm}"


def probe_url(target: Target, http: requests.Session, who: str) -> str | None:
    """GET the target's ``probe_url``, if it has one; ``who`` names the credentials."""
    url: str | None = target.options.probe_url
    if url is None:
        return None
    if not target.covers(url):
        raise ConfigError(
            f"{url} is not on one of the target's hosts ({', '.join(target.hosts)}), so "
            f"the probe would not carry its credentials; pick a URL under them",
            source=target.source, target=target.name, key="probe_url")
    response = http.get(url, timeout=PROBE_TIMEOUT)
    _refuse_unless_ok(target, response, url)
    return f"{who} (GET {url}: {response.status_code} {response.reason})"


def _refuse_unless_ok(target: Target, response: requests.Response, what: str) -> None:
    if response.status_code == 403:
        raise AccessDenied(f"target {target.name}: {what} answered 403 Forbidden: the "
                           f"credentials were accepted but may not use this API",
                           target=target.name, response=response)
    response.raise_for_status()


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
