"""The ``liana`` provider's config keys, validated when the core constructs them."""

from __future__ import annotations

import ipaddress
import types
from collections.abc import Mapping
from datetime import date
from typing import Literal
from urllib.parse import urlsplit

import attrs

# Secret and date must be importable at run time: the core reads these type hints to know
# which keys take secret references and which take TOML dates.
from unified_auth import Secret

__all__ = ["DEFAULT_TOKEN_URL", "MAX_TTL", "RESERVED_FORM_FIELDS", "LianaOptions"]

DEFAULT_TOKEN_URL = "https://tokens.lianacloud.com/token"  # nosec B105 # a URL

MAX_TTL = 366 * 24 * 3600
"""A token lifetime beyond a year is a broken answer or config, not a real lifetime."""

RESERVED_FORM_FIELDS = frozenset({"grant_type", "client_id", "client_secret", "scope"})
"""Form fields the provider sets itself: ``extra_params`` may not override them."""


def _token_url(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    # Messages name only this key: the core reports the first key a message mentions.
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("token_url must be an absolute https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("token_url must not carry credentials (user:password@) in the "
                         "URL; the client's id and secret have keys of their own")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"token_url must use https: plain http would send the client "
                         f"secret unencrypted to {parts.hostname} (only loopback hosts may "
                         f"use http)")


def _extra_params(_: object, attribute: attrs.Attribute[Mapping[str, str]],
                  value: Mapping[str, str]) -> None:
    clashes = RESERVED_FORM_FIELDS.intersection(value)
    if clashes:
        # The names are spelt out with spaces so the core names this key, not theirs.
        raise ValueError(
            f"extra_params cannot set {len(clashes)} form field(s) the provider sends "
            f"itself (the grant type, the client id and secret, the requested scopes); "
            f"remove them from extra_params")


def _read_only(value: Mapping[str, str]) -> Mapping[str, str]:
    # A frozen target must not be changed behind the broker's back through a shared dict.
    return types.MappingProxyType(dict(value))


def _is_loopback(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@attrs.frozen(kw_only=True)
class LianaOptions:
    """Config keys of a ``provider = "liana"`` target (OAuth 2.0 client credentials)."""

    client_id: str = attrs.field(validator=attrs.validators.min_len(1))
    client_secret: Secret
    """A secret reference; resolved by the core before ``get_credentials`` is called."""
    token_url: str = attrs.field(default=DEFAULT_TOKEN_URL, validator=_token_url)
    scope: str | None = None
    client_auth: Literal["post", "basic"] = "post"
    """``post``: id and secret in the form (Liana's documented way); ``basic``: RFC 6749
    ``client_secret_basic``."""
    extra_params: Mapping[str, str] = attrs.field(
        factory=dict, converter=_read_only, validator=_extra_params, hash=False)
    """More form fields, sent on every token request."""
    default_ttl: int = attrs.field(
        default=900, validator=[attrs.validators.gt(0), attrs.validators.le(MAX_TTL)])
    """Seconds a token is assumed to live when the answer has no ``expires_in``."""
    expires_on: date | None = None
    """The credential's own expiration date, as set in LianaAccount (valid through it)."""

    def form_fields(self, secret: str | None) -> dict[str, str]:
        """The token request's form; ``secret`` is ``None`` when it goes in a Basic header."""
        form = {"grant_type": "client_credentials"}
        if secret is not None:
            form["client_id"] = self.client_id
            form["client_secret"] = secret
        if self.scope:
            form["scope"] = self.scope
        form.update(self.extra_params)
        return form

