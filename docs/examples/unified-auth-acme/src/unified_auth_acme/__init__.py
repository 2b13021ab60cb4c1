"""A third-party provider plugin: OAuth 2.0 client credentials for the (imaginary) Acme API.

The distribution ``unified-auth-acme`` (its pyproject.toml is beside ``src/``) is found
through an entry point in the group ``unified_auth``::

    [project.entry-points.unified_auth]
    acme = "unified_auth_acme"

docs/plugins.md explains it piece by piece, docs/plugin-package.md packages it; its own
tests (``tests/``) run against the Liana emulator, whose token endpoint speaks the same
protocol, with the fixtures of unified-auth's pytest plugin.
"""

from __future__ import annotations

import ipaddress
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import attrs
import requests

# Secret and date are imported at run time, not under TYPE_CHECKING: the core reads the
# options class's type hints to know which keys take secret references and which take dates.
from unified_auth import Credentials, RegisterProvider, Secret, Target, hookimpl
from unified_auth.errors import CredentialsRejected, TokenEndpointError

PROVIDER = "acme"
DEFAULT_TOKEN_URL = "https://auth.acme.example/oauth/token"
EXPIRY_WARNING_DAYS = 30


def _token_url(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    # The message names the key (the core reports the key a message mentions) and never
    # quotes the value: a URL can carry a password.
    parts = urlsplit(value)
    if not parts.hostname or parts.username is not None:
        raise ValueError("token_url must be an absolute https:// URL without user:password@")
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
        raise ValueError("token_url must use https (plain http only on a loopback host)")


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@attrs.frozen(kw_only=True)
class AcmeOptions:
    """The config keys of a ``provider = "acme"`` target."""

    client_id: str = attrs.field(validator=attrs.validators.min_len(1))
    client_secret: Secret  # no validator: it holds a reference until the core resolves it
    token_url: str = attrs.field(default=DEFAULT_TOKEN_URL, validator=_token_url)
    scope: str | None = None
    expires_on: date | None = None  # the client credential's own expiration date, if any


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    register(PROVIDER, AcmeOptions)


@hookimpl
def get_credentials(target: Target, http: requests.Session, now: datetime) -> Credentials | None:
    options: AcmeOptions = target.options
    form = {
        "grant_type": "client_credentials",
        "client_id": options.client_id,
        "client_secret": options.client_secret.reveal(),
    }
    if options.scope:
        form["scope"] = options.scope
    response = http.post(options.token_url, data=form, headers={"Accept": "application/json"})
    if response.status_code in (400, 401):
        raise CredentialsRejected(
            f"target {target.name}: Acme refused client id {options.client_id!r} "
            f"({response.status_code}); check client_id and the secret that client_secret "
            f"points to", target=target.name, response=response)
    if response.status_code != 200:
        raise TokenEndpointError(
            f"target {target.name}: the Acme token endpoint answered {response.status_code}; "
            f"expected 200 with a token", target=target.name, response=response)
    try:
        token, lifetime = _token_and_lifetime(response.json())
    except (ValueError, KeyError, TypeError, OverflowError):
        raise TokenEndpointError(
            f"target {target.name}: the Acme token endpoint answered without a usable "
            f"access_token and expires_in", target=target.name, response=response) from None
    return Credentials(value=Secret(token), expires_at=now + lifetime, scope=options.scope)


def _token_and_lifetime(answer: Any) -> tuple[str, timedelta]:
    token, seconds = answer["access_token"], int(answer["expires_in"])
    if not isinstance(token, str) or not token or seconds <= 0:
        raise ValueError("no token, or no lifetime")
    return token, timedelta(seconds=seconds)


@hookimpl
def apply_auth(target: Target, credentials: Credentials,
               request: requests.PreparedRequest) -> bool | None:
    request.headers["Authorization"] = f"Bearer {credentials.value.reveal()}"
    return True


@hookimpl
def target_warnings(target: Target, now: datetime) -> list[str] | None:
    expires_on = target.options.expires_on
    if expires_on is None:
        return []
    days = (expires_on - now.date()).days
    if days < 0:
        return [f"the Acme client credential expired on {expires_on}: create a new one in "
                f"the Acme console, then update client_id, client_secret and expires_on"]
    if days <= EXPIRY_WARNING_DAYS:
        return [f"the Acme client credential expires on {expires_on} (in {days} days): "
                f"create a new one in the Acme console before then"]
    return []


@hookimpl
def explain_response(target: Target, response: requests.Response) -> str | None:
    if response.status_code == 401:
        return ("Acme refused a freshly issued token: the client may have been disabled in "
                "the Acme console, or this host is not served by token_url.")
    if response.status_code == 403:
        return (f"Acme accepted the token but refused the request: check that the client's "
                f"scope ({target.options.scope or 'none requested'}) covers this API.")
    return None


@hookimpl
def probe(target: Target, http: requests.Session) -> str | None:
    url = target.url("/v1/echoMessage")  # on one of the target's hosts; None for a wildcard
    if url is None:
        return None
    response = http.post(url, json=["hello"], timeout=10)
    response.raise_for_status()  # a 401 arrives as AuthFailed, in explain_response's words
    return f"client {target.options.client_id}"
