"""``check``'s probe: GET the target's ``probe_url`` with the token, when it has one."""

from __future__ import annotations

import requests

from unified_auth import Target
from unified_auth.errors import AccessDenied, ConfigError

__all__ = ["PROBE_TIMEOUT", "probe_url"]

PROBE_TIMEOUT = (5.0, 15.0)


def probe_url(target: Target, http: requests.Session) -> str | None:
    """``client <client_id> (GET <url>: 200 OK)``, or ``None`` without a ``probe_url``."""
    url: str | None = target.options.probe_url
    if url is None:
        return None
    if not target.covers(url):
        raise ConfigError(
            f"{url} is not on one of the target's hosts ({', '.join(target.hosts)}), so "
            f"the probe would not carry its token; pick a URL under them",
            source=target.source, target=target.name, key="probe_url")
    response = http.get(url, timeout=PROBE_TIMEOUT)
    if response.status_code == 403:
        raise AccessDenied(f"target {target.name}: {url} answered 403 Forbidden: the token "
                           f"was accepted but may not use this API (check scope, audience "
                           f"and resource)", target=target.name, response=response)
    response.raise_for_status()
    return (f"client {target.options.client_id} (GET {url}: {response.status_code} "
            f"{response.reason})")
