"""RS256 and ES256 signing of an RFC 7523 client assertion: joserfc against PyJWT.

Not part of ``python -m benchmarks``: it chose the library behind ``private_key_jwt`` and
is kept to re-check that choice (``python -m benchmarks.jwt_signing``). Both libraries sign
with cryptography, so the figures differ by each library's own overhead: key import from a
PEM once, then one signature per token fetch.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, RSAKey

ROUNDS = 5
PER_ROUND = 200


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _claims() -> dict[str, object]:
    now = int(time.time())
    return {"iss": "client", "sub": "client", "aud": "https://as.example/token",
            "jti": uuid.uuid4().hex, "iat": now, "exp": now + 60}


def _per_call_us(sign: Callable[[], object]) -> float:
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(PER_ROUND):
            sign()
        rounds.append((time.perf_counter() - started) / PER_ROUND * 1e6)
    return statistics.median(rounds)


def main() -> None:
    keys = {"RS256": _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "ES256": _pem(ec.generate_private_key(ec.SECP256R1()))}
    for alg, pem in keys.items():
        for name, micros in _figures(alg, pem).items():
            print(f"{alg}  {name:<20} {micros:8.1f} us/assertion")


def _figures(alg: str, pem: bytes) -> dict[str, float]:
    key_class = RSAKey if alg == "RS256" else ECKey
    pyjwt_key = serialization.load_pem_private_key(pem, password=None)
    jose_key = key_class.import_key(pem)
    header = {"alg": alg, "kid": "k1"}
    return {
        "PyJWT sign": _per_call_us(lambda: jwt.encode(_claims(), pyjwt_key, algorithm=alg,
                                                      headers={"kid": "k1"})),
        "joserfc sign": _per_call_us(lambda: jose_jwt.encode(header, _claims(), jose_key,
                                                              algorithms=[alg])),
        "PyJWT import+sign": _per_call_us(lambda: jwt.encode(_claims(), pem.decode(),
                                                             algorithm=alg)),
        "joserfc import+sign": _per_call_us(
            lambda: jose_jwt.encode(header, _claims(), key_class.import_key(pem),
                                    algorithms=[alg])),
    }


if __name__ == "__main__":
    main()
