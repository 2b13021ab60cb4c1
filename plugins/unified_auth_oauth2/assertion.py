"""RFC 7523 client assertions for ``private_key_jwt``, signed with joserfc (extra ``jwt``).

joserfc is imported on first use, so the provider loads without it; a target that needs it
is refused at config load with the extra to install (:func:`require_jwt_library`). The PEM
is parsed once per secret value (an RSA key takes tens of milliseconds to load and check)
and the parsed key is kept keyed by a digest of the PEM, never by the PEM itself.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
import warnings
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from unified_auth import Secret, Target
from unified_auth.errors import SecretError

if TYPE_CHECKING:
    from joserfc.jwk import ECKey, RSAKey

__all__ = ["ASSERTION_LIFETIME", "ASSERTION_TYPE", "EXTRA", "client_assertion",
           "require_jwt_library"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = timedelta(seconds=60)
"""How long an assertion is valid: short, since it is used once, and well inside the five
minutes servers commonly allow."""
EXTRA = "unified-auth[jwt]"

_KEYS_KEPT = 32
_MIN_RSA_BITS = 2048
_KEY_TYPES = {"RS256": "an RSA", "ES256": "a P-256 EC"}


def require_jwt_library() -> None:
    """Raise :class:`ValueError` naming the extra when joserfc cannot be imported."""
    try:
        import joserfc.jwt  # noqa: F401, PLC0415 (lazy: the extra is optional)
    except ImportError:
        raise ValueError(
            f"auth_method = \"private_key_jwt\" signs a client assertion with joserfc, which "
            f"is not installed: pip install '{EXTRA}'") from None


def client_assertion(target: Target, *, client_id: str, audience: str, private_key: Secret,
                     alg: str, key_id: str | None, now: datetime) -> str:
    """A signed JWT: ``iss`` = ``sub`` = the client id, ``aud`` the token URL, a fresh
    ``jti``, ``iat`` = ``nbf`` = ``now`` and ``exp`` :data:`ASSERTION_LIFETIME` later."""
    from joserfc import jwt  # noqa: PLC0415 (lazy: the extra is optional)

    key = _keys.get(target, private_key, alg)
    issued = int(now.timestamp())
    claims = {"iss": client_id, "sub": client_id, "aud": audience,
              "jti": uuid.uuid4().hex, "iat": issued, "nbf": issued,
              "exp": issued + int(ASSERTION_LIFETIME.total_seconds())}
    header = {"alg": alg, "typ": "JWT"}
    if key_id is not None:
        header["kid"] = key_id
    return jwt.encode(header, claims, key, algorithms=[alg])


class _ParsedKeys:
    """Parsed private keys by a digest of (alg, PEM): a rotated key is parsed anew."""

    def __init__(self) -> None:
        self._keys: OrderedDict[bytes, RSAKey | ECKey] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, target: Target, pem: Secret, alg: str) -> RSAKey | ECKey:
        digest = hashlib.sha256(f"{alg}\0{pem.reveal()}".encode()).digest()
        with self._lock:
            key = self._keys.get(digest)
            if key is not None:
                self._keys.move_to_end(digest)
                return key
        key = _parse(target, pem, alg)
        with self._lock:
            self._keys[digest] = key
            while len(self._keys) > _KEYS_KEPT:
                self._keys.popitem(last=False)
        return key


# Hooks are module-level functions with no per-hub object to hang this on.
_keys = _ParsedKeys()


def _parse(target: Target, pem: Secret, alg: str) -> RSAKey | ECKey:
    from joserfc.errors import JoseError, SecurityWarning  # noqa: PLC0415 (lazy: the extra)
    from joserfc.jwk import ECKey, RSAKey  # noqa: PLC0415 (lazy: the extra is optional)

    expected = _KEY_TYPES[alg]
    key: RSAKey | ECKey
    try:
        with warnings.catch_warnings():
            # A short RSA key is refused below, in words that name the key.
            warnings.simplefilter("ignore", SecurityWarning)
            key = RSAKey.import_key(pem.reveal()) if alg == "RS256" else \
                ECKey.import_key(pem.reveal())
    except (JoseError, ValueError, TypeError):
        # The library's words are not shown: they may quote the value.
        raise _unusable(target, f"is not {expected} private key in PEM form (alg = "
                                f"\"{alg}\"); an encrypted PEM is not supported") from None
    if not key.is_private:
        raise _unusable(target, "is a public key; the client signs with its private key "
                                "(the server holds the public one)")
    if isinstance(key, ECKey) and key.curve_name != "P-256":
        raise _unusable(target, f"is an EC key on {key.curve_name}; ES256 needs P-256")
    bits = getattr(key.raw_value, "key_size", _MIN_RSA_BITS)
    if isinstance(key, RSAKey) and bits < _MIN_RSA_BITS:
        # RFC 7518 3.3; servers (Entra ID among them) refuse shorter keys too.
        raise _unusable(target, f"is an RSA key of {bits} bits; RS256 needs at least "
                                f"{_MIN_RSA_BITS}")
    return key


def _unusable(target: Target, problem: str) -> SecretError:
    return SecretError(f"the value private_key points to {problem}", source=target.source,
                       target=target.name, key="private_key")
