"""Liana's legacy request signature, as a pure function of what goes on the wire.

The string to sign is six lines joined by ``\\n`` (no trailing newline): the method, the
body's Content-MD5 (lowercase hex), ``application/json``, the Date header, the body, and
the path with its query string. The signature is the lowercase hex HMAC-SHA256 of it, keyed
with the user's secret (UTF-8), sent as ``Authorization: <realm> <user_id>:<signature>``.
"""

from __future__ import annotations

import hashlib
import hmac

import attrs

__all__ = ["CONTENT_TYPE", "Signature", "sign", "string_to_sign"]

CONTENT_TYPE = "application/json"
"""The content type every signed request declares, and signs."""


@attrs.frozen
class Signature:
    """The signature of one request and the Content-MD5 it covers."""

    content_md5: str
    # Anyone holding it can replay the request until its Date goes stale: keep it out of logs.
    signature: str = attrs.field(repr=False)

    def authorization(self, realm: str, user_id: str) -> str:
        """The ``Authorization`` header value: ``<realm> <user_id>:<signature>``."""
        return f"{realm} {user_id}:{self.signature}"


def string_to_sign(*, method: str, content_md5: str, date: str, body: bytes,
                   path: str) -> bytes:
    """The six lines the signature covers, as bytes (the body exactly as sent)."""
    head = [method.upper(), content_md5, CONTENT_TYPE, date]
    return b"\n".join([*(part.encode() for part in head), body, path.encode()])


def sign(*, secret: str, method: str, body: bytes, date: str, path: str) -> Signature:
    """Sign a request: ``body`` is the bytes sent (``b""`` for none), ``path`` includes
    the query string, ``date`` is the exact Date header value."""
    content_md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
    message = string_to_sign(method=method, content_md5=content_md5, date=date, body=body,
                             path=path)
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return Signature(content_md5, digest)
