"""What a 401 or 403 from an API means when its token came from an OAuth 2.0 server."""

from __future__ import annotations

from unified_auth import AuthAnswer, Target

__all__ = ["explain"]

_UNAUTHORIZED = (
    "the API refused a freshly issued access token: it may be meant for another API (check "
    "audience and resource), lack a scope the API needs (check scope), or come from an "
    "authorization server this API does not trust (check token_url).")
_FORBIDDEN = (
    "the API accepted the token but refused this request: check that the client is granted "
    "the scope this API needs (scope).")


def explain(target: Target, response: AuthAnswer) -> str | None:
    """An explanation of a 401/403 in terms of the target's keys, or ``None``."""
    if response.status_code == 401:
        return _UNAUTHORIZED
    if response.status_code == 403:
        return _FORBIDDEN
    return None
