"""The API token as credentials: handed out as it is (the core checks it fit for a header)."""

from __future__ import annotations

from unified_auth import Credentials, Target
from unified_auth_liquidplanner.options import LiquidPlannerOptions

__all__ = ["token_credentials"]



def token_credentials(target: Target) -> Credentials:
    """The target's token as non-expiring credentials: no network, no timer."""
    options: LiquidPlannerOptions = target.options
    scheme = "Bearer"  # nosec B105 # a scheme name, not a password
    return Credentials(value=options.token, expires_at=None, token_type=scheme)
