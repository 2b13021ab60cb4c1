"""How the OAuth 2.0 emulator checks an RFC 7523 client assertion, and makes test keys.

Signatures are verified with joserfc (the ``jwt`` extra), the claims here, so each refusal
can say which rule the assertion broke, as a strict authorization server does.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_ASSERTION_LIFETIME", "MAX_CLOCK_SKEW", "assertion_problem", "new_key_pair",
           "unverified_claims"]

MAX_ASSERTION_LIFETIME = 300
"""Seconds an assertion may be valid for (``exp`` - ``iat``), as most servers allow."""
MAX_CLOCK_SKEW = 60
"""Seconds an ``iat``/``nbf`` may be ahead of the server's clock."""


def new_key_pair(alg: str) -> tuple[str, str]:
    """``(private_pem, public_pem)``: an RSA-2048 key for RS256, a P-256 key for ES256."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 (lazy)
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: PLC0415 (lazy)

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if alg == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"alg must be RS256 or ES256, got {alg!r}")
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


def unverified_claims(assertion: str) -> dict[str, Any] | None:
    """The claims of a compact JWT, unverified (to find the client), or ``None``."""
    from joserfc.util import urlsafe_b64decode  # noqa: PLC0415 (lazy)

    parts = assertion.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(urlsafe_b64decode(parts[1].encode()))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def assertion_problem(assertion: str, *, public_key: str, alg: str, key_id: str | None,
                      client_id: str, audience: str, now: float) -> str | None:
    """Why ``assertion`` does not authenticate ``client_id``, or ``None`` if it does."""
    from joserfc import jws  # noqa: PLC0415 (lazy)
    from joserfc.errors import JoseError  # noqa: PLC0415 (lazy)
    from joserfc.jwk import ECKey, RSAKey  # noqa: PLC0415 (lazy)

    key = RSAKey.import_key(public_key) if alg == "RS256" else ECKey.import_key(public_key)
    try:
        compact = jws.deserialize_compact(assertion, key, algorithms=[alg])
    except JoseError:
        return "the assertion's signature does not verify with the registered key"
    if compact.protected.get("alg") != alg:
        return f"the assertion is not signed with {alg}"
    if key_id is not None and compact.protected.get("kid") != key_id:
        return "the assertion's kid is not the registered key id"
    try:
        claims = json.loads(compact.payload)
    except ValueError:
        return "the assertion's payload is not JSON"
    if not isinstance(claims, dict):
        return "the assertion's payload is not a JSON object"
    return _claims_problem(claims, client_id=client_id, audience=audience, now=now)


def _claims_problem(claims: dict[str, Any], *, client_id: str, audience: str,
                    now: float) -> str | None:
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return "the assertion's iss and sub must both be the client id"
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        return "the assertion's aud is not this server's token endpoint"
    exp, iat = claims.get("exp"), claims.get("iat", claims.get("nbf"))
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return "the assertion has no exp"
    if exp <= now:
        return "the assertion has expired (exp is in the past: is the client's clock right?)"
    if isinstance(iat, int | float) and iat > now + MAX_CLOCK_SKEW:
        return "the assertion is issued in the future (iat: is the client's clock right?)"
    if exp - (iat if isinstance(iat, int | float) else now) > MAX_ASSERTION_LIFETIME:
        return f"the assertion is valid for more than {MAX_ASSERTION_LIFETIME} s"
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        return "the assertion has no jti"
    return None
