"""The ``oauth2`` provider's config keys, validated when the core constructs them.

The validators here are shared with ``liana``, which is this provider with Liana's token URL:
one rule for what a token URL may be and which form fields are the provider's own.
"""

from __future__ import annotations

import ipaddress
import types
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs

# Secret must be importable at run time: the core reads these type hints to know which
# keys take secret references.
from unified_auth import Secret
from unified_auth.errors import ConfigError
from unified_auth_oauth2.assertion import require_jwt_library

__all__ = [
    "ALGORITHMS",
    "AUTH_METHODS",
    "DEFAULT_TTL",
    "MAX_TTL",
    "RESERVED_FORM_FIELDS",
    "AuthMethod",
    "OAuth2Options",
    "check_extra_params",
    "check_token_url",
    "read_only",
]

AuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt"]
AUTH_METHODS: tuple[AuthMethod, ...] = ("client_secret_basic", "client_secret_post",
                                        "private_key_jwt")
ALGORITHMS = ("RS256", "ES256")

DEFAULT_TTL = 3600
"""Seconds a token is assumed to live when the answer has no ``expires_in`` (RFC 6749 5.1
makes it optional); one hour is what most authorization servers issue."""

MAX_TTL = 366 * 24 * 3600
"""A token lifetime beyond a year is a broken answer or config, not a real lifetime."""

RESERVED_FORM_FIELDS = frozenset({
    "grant_type", "client_id", "client_secret", "scope", "client_assertion",
    "client_assertion_type"})
"""Form fields the provider sets itself: ``extra_params`` may not override them."""


def check_token_url(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    """``token_url`` is an absolute https URL (http only on loopback), without userinfo."""
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


def check_extra_params(_: object, attribute: attrs.Attribute[Mapping[str, str]],
                       value: Mapping[str, str]) -> None:
    """``extra_params`` sets no form field the provider sends itself."""
    clashes = RESERVED_FORM_FIELDS.intersection(value)
    if clashes:
        # The names are spelt out with spaces so the core names this key, not theirs.
        raise ValueError(
            f"extra_params cannot set {len(clashes)} form field(s) the provider sends "
            f"itself (the grant type, the client id and secret or assertion, the requested "
            f"scopes); remove them from extra_params")


def read_only(value: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only copy: a frozen target must not change behind the broker's back."""
    return types.MappingProxyType(dict(value))


def _scope(value: str | Sequence[str] | None) -> str | None:
    # RFC 6749 3.3: a space-delimited list; a TOML list is joined so the two spellings match.
    if value is None or isinstance(value, str):
        return value or None
    return " ".join(value) or None


def _scope_words(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, str) and any((ord(c) < 0x21 and c != " ") or c in '"\\' for c in value):
        raise ValueError('scope must be words of printable characters without " or \\ '
                         "(RFC 6749 3.3), separated by spaces")


def _is_loopback(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check(options: OAuth2Options) -> None:
    # Checks of several keys together: ConfigError(key=...) pins each to the key at fault.
    for key in ("audience", "resource"):
        if getattr(options, key) is not None and key in options.extra_params:
            raise ConfigError(f"extra_params sets the {key} form field, and so does the "
                              f"target's own {key} key; keep one of them", key="extra_params")
    problem = _credential_for_method(options)
    if problem is not None:
        raise ConfigError(problem[1], key=problem[0])
    if options.auth_method == "private_key_jwt":
        try:
            require_jwt_library()
        except ValueError as exc:
            raise ConfigError(str(exc), key="auth_method") from None


def _credential_for_method(options: OAuth2Options) -> tuple[str, str] | None:
    """``(key, problem)`` when the secret keys do not fit ``auth_method``."""
    if options.auth_method == "private_key_jwt":
        if options.private_key is None:
            return "private_key", ("private_key is required with auth_method = "
                                   "\"private_key_jwt\": a secret reference to the PEM "
                                   "private key")
        if options.client_secret is not None:
            return "client_secret", ("client_secret is not used with auth_method = "
                                     "\"private_key_jwt\" (the client signs with "
                                     "private_key); remove it")
        return None
    if options.client_secret is None:
        return "client_secret", (f"client_secret is required with auth_method = "
                                 f"\"{options.auth_method}\": a secret reference to the "
                                 f"client secret (or use auth_method = \"private_key_jwt\" "
                                 f"with private_key)")
    if options.private_key is not None:
        return "private_key", (f"private_key is only used with auth_method = "
                               f"\"private_key_jwt\", not \"{options.auth_method}\"; remove "
                               f"it or change auth_method")
    return None


@attrs.frozen(kw_only=True)
class OAuth2Options:
    """Config keys of a ``provider = "oauth2"`` target (RFC 6749 4.4 client credentials)."""

    token_url: str = attrs.field(validator=check_token_url)
    """The authorization server's token endpoint; also the ``aud`` of a client assertion."""
    client_id: str = attrs.field(validator=attrs.validators.min_len(1))
    auth_method: AuthMethod = "client_secret_basic"
    """How the client authenticates (RFC 6749 2.3.1, RFC 7523 2.2)."""
    client_secret: Secret | None = None
    """A secret reference, for ``client_secret_basic`` and ``client_secret_post``."""
    private_key: Secret | None = None
    """A secret reference to a PEM private key (PKCS#8 or traditional, unencrypted), for
    ``private_key_jwt``."""
    alg: Literal["RS256", "ES256"] = "RS256"
    """The client assertion's signing algorithm: RS256 (an RSA key) or ES256 (a P-256 key)."""
    key_id: str | None = attrs.field(default=None,
                                     validator=attrs.validators.optional(
                                         attrs.validators.min_len(1)))
    """Sent as the assertion's ``kid``, when the server holds several keys for the client."""
    scope: str | tuple[str, ...] | None = attrs.field(default=None, converter=_scope,
                                                      validator=_scope_words)
    """Requested scopes: a string or a list, sent space-joined."""
    audience: str | None = None
    """Sent as the ``audience`` form field (Auth0, Okta custom servers)."""
    resource: str | None = None
    """Sent as the ``resource`` form field (RFC 8707 resource indicator)."""
    extra_params: Mapping[str, str] = attrs.field(
        factory=dict, converter=read_only, validator=check_extra_params, hash=False)
    """More form fields, sent on every token request."""
    default_ttl: int = attrs.field(
        default=DEFAULT_TTL, validator=[attrs.validators.gt(0), attrs.validators.le(MAX_TTL)])
    """Seconds a token is assumed to live when the answer has no ``expires_in``."""
    probe_url: str | None = None
    """A harmless URL on the target's hosts that ``unified-auth check`` GETs with the token."""

    def __attrs_post_init__(self) -> None:
        _check(self)

    @property
    def requested_scope(self) -> str | None:
        """The scopes to request, space-joined (the converter has joined a list already)."""
        return self.scope if isinstance(self.scope, str) else _scope(self.scope)

    def form_fields(self) -> dict[str, str]:
        """The token request's form, without the client's authentication."""
        form = {"grant_type": "client_credentials"}
        if self.requested_scope:
            form["scope"] = self.requested_scope
        if self.audience is not None:
            form["audience"] = self.audience
        if self.resource is not None:
            form["resource"] = self.resource
        form.update(self.extra_params)
        return form
