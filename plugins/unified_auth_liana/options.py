"""The ``liana`` provider's config keys, validated when the core constructs them.

Liana's token endpoint is an OAuth 2.0 client-credentials endpoint: :meth:`LianaOptions.as_oauth2`
turns these keys into the ``oauth2`` provider's, whose request and parser ``liana`` uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

import attrs
from unified_auth_oauth2.options import (
    MAX_TTL,
    AuthMethod,
    OAuth2Options,
    check_extra_params,
    check_token_url,
    read_only,
)

# Secret and date must be importable at run time: the core reads these type hints to know
# which keys take secret references and which take TOML dates.
from unified_auth import Secret

__all__ = ["DEFAULT_TOKEN_URL", "LianaOptions"]

DEFAULT_TOKEN_URL = "https://tokens.lianacloud.com/token"  # nosec B105 # a URL

_AUTH_METHODS: dict[str, AuthMethod] = {"post": "client_secret_post",
                                        "basic": "client_secret_basic"}


@attrs.frozen(kw_only=True)
class LianaOptions:
    """Config keys of a ``provider = "liana"`` target (OAuth 2.0 client credentials)."""

    client_id: str = attrs.field(validator=attrs.validators.min_len(1))
    client_secret: Secret
    """A secret reference; resolved by the core before ``get_credentials`` is called."""
    token_url: str = attrs.field(default=DEFAULT_TOKEN_URL, validator=check_token_url)
    scope: str | None = None
    client_auth: Literal["post", "basic"] = "post"
    """``post``: id and secret in the form (Liana's documented way); ``basic``: RFC 6749
    ``client_secret_basic``."""
    extra_params: Mapping[str, str] = attrs.field(
        factory=dict, converter=read_only, validator=check_extra_params, hash=False)
    """More form fields, sent on every token request."""
    default_ttl: int = attrs.field(
        default=900, validator=[attrs.validators.gt(0), attrs.validators.le(MAX_TTL)])
    """Seconds a token is assumed to live when the answer has no ``expires_in``."""
    expires_on: date | None = None
    """The credential's own expiration date, as set in LianaAccount (valid through it)."""

    def as_oauth2(self) -> OAuth2Options:
        """The same client as an ``oauth2`` target's options (what its token request uses)."""
        return OAuth2Options(
            token_url=self.token_url, client_id=self.client_id,
            auth_method=_AUTH_METHODS[self.client_auth],
            client_secret=self.client_secret, scope=self.scope,
            extra_params=self.extra_params, default_ttl=self.default_ttl)
