"""The ``liana-legacy`` provider: every request signed with the user's secret."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from unified_auth import AuthRequest, Credentials, Target
from unified_auth.errors import PluginError
from unified_auth_legacy.body import UnsignableBody, wire_body
from unified_auth_legacy.options import LianaLegacyOptions
from unified_auth_legacy.signature import CONTENT_TYPE, sign

__all__ = ["PLUGIN", "apply_signature", "signing_credentials"]

PLUGIN = "legacy"
"""The entry-point name errors blame."""


def signing_credentials(target: Target) -> Credentials:
    """The signing secret itself: nothing to fetch, nothing that expires."""
    options: LianaLegacyOptions = target.options
    return Credentials(value=options.secret, expires_at=None)


def apply_signature(target: Target, credentials: Credentials,
                    request: AuthRequest, now: datetime) -> None:
    """Sign ``request`` as sent: its body bytes, path and query, and a Date of ``now``."""
    options: LianaLegacyOptions = target.options
    method = (request.method or "GET").upper()
    try:
        body = wire_body(request)
    except UnsignableBody as exc:
        host = urlsplit(request.url or "").hostname or "the API"
        raise PluginError(
            f"target {target.name}: cannot sign this {method} request to {host} with the "
            f"liana-legacy method, whose signature covers the body: {exc}; pass the body "
            f"as bytes, a str or a seekable file (open(path, 'rb'), io.BytesIO) instead",
            plugin=PLUGIN) from None
    date = now.isoformat(timespec="seconds")
    signature = sign(secret=credentials.value.reveal(), method=method, body=body,
                     date=date, path=request.path_url)
    request.headers["Content-Type"] = CONTENT_TYPE
    request.headers["Content-MD5"] = signature.content_md5
    request.headers["Date"] = date
    request.headers["Authorization"] = signature.authorization(options.realm,
                                                               str(options.user_id))
