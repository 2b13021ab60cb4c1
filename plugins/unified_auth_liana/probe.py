"""``check``'s probe: POST ``["hello"]`` to echoMessage, which reads and writes nothing."""

from __future__ import annotations

import requests

from unified_auth import Target
from unified_auth.errors import AccessDenied

__all__ = ["ECHO", "PROBE_TIMEOUT", "probe_echo"]

PROBE_TIMEOUT = (5.0, 15.0)
ECHO = "/v1/echoMessage"
_HELLO = ["hello"]


def probe_echo(target: Target, http: requests.Session) -> str | None:
    """``"client <client_id>"`` once the API echoed the message with the client's token."""
    url = target.url(ECHO)
    if url is None:
        return None
    response = http.post(url, json=_HELLO, timeout=PROBE_TIMEOUT)
    if response.status_code == 403:
        raise AccessDenied(f"target {target.name}: {ECHO} answered 403 Forbidden: the token "
                           f"was accepted but may not use this API (is it licensed?)",
                           target=target.name, response=response)
    response.raise_for_status()
    try:
        echoed = response.json().get("result")
    except (ValueError, AttributeError):
        echoed = None
    if echoed != _HELLO:
        raise AccessDenied(f"target {target.name}: {url} answered {response.status_code} "
                           f"without echoing the message; is it Liana's API?",
                           target=target.name, response=response)
    return f"client {target.options.client_id}"
