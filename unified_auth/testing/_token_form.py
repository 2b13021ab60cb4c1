"""Reading a client-credentials token request (RFC 6749 4.4.2) as the OAuth 2.0 emulator does."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote_plus

import attrs

from unified_auth.testing._server import Request, Response, parse_basic

__all__ = ["ASSERTION_TYPE", "TokenForm", "oauth_error", "parse"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@attrs.frozen
class TokenForm:
    """The parts of a token request the server decides on."""

    method: str
    """How the client authenticated: client_secret_basic, client_secret_post or
    private_key_jwt."""
    client_id: str | None
    secret: str | None = attrs.field(repr=False)
    assertion: str | None = attrs.field(repr=False)
    assertion_type: str | None
    scope: str | None
    audience: str | None
    resource: str | None


def oauth_error(status: int, error: str, description: str) -> Response:
    """An RFC 6749 5.2 error answer (with the Basic challenge 401 needs)."""
    headers = (("WWW-Authenticate", 'Basic realm="token"'),) if status == 401 else ()
    return Response.json(status, {"error": error, "error_description": description},
                         headers=headers)


def parse(request: Request) -> TokenForm | Response:
    """The token request's form, or the error answer a strict server gives."""
    if request.method != "POST":
        return oauth_error(405, "invalid_request", "use POST")
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return oauth_error(400, "invalid_request", "use application/x-www-form-urlencoded")
    try:
        form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return oauth_error(400, "invalid_request", "the body is not UTF-8")
    repeated = sorted(name for name, values in form.items() if len(values) > 1)
    if repeated:
        return oauth_error(400, "invalid_request", f"repeated parameter {repeated[0]}")
    fields = {name: values[0] for name, values in form.items()}
    if "grant_type" not in fields:
        return oauth_error(400, "invalid_request", "grant_type is missing")
    if fields["grant_type"] != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "only client_credentials")
    header = request.headers.get("authorization")
    ways = [header is not None, "client_secret" in fields, "client_assertion" in fields]
    if sum(ways) > 1:
        return oauth_error(400, "invalid_request", "use one client authentication method")
    client_id, secret, method = fields.get("client_id"), fields.get("client_secret"), ""
    if header is not None:
        basic = parse_basic(header)
        if basic is None:
            return oauth_error(401, "invalid_client", "malformed Basic authorization")
        # RFC 6749 2.3.1: both parts are form-urlencoded before they are joined.
        user, secret = unquote_plus(basic[0]), unquote_plus(basic[1])
        if client_id not in (None, user):
            return oauth_error(400, "invalid_request", "client_id differs from Basic auth")
        client_id, method = user, "client_secret_basic"
    elif "client_assertion" in fields:
        method = "private_key_jwt"
    else:
        method = "client_secret_post"
    return TokenForm(method=method, client_id=client_id, secret=secret,
                     assertion=fields.get("client_assertion"),
                     assertion_type=fields.get("client_assertion_type"),
                     scope=fields.get("scope") or None, audience=fields.get("audience"),
                     resource=fields.get("resource"))
