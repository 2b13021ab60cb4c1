"""The client-credentials token request, and what each kind of refusal means for the user."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit

import requests

from unified_auth import Credentials, Target, redact
from unified_auth.errors import CredentialsRejected, TokenEndpointError
from unified_auth_liana.answer import credentials_from_answer
from unified_auth_liana.options import LianaOptions

__all__ = ["request_token"]

# Transient refusals: the core retries them with backoff instead of giving up.
_TRANSIENT = (408, 425, 429)
_QUOTE_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

_HINTS = {
    "invalid_scope": "check the target's scope: the credential may not be allowed it",
    "unauthorized_client": "this credential may not use the client credentials grant; "
                           "check it in LianaAccount",
    "unsupported_grant_type": "check that token_url is Liana's token endpoint",
    "invalid_request": "check token_url and extra_params",
}


def request_token(target: Target, http: requests.Session, now: datetime) -> Credentials:
    """Fetch an access token for ``target`` (its ``client_secret`` already resolved)."""
    options: LianaOptions = target.options
    secret = options.client_secret.reveal()
    headers = {"Accept": "application/json",
               "Content-Type": "application/x-www-form-urlencoded"}
    if options.client_auth == "basic":
        headers["Authorization"] = _basic(options.client_id, secret)
        form = options.form_fields(None)
    else:
        form = options.form_fields(secret)
    response = http.post(options.token_url, data=form, headers=headers)
    where = f"target {target.name}: the Liana token endpoint {_host(options.token_url)}"
    status = response.status_code
    if 200 <= status < 300:
        return credentials_from_answer(
            response, where=where, now=now, default_ttl=options.default_ttl,
            scope=options.scope,
            note_key=(target.source, target.name, options.token_url, options.client_id))
    if 400 <= status < 500 and status not in _TRANSIENT:
        raise _refusal(target, options, response, where, secret)
    raise TokenEndpointError(
        f"{where} answered {status} {response.reason}; expected 200 with a token",
        target=target.name, response=response)


def _refusal(target: Target, options: LianaOptions, response: requests.Response,
             where: str, secret: str) -> CredentialsRejected:
    error, description = _oauth_error(response)
    code = _error_code(error)
    if response.status_code == 401 or error == "invalid_client":
        return CredentialsRejected(
            f"{where} rejected client id {options.client_id!r} "
            f"({response.status_code} {code or 'Unauthorized'}). Either the client id or "
            f"secret is wrong (fix client_id, or the secret at the source client_secret "
            f"points to); or the secret was rotated in LianaAccount, which stops the old "
            f"one at once (put the new secret in that source: it is read again without a "
            f"restart); or the credential was deleted or has passed its expiration date "
            f"(create a new one in LianaAccount, then update client_id, client_secret's "
            f"source and expires_on).",
            target=target.name, response=response)
    said = f"{code}: {_quote(description, secret)}" if code and description else code
    hint = _HINTS.get(error or "", "check the target's options against the credential in "
                                   "LianaAccount")
    return CredentialsRejected(
        f"{where} refused the token request for client id {options.client_id!r} "
        f"({response.status_code} {said or response.reason}); {hint}",
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


def _error_code(error: str | None) -> str | None:
    if error is None:
        return None
    return error if _ERROR_CODE.fullmatch(error) else "an error code that is not shown"


def _quote(text: str, secret: str) -> str:
    """``text`` from the server, fit for a message: short, one line, without the secret.

    The core's :func:`~unified_auth.redact` masks every form of the secret (a server may
    echo it plain, %-quoted, form-encoded or inside the Basic header it was sent in) and
    every word shaped like a token, which no list of known secrets covers.
    """
    text = _CONTROL.sub(" ", redact(text, [secret], opaque=True)).strip()
    return text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "..."


def _basic(client_id: str, secret: str) -> str:
    # RFC 6749 2.3.1: each part is form-encoded before they are joined and base64-encoded.
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or url
