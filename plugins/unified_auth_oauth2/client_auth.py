"""How the client proves who it is to the token endpoint: RFC 6749 2.3.1 and RFC 7523 2.2.

Each method turns into form fields and headers; the token request adds the grant and the
parameters. The values it returns are the only place the secret or assertion is spelt out.
"""

from __future__ import annotations

import base64
from datetime import datetime
from urllib.parse import quote_plus

import attrs

from unified_auth import Secret, Target
from unified_auth_oauth2.assertion import ASSERTION_TYPE, client_assertion
from unified_auth_oauth2.options import AuthMethod

__all__ = ["ClientAuthentication", "authenticate"]


@attrs.frozen
class ClientAuthentication:
    """What one token request carries to authenticate the client."""

    form: dict[str, str] = attrs.field(repr=False)
    headers: dict[str, str] = attrs.field(repr=False)
    secrets: tuple[str, ...] = attrs.field(repr=False)
    """Every secret value sent (the secret, the assertion, the key it was signed with), so
    what the server says back can be redacted of them."""


def authenticate(target: Target, *, method: AuthMethod, token_url: str, client_id: str,
                 client_secret: Secret | None, private_key: Secret | None, alg: str,
                 key_id: str | None, now: datetime) -> ClientAuthentication:
    """The form fields and headers that authenticate ``client_id`` with ``method``."""
    if method == "private_key_jwt":
        if private_key is None:  # options validation makes this unreachable from config
            raise ValueError("private_key_jwt needs a private key")
        assertion = client_assertion(target, client_id=client_id, audience=token_url,
                                     private_key=private_key, alg=alg, key_id=key_id, now=now)
        # RFC 7523 3: client_id is optional next to an assertion; servers that route by it
        # (Entra ID, Keycloak) want it, and it is no secret.
        return ClientAuthentication(
            form={"client_id": client_id, "client_assertion_type": ASSERTION_TYPE,
                  "client_assertion": assertion},
            headers={}, secrets=(assertion, private_key.reveal()))
    if client_secret is None:
        raise ValueError(f"{method} needs a client secret")
    secret = client_secret.reveal()
    if method == "client_secret_post":
        return ClientAuthentication(form={"client_id": client_id, "client_secret": secret},
                                    headers={}, secrets=(secret,))
    return ClientAuthentication(form={}, headers={"Authorization": _basic(client_id, secret)},
                                secrets=(secret,))


def _basic(client_id: str, secret: str) -> str:
    # RFC 6749 2.3.1: each part is form-encoded before they are joined and base64-encoded.
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")
