"""The API token as credentials: handed out as it is, and checked fit for a header."""

from __future__ import annotations

import re

from unified_auth import Credentials, Target
from unified_auth.errors import SecretError
from unified_auth_liquidplanner.options import LiquidPlannerOptions

__all__ = ["token_credentials"]

# What can go in a header value: a control character would break the request line, and
# http.client would then quote the whole value, token included, in its error.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


def token_credentials(target: Target) -> Credentials:
    """The target's token as non-expiring credentials: no network, no timer."""
    options: LiquidPlannerOptions = target.options
    if not _HEADER_SAFE.fullmatch(options.token.reveal()):
        raise SecretError(
            "the API token contains spaces or control characters, so it cannot be sent in "
            "an Authorization header; copy it again from LiquidPlanner, without line breaks",
            source=target.source, target=target.name, key="token")
    scheme = "Bearer"  # nosec B105 # a scheme name, not a password
    return Credentials(value=options.token, expires_at=None, token_type=scheme)
