"""What a 401 that survived the core's retry means for each of these providers."""

from __future__ import annotations

from unified_auth import AuthAnswer

__all__ = ["explain"]

_UNAUTHORIZED = {
    "liana-legacy": (
        "Liana refused the request signature: check realm, user_id and the secret (it may "
        "have been changed in Liana), and that this machine's clock is right, as the signed "
        "Date may be at most 15 minutes off the server's."),
    "basic": (
        "the server refused the username and password: check both, and whether the "
        "password was changed (update the secret password points to) or the account "
        "locked."),
    "api-key": (
        "the server refused the API key: it may be wrong, revoked or expired, or it may "
        "belong in another header or need a prefix; check header, prefix and the secret "
        "key points to."),
}


def explain(provider: str, response: AuthAnswer) -> str | None:
    """The explanation of a 401 for ``provider``, else ``None``."""
    if response.status_code != 401:
        return None
    return _UNAUTHORIZED.get(provider)
