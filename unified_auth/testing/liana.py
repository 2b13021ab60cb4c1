"""An emulator of Liana: OAuth 2.0 client credentials, legacy signed requests and a small API.

It plays both sides a test needs: the token endpoint and REST API a client talks to over
HTTP, and an admin surface in Python (the "Liana web UI") to create, rotate and delete
credentials, flip the API license, revoke tokens, inject faults and read counters.

It runs past 300 lines because it is one server with one state (credentials, tokens, legacy
users, faults, counters under one lock) that three surfaces share: the OAuth token
endpoint, the legacy signed API and the admin methods; the pure parts (parsing a token
request, checking a signature) are module functions at the end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import warnings
from collections import deque
from datetime import UTC, date, datetime
from typing import Literal
from urllib.parse import parse_qs, unquote_plus

import attrs

from unified_auth.testing._server import (
    Clock,
    CountingEmulator,
    Request,
    Response,
    parse_basic,
    secret_digest,
)

__all__ = ["CredentialInfo", "FaultKind", "LianaCounters", "LianaEmulator"]

FaultKind = Literal["delay", "status", "malformed", "drop"]

MAX_CLOCK_SKEW = 15 * 60
"""How far (seconds, either direction) a legacy request's ``Date`` may be from the clock."""

_LISTS = [{"id": 1, "name": "Newsletter"}, {"id": 2, "name": "Customers"}]
_TOKEN_HEADERS = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))
_INVALID_CLIENT = Response.json(
    401,
    {"error": "invalid_client", "error_description": "Client authentication failed"},
    headers=(("WWW-Authenticate", 'Basic realm="token"'),),
)
_UNAUTHORIZED = {"succeed": False, "message": "Unauthorized"}
_NOT_LICENSED = {
    "succeed": False,
    "message": "API not enabled: this API needs a separate API license",
}


@attrs.frozen
class CredentialInfo:
    """What the admin UI shows about an OAuth credential: never its secret."""

    client_id: str
    name: str
    expires_on: date | None
    created_at: datetime
    last_active: datetime | None
    """The last successful token request, or API call made with one of its tokens."""


@attrs.frozen
class LianaCounters:
    """A snapshot of what the emulator has seen since start or :meth:`reset_counters`."""

    token_requests: int = 0
    tokens_issued: int = 0
    api_requests: int = 0
    rejected_requests: int = 0
    """401/403 answers of the API plus token requests answered with an error."""
    expired_token_requests: int = 0
    """API requests that carried a token past its expiry: a well-behaved client sends none."""
    faults_injected: int = 0


@attrs.define
class _Credential:
    client_id: str
    name: str
    secret_hash: bytes = attrs.field(repr=False)
    expires_on: date | None
    created_at: datetime
    last_active: datetime | None = None


@attrs.frozen
class _Token:
    client_id: str
    expires_at: float


@attrs.frozen
class _LegacyUser:
    realm: str
    secret: str = attrs.field(repr=False)


@attrs.frozen
class _Fault:
    kind: FaultKind
    seconds: float
    status: int


class LianaEmulator(CountingEmulator[LianaCounters]):
    """Liana's token endpoint (``/token``) and REST API (``/v1/...``, ``/api/v1/...``).

    >>> with LianaEmulator() as liana:
    ...     client_id, secret = liana.create_credential("ci")
    """

    counters_class = LianaCounters

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        expires_in: int = 900,
        port: int = 0,
        api_enabled: bool = True,
    ) -> None:
        super().__init__(clock=clock, port=port)
        if expires_in <= 0:
            raise ValueError(f"expires_in must be positive seconds, got {expires_in}")
        self.expires_in = expires_in
        """Lifetime in seconds of the tokens issued from now on."""
        self.api_enabled = api_enabled
        """The API license flag: without it, authenticated API calls get 403."""
        self.last_rejection: str | None = None
        """Why the last API or token request was refused (tests pin the reason with it)."""
        self._credentials: dict[str, _Credential] = {}
        self._tokens: dict[str, _Token] = {}
        self._legacy_users: dict[str, _LegacyUser] = {}
        self._faults: deque[_Fault] = deque()
        self._token_requests_in_flight = 0
        self._most_token_requests_in_flight = 0

    @property
    def max_token_requests_in_flight(self) -> int:
        """The most token requests answered at once since start or :meth:`reset_counters`.

        Clients that share one token through a single flight (threads, or processes with a
        shared cache) keep it at 1.
        """
        with self._lock:
            return self._most_token_requests_in_flight

    def reset_counters(self) -> None:
        """Set every counter, and the most token requests seen in flight, back to zero."""
        super().reset_counters()
        with self._lock:
            self._most_token_requests_in_flight = 0

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint."""
        return f"{self.url}/token"

    # -- admin: OAuth credentials ------------------------------------------------------

    def create_credential(self, name: str, expires_on: date | None = None) -> tuple[str, str]:
        """Create a client credential; returns ``(client_id, secret)``.

        The secret is shown once: only its hash is kept. A credential is usable through
        ``expires_on`` (a UTC date) inclusive.
        """
        client_id, secret = secrets.token_hex(10), secrets.token_urlsafe(32)
        with self._lock:
            self._credentials[client_id] = _Credential(
                client_id, name, secret_digest(secret), expires_on, self._now()
            )
        return client_id, secret

    def rotate_secret(self, client_id: str) -> str:
        """Give a credential a new secret. The old one fails at once; issued tokens live on."""
        secret = secrets.token_urlsafe(32)
        with self._lock:
            self._credential(client_id).secret_hash = secret_digest(secret)
        return secret

    def delete_credential(self, client_id: str) -> None:
        """Delete a credential for good, together with the tokens issued to it."""
        with self._lock:
            self._credential(client_id)
            del self._credentials[client_id]
            self._drop_tokens(client_id)

    def rotate(self, client_id: str) -> str:
        """Deprecated name of :meth:`rotate_secret`."""
        warnings.warn("LianaEmulator.rotate() is deprecated: use rotate_secret()",
                      DeprecationWarning, stacklevel=2)
        return self.rotate_secret(client_id)

    def delete(self, client_id: str) -> None:
        """Deprecated name of :meth:`delete_credential`."""
        warnings.warn("LianaEmulator.delete() is deprecated: use delete_credential()",
                      DeprecationWarning, stacklevel=2)
        self.delete_credential(client_id)

    def credentials(self) -> list[CredentialInfo]:
        """The live credentials, oldest first."""
        with self._lock:
            return [
                CredentialInfo(c.client_id, c.name, c.expires_on, c.created_at, c.last_active)
                for c in self._credentials.values()
            ]

    def revoke_tokens(self, client_id: str | None = None) -> int:
        """Revoke every token, or one client's; returns how many were revoked."""
        with self._lock:
            return self._drop_tokens(client_id)

    # -- admin: legacy users -----------------------------------------------------------

    def add_legacy_user(self, user_id: str, secret: str, realm: str = "LianaMailer") -> None:
        """Register a user of the legacy signed-request method with a known secret."""
        if not realm or " " in realm or realm.lower() == "bearer":
            raise ValueError(f"realm {realm!r} must be one word and not 'Bearer'")
        if not user_id or ":" in user_id or " " in user_id:
            raise ValueError(f"user_id {user_id!r} must be non-empty, without ':' or spaces")
        with self._lock:
            self._legacy_users[user_id] = _LegacyUser(realm, secret)

    def create_legacy_user(self, realm: str = "LianaMailer") -> tuple[str, str]:
        """Create a legacy user; returns ``(user_id, secret)``."""
        with self._lock:
            user_id = str(1000 + len(self._legacy_users) + 1)
        secret = secrets.token_hex(16)
        self.add_legacy_user(user_id, secret, realm)
        return user_id, secret

    # -- admin: faults and counters ----------------------------------------------------

    def inject_fault(
        self,
        kind: FaultKind,
        *,
        times: int = 1,
        seconds: float = 0.5,
        status: int = 503,
    ) -> None:
        """Make the next ``times`` token requests misbehave.

        ``delay`` sleeps ``seconds`` (real time) and then answers normally; ``status``
        answers ``status`` with a small JSON body; ``malformed`` answers 200 with a body
        that is not JSON; ``drop`` closes the connection without answering. Faults queue up
        in the order they are injected.
        """
        if kind not in ("delay", "status", "malformed", "drop"):
            raise ValueError(f"unknown fault kind {kind!r}")
        if times < 1 or seconds < 0 or not 100 <= status <= 599:
            raise ValueError("times must be >= 1, seconds >= 0 and status an HTTP status")
        with self._lock:
            self._faults.extend([_Fault(kind, seconds, status)] * times)

    def clear_faults(self) -> None:
        """Forget the faults not yet consumed."""
        with self._lock:
            self._faults.clear()

    # -- HTTP --------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response | None:
        if request.path == "/token":
            return self._token_endpoint(request)
        return self._api(request)

    def _token_endpoint(self, request: Request) -> Response | None:
        with self._lock:
            self._token_requests_in_flight += 1
            self._most_token_requests_in_flight = max(self._most_token_requests_in_flight,
                                                      self._token_requests_in_flight)
        try:
            return self._answer_token_request(request)
        finally:
            with self._lock:
                self._token_requests_in_flight -= 1

    def _answer_token_request(self, request: Request) -> Response | None:
        with self._lock:
            self._counts["token_requests"] += 1
            fault = self._faults.popleft() if self._faults else None
            if fault is not None:
                self._counts["faults_injected"] += 1
        if fault is not None:
            if fault.kind == "drop":
                return None
            if fault.kind == "malformed":
                return Response(200, b'{"access_token": "', "application/json")
            if fault.kind == "status":
                payload = {"error": "temporarily_unavailable", "error_description": "injected"}
                return Response.json(fault.status, payload)
            # Sleep without the lock so other requests go on while this one hangs.
            time.sleep(fault.seconds)
        response = self._issue_token(request)
        if response.status != 200:
            with self._lock:
                self._counts["rejected_requests"] += 1
        return response

    def _issue_token(self, request: Request) -> Response:
        if request.method != "POST":
            return _oauth_error(405, "invalid_request", "use POST", (("Allow", "POST"),))
        parsed = _parse_token_request(request)
        if isinstance(parsed, Response):
            return parsed
        client_id, secret, scope = parsed
        with self._lock:
            now = self._clock()
            credential = self._credentials.get(client_id)
            if credential is None or not hmac.compare_digest(secret_digest(secret),
                                                             credential.secret_hash):
                self.last_rejection = "unknown client or wrong secret"
                return _INVALID_CLIENT
            if credential.expires_on is not None and _utc_date(now) > credential.expires_on:
                self.last_rejection = "credential past its expiration date"
                return _INVALID_CLIENT
            token = secrets.token_urlsafe(32)
            expires_in = self.expires_in
            self._tokens[token] = _Token(client_id, now + expires_in)
            credential.last_active = _utc(now)
            self._counts["tokens_issued"] += 1
        payload = {
            "access_token": token,
            "token_type": "Bearer",  # nosec B105 # a scheme name
            "expires_in": expires_in,
            "scope": scope,
        }
        return Response.json(200, payload, headers=_TOKEN_HEADERS)

    def _api(self, request: Request) -> Response:
        with self._lock:
            self._counts["api_requests"] += 1
        refusal = self._authenticate(request)
        if refusal is None and not self.api_enabled:
            refusal = Response.json(403, _NOT_LICENSED)
        if refusal is not None:
            with self._lock:
                self._counts["rejected_requests"] += 1
            return refusal
        return _route(request)

    def _authenticate(self, request: Request) -> Response | None:
        """``None`` if the request carries a valid token or signature, else the 401 answer."""
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.strip().partition(" ")
        if not scheme:
            return self._refuse("no Authorization header", 'Bearer realm="Liana"')
        if scheme.lower() == "bearer":
            return self._check_bearer(credentials.strip())
        user_id, _, signature = credentials.strip().rpartition(":")
        with self._lock:
            user = self._legacy_users.get(user_id)
        if user is None or user.realm != scheme:
            return self._refuse(f"unknown legacy user {user_id!r} in realm {scheme!r}")
        reason = _signature_problem(request, user.secret, signature, self._clock())
        return None if reason is None else self._refuse(reason)

    def _check_bearer(self, token: str) -> Response | None:
        with self._lock:
            now = self._clock()
            issued = self._tokens.get(token)
            if issued is not None and now < issued.expires_at:
                credential = self._credentials.get(issued.client_id)
                if credential is not None:
                    credential.last_active = _utc(now)
                return None
            if issued is not None:
                self._counts["expired_token_requests"] += 1
        reason = "unknown or revoked token" if issued is None else "expired token"
        return self._refuse(reason, 'Bearer realm="Liana", error="invalid_token"')

    def _refuse(self, reason: str, challenge: str | None = None) -> Response:
        with self._lock:
            self.last_rejection = reason
        headers = () if challenge is None else (("WWW-Authenticate", challenge),)
        return Response.json(401, _UNAUTHORIZED, headers=headers)

    def _credential(self, client_id: str) -> _Credential:
        credential = self._credentials.get(client_id)
        if credential is None:
            raise KeyError(f"no Liana credential {client_id!r} (deleted, or never created)")
        return credential

    def _drop_tokens(self, client_id: str | None) -> int:
        doomed = [t for t, i in self._tokens.items() if client_id in (None, i.client_id)]
        for token in doomed:
            del self._tokens[token]
        return len(doomed)


def _route(request: Request) -> Response:
    # Both auth methods reach the same API, under /v1 (OAuth era) and /api/v1 (legacy).
    path = request.path.removeprefix("/api")
    if path not in ("/v1/lists", "/v1/echoMessage"):
        return Response.json(404, {"succeed": False, "message": "Not found"})
    method = "GET" if path == "/v1/lists" else "POST"
    if request.method != method:
        payload = {"succeed": False, "message": "Method not allowed"}
        return Response.json(405, payload, headers=(("Allow", method),))
    if method == "GET":
        return Response.json(200, {"succeed": True, "result": _LISTS, "query": request.query})
    try:
        message = json.loads(request.body.decode("utf-8"))
    except ValueError:
        return Response.json(400, {"succeed": False, "message": "Body is not valid JSON"})
    return Response.json(200, {"succeed": True, "result": message})


def _parse_token_request(request: Request) -> tuple[str, str, str] | Response:
    """``(client_id, secret, scope)`` from a token request, or the RFC 6749 error answer."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request", "use application/x-www-form-urlencoded")
    try:
        form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "the body is not UTF-8")
    repeated = sorted(name for name, values in form.items() if len(values) > 1)
    if repeated:
        return _oauth_error(400, "invalid_request", f"repeated parameter {repeated[0]}")
    fields = {name: values[0] for name, values in form.items()}
    if "grant_type" not in fields:
        return _oauth_error(400, "invalid_request", "grant_type is missing")
    if fields["grant_type"] != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only client_credentials")
    scope = fields.get("scope") or "default"
    header = request.headers.get("authorization")
    if header is None:
        if "client_id" not in fields or "client_secret" not in fields:
            return _INVALID_CLIENT
        return fields["client_id"], fields["client_secret"], scope
    if "client_secret" in fields:
        return _oauth_error(400, "invalid_request", "use one client authentication method")
    basic = parse_basic(header)
    if basic is None:
        return _INVALID_CLIENT
    # RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    basic = unquote_plus(basic[0]), unquote_plus(basic[1])
    if fields.get("client_id", basic[0]) != basic[0]:
        return _oauth_error(400, "invalid_request", "client_id differs from Basic auth")
    return basic[0], basic[1], scope


def _signature_problem(request: Request, secret: str, signature: str, now: float) -> str | None:
    """Why a legacy signed request fails verification, or ``None`` if it passes.

    The string to sign is six lines: method, Content-MD5, ``application/json``, the Date
    header, the body and the path with its query string.
    """
    content_type = request.headers.get("content-type", "").partition(";")[0].strip()
    if content_type.lower() != "application/json":
        return "Content-Type must be application/json"
    content_md5 = hashlib.md5(request.body, usedforsecurity=False).hexdigest()
    if request.headers.get("content-md5") != content_md5:
        return "Content-MD5 does not match the body"
    date_header = request.headers.get("date", "")
    try:
        sent_at = datetime.fromisoformat(date_header)
    except ValueError:
        return "Date is not an ISO 8601 timestamp"
    if sent_at.tzinfo is None:
        return "Date has no UTC offset"
    if abs(sent_at.timestamp() - now) > MAX_CLOCK_SKEW:
        return "Date is more than 15 minutes away from the server clock"
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    string_to_sign = "\n".join(
        [request.method, content_md5, "application/json", date_header, body, request.target]
    )
    expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "signature mismatch"
    return None


def _oauth_error(
    status: int, error: str, description: str, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    return Response.json(
        status, {"error": error, "error_description": description}, headers=headers
    )


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _utc_date(timestamp: float) -> date:
    return _utc(timestamp).date()
