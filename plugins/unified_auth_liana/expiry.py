"""The credential's own expiration date (``expires_on``): warn ahead, refuse once past."""

from __future__ import annotations

from datetime import datetime

from unified_auth import Target
from unified_auth.errors import CredentialsRejected
from unified_auth_liana.options import LianaOptions

__all__ = ["WARN_DAYS", "expiry_warnings", "refuse_if_expired"]

WARN_DAYS = 14
"""How many days ahead of ``expires_on`` the user is warned."""

_RENEW = ("create a new credential in LianaAccount and update client_id, the secret "
          "client_secret points to and expires_on")


def expiry_warnings(options: LianaOptions, now: datetime) -> list[str]:
    """A warning when ``expires_on`` is at most :data:`WARN_DAYS` away, or already past."""
    if options.expires_on is None:
        return []
    days = (options.expires_on - now.date()).days
    credential = f"the Liana credential (client id {options.client_id!r})"
    if days < 0:
        return [f"{credential} passed its expiration date {options.expires_on} and Liana "
                f"refuses it; {_RENEW}"]
    if days > WARN_DAYS:
        return []
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return [f"{credential} expires {when} ({options.expires_on}); before then, {_RENEW}"]


def refuse_if_expired(target: Target, options: LianaOptions, now: datetime) -> None:
    """Raise :class:`CredentialsRejected` for a credential past ``expires_on``, offline."""
    if options.expires_on is None or now.date() <= options.expires_on:
        return
    raise CredentialsRejected(
        f"target {target.name}: the Liana credential (client id {options.client_id!r}) "
        f"passed its expiration date {options.expires_on} (expires_on), so no token was "
        f"requested; {_RENEW}", target=target.name)
