"""The client-credentials token request (RFC 6749 4.4), and what each refusal means (5.2).

``liana`` sends its requests through here too, with its own :class:`Wording`: one request,
one answer parser, one reading of an error answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import attrs
import requests

from unified_auth import Credentials, Target, redact
from unified_auth.errors import CredentialsRejected, TokenEndpointError
from unified_auth_oauth2.answer import credentials_from_answer
from unified_auth_oauth2.client_auth import authenticate
from unified_auth_oauth2.options import OAuth2Options

__all__ = ["GENERIC", "Wording", "request_token"]

# Transient refusals: the core retries them with backoff instead of giving up.
_TRANSIENT_STATUS = (408, 425, 429)
# RFC 6749 4.1.2.1 codes some servers also send from the token endpoint while overloaded.
_TRANSIENT_ERRORS = frozenset({"temporarily_unavailable", "server_error", "slow_down"})
_QUOTE_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@attrs.frozen
class Wording:
    """What a provider's messages call things, and the fix each refusal suggests."""

    endpoint: str
    """How the token endpoint is named: ``the token endpoint``, ``the Liana token endpoint``."""
    refused_client: str
    """After an ``invalid_client`` (or a bare 401) for a client secret: causes and fixes."""
    refused_assertion: str
    """After an ``invalid_client`` for a client assertion (``private_key_jwt``)."""
    hints: Mapping[str, str]
    """RFC 6749 5.2 error code -> what to check, naming the key likely at fault."""
    fallback_hint: str
    """What to check after any other refusal."""
    endpoint_hint: str
    """What to check when the answers are not token answers at all."""


GENERIC = Wording(
    endpoint="the token endpoint",
    refused_client=(
        "Either the client id or secret is wrong (fix client_id, or the secret at the source "
        "client_secret points to); or the secret was rotated at the authorization server "
        "(put the new secret in that source: it is read again without a restart); or the "
        "client was deleted or disabled there, or may not use this auth_method."),
    refused_assertion=(
        "The server did not accept the client assertion: either client_id is wrong, or the "
        "key private_key points to is not the one registered for the client (register its "
        "public key, check alg and key_id); or the server refused the assertion's claims: "
        "this machine's clock must be right (the assertion is valid for 60 s), and the server "
        "must take token_url as the audience (aud) and accept each jti once."),
    hints={
        "invalid_scope": "check scope: the client may not be granted it, or the server "
                         "does not know it",
        "invalid_target": "check resource and audience: the server does not serve that "
                          "API to this client",
        "unauthorized_client": "this client may not use the client credentials grant; "
                               "allow it for the client at the authorization server",
        "unsupported_grant_type": "check that token_url is the server's token endpoint",
        "invalid_request": "check token_url, audience, resource and extra_params",
        "invalid_grant": "check token_url and extra_params",
    },
    fallback_hint="check the target's options against the client registered at the "
                  "authorization server",
    endpoint_hint="check that token_url points at an OAuth 2.0 token endpoint",
)


def request_token(target: Target, http: requests.Session, now: datetime,
                  options: OAuth2Options, wording: Wording = GENERIC) -> Credentials:
    """Fetch an access token for ``target`` (its secrets already resolved) with ``options``."""
    client = authenticate(target, method=options.auth_method, token_url=options.token_url,
                          client_id=options.client_id, client_secret=options.client_secret,
                          private_key=options.private_key, alg=options.alg,
                          key_id=options.key_id, now=now)
    headers = {"Accept": "application/json",
               "Content-Type": "application/x-www-form-urlencoded", **client.headers}
    form = {"grant_type": "client_credentials", **client.form, **options.form_fields()}
    response = http.post(options.token_url, data=form, headers=headers)
    where = f"target {target.name}: {wording.endpoint} {_host(options.token_url)}"
    status = response.status_code
    if 200 <= status < 300:
        return credentials_from_answer(
            response, where=where, now=now, default_ttl=options.default_ttl,
            scope=options.requested_scope, endpoint_hint=wording.endpoint_hint,
            note_key=(target.source, target.name, options.token_url, options.client_id))
    error, description = _oauth_error(response)
    if 400 <= status < 500 and status not in _TRANSIENT_STATUS \
            and error not in _TRANSIENT_ERRORS:
        said = _said(error, description, client.secrets)
        raise _refusal(target, options, wording, response, where, error, said)
    raise TokenEndpointError(
        f"{where} answered {status} {response.reason}; expected 200 with a token",
        target=target.name, response=response)


def _refusal(target: Target, options: OAuth2Options, wording: Wording,
             response: requests.Response, where: str, error: str | None,
             said: str | None) -> CredentialsRejected:
    status = response.status_code
    if status == 401 or error == "invalid_client":
        why = wording.refused_assertion if options.auth_method == "private_key_jwt" else \
            wording.refused_client
        return CredentialsRejected(
            f"{where} rejected client id {options.client_id!r} "
            f"({status} {said or 'Unauthorized'}). {why}",
            target=target.name, response=response)
    hint = wording.hints.get(error or "", wording.fallback_hint)
    return CredentialsRejected(
        f"{where} refused the token request for client id {options.client_id!r} "
        f"({status} {said or response.reason}); {hint}",
        target=target.name, response=response)


def _oauth_error(response: requests.Response) -> tuple[str | None, str | None]:
    """RFC 6749 ``error`` and ``error_description`` of an answer, if it has them."""
    try:
        document: Any = response.json()
    except ValueError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    error, description = document.get("error"), document.get("error_description")
    return (error if isinstance(error, str) and error else None,
            description if isinstance(description, str) and description else None)


# RFC 6749 error codes are short snake_case words; anything else is described, not echoed
# (a broken server may put anything there, a token included).
_ERROR_CODE = re.compile(r"[a-z]{1,20}(_[a-z]{1,20}){0,4}")


def _said(error: str | None, description: str | None, secrets: tuple[str, ...]) -> str | None:
    """``code: description`` as a message may show it, or ``None`` without an error code."""
    if error is None:
        return None
    code = error if _ERROR_CODE.fullmatch(error) else "an error code that is not shown"
    return f"{code}: {_quote(description, secrets)}" if description else code


def _quote(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` from the server, fit for a message: short, one line, without a secret.

    The core's :func:`~unified_auth.redact` masks every form of the secrets sent (a server
    may echo them plain, %-quoted, form-encoded or inside the Basic header) and every word
    shaped like a token or key, which no list of known secrets covers.
    """
    text = _CONTROL.sub(" ", redact(text, secrets, opaque=True)).strip()
    return text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "..."


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or url
