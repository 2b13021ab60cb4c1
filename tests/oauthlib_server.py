"""An authorization server we did not write: oauthlib's BackendApplicationServer on loopback.

The oauth2 provider is tested against it so that "the emulator agrees with the client" is
not the only evidence: oauthlib parses the token request and writes the answer itself. Its
RequestValidator here holds one confidential client, authenticating it with
client_secret_basic or client_secret_post (oauthlib leaves that to the validator), and
allows a set of scopes and audiences.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
from typing import Any
from urllib.parse import unquote_plus

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth2 import BackendApplicationServer, RequestValidator
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

from unified_auth.testing._server import EmulatorServer, Request, Response


class _Validator(RequestValidator):  # type: ignore[misc]
    def __init__(self, client_id: str, secret: str, scopes: set[str],
                 audiences: set[str]) -> None:
        self.client_id, self.secret = client_id, secret
        self.scopes, self.audiences = scopes, audiences
        self.tokens: dict[str, dict[str, Any]] = {}
        self.methods: list[str] = []
        self.lock = threading.Lock()

    def authenticate_client(self, request: OAuthRequest, *args: Any, **kwargs: Any) -> bool:
        client_id, secret, method = self._credentials(request)
        if client_id != self.client_id or secret is None or not hmac.compare_digest(
                secret.encode(), self.secret.encode()):
            return False
        request.client = type("Client", (), {"client_id": client_id})()
        request.client_id = client_id
        with self.lock:
            self.methods.append(method)
        return True

    @staticmethod
    def _credentials(request: OAuthRequest) -> tuple[str | None, str | None, str]:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(encoded).decode().partition(":")
            return unquote_plus(user), unquote_plus(password), "client_secret_basic"
        return request.client_id, request.client_secret, "client_secret_post"

    def validate_grant_type(self, client_id: str, grant_type: str, client: Any,
                            request: OAuthRequest, *args: Any, **kwargs: Any) -> bool:
        return grant_type == "client_credentials"

    def get_default_scopes(self, client_id: str, request: OAuthRequest, *args: Any,
                           **kwargs: Any) -> list[str]:
        return sorted(self.scopes)

    def validate_scopes(self, client_id: str, scopes: list[str], client: Any,
                        request: OAuthRequest, *args: Any, **kwargs: Any) -> bool:
        audience = getattr(request, "audience", None)  # only there when sent
        if audience is not None and audience not in self.audiences:
            raise CustomOAuth2Error("invalid_target", "unknown audience", status_code=400)
        return set(scopes) <= self.scopes

    def save_bearer_token(self, token: dict[str, Any], request: OAuthRequest, *args: Any,
                          **kwargs: Any) -> None:
        with self.lock:
            self.tokens[token["access_token"]] = {"scopes": list(request.scopes),
                                                  "audience": getattr(request, "audience", None)}


class OAuthlibServer(EmulatorServer):
    """``/token`` answered by oauthlib; ``/api`` answers 200 to a token it issued."""

    def __init__(self, *, scopes: set[str], audiences: set[str]) -> None:
        super().__init__()
        self.client_id = f"oauthlib-{secrets.token_hex(4)}"
        self.secret = secrets.token_urlsafe(24) + "+/&="  # form-encoding matters in Basic
        self.validator = _Validator(self.client_id, self.secret, scopes, audiences)
        self.server = BackendApplicationServer(self.validator, token_expires_in=600)

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def _dispatch(self, request: Request) -> Response | None:
        if request.path == "/token":
            headers, body, status = self.server.create_token_response(
                self.token_url, http_method=request.method, body=request.body.decode(),
                headers={name.title(): value for name, value in request.headers.items()})
            extra = tuple((k, v) for k, v in headers.items() if k.lower() != "content-type")
            return Response(status, body.encode(), headers.get("Content-Type"), extra)
        token = request.headers.get("authorization", "").partition(" ")[2]
        with self.validator.lock:
            known = self.validator.tokens.get(token)
        if known is None:
            return Response.json(401, {"error": "invalid_token"})
        return Response.json(200, known)


__all__ = ["OAuthlibServer"]
