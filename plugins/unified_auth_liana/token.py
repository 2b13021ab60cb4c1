"""Liana's token request: the ``oauth2`` provider's, in Liana's words."""

from __future__ import annotations

from datetime import datetime

import requests
from unified_auth_oauth2 import GENERIC, Wording, request_token

from unified_auth import Credentials, Target
from unified_auth_liana.options import LianaOptions

__all__ = ["LIANA", "request_liana_token"]

LIANA = Wording(
    endpoint="the Liana token endpoint",
    refused_client=(
        "Either the client id or secret is wrong (fix client_id, or the secret at the source "
        "client_secret points to); or the secret was rotated in LianaAccount, which stops the "
        "old one at once (put the new secret in that source: it is read again without a "
        "restart); or the credential was deleted or has passed its expiration date (create a "
        "new one in LianaAccount, then update client_id, client_secret's source and "
        "expires_on)."),
    refused_assertion=GENERIC.refused_assertion,  # Liana takes no assertions
    hints={
        "invalid_scope": "check the target's scope: the credential may not be allowed it",
        "unauthorized_client": "this credential may not use the client credentials grant; "
                               "check it in LianaAccount",
        "unsupported_grant_type": "check that token_url is Liana's token endpoint",
        "invalid_request": "check token_url and extra_params",
    },
    fallback_hint="check the target's options against the credential in LianaAccount",
    endpoint_hint="check that token_url points at Liana's token endpoint",
)


def request_liana_token(target: Target, http: requests.Session, now: datetime) -> Credentials:
    """Fetch an access token for a ``liana`` target (its ``client_secret`` resolved)."""
    options: LianaOptions = target.options
    return request_token(target, http, now, options.as_oauth2(), LIANA)
