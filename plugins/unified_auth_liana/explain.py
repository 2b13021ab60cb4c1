"""What a 401 or 403 from a Liana API means, in Liana's terms."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from unified_auth import AuthAnswer, Target
from unified_auth.errors import AccessDenied

__all__ = ["explain"]

# Error bodies are small; a larger one is not what we look for and is left unread.
_READ_LIMIT = 64 * 1024
_NOT_ENABLED = re.compile(r"not\s+enabled", re.IGNORECASE)

_UNAUTHORIZED = (
    "Liana refused a freshly issued access token: the credential may have been deleted, or "
    "its tokens revoked, in LianaAccount, or this host belongs to a Liana service that "
    "token_url does not issue tokens for.")
_FORBIDDEN = (
    "Liana accepted the token but refused this request: check in LianaAccount that the "
    "credential may use this API and scope.")


def explain(target: Target, response: AuthAnswer) -> str | None:
    """An explanation of a 401/403, or :class:`AccessDenied` for an unlicensed API."""
    if response.status_code == 401:
        return _UNAUTHORIZED
    if response.status_code != 403:
        return None
    if _NOT_ENABLED.search(_body(response)):
        host = urlsplit(response.url).hostname or "the Liana API"
        raise AccessDenied(
            f"target {target.name}: {host} answered 403: this API is not enabled for your "
            f"Liana account. Some Liana APIs (LianaMonitor among them) need a separate API "
            f"license besides the product's; ask Liana customer service or your Liana "
            f"account manager to enable the API license, then retry. The credentials "
            f"themselves are fine.", target=target.name, response=response)
    return _FORBIDDEN


def _body(response: AuthAnswer) -> str:
    # The core reads only a short body; a longer one arrives empty.
    return response.text[:_READ_LIMIT]
