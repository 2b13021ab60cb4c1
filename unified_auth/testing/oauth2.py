"""An emulator of a generic OAuth 2.0 authorization server (client credentials, RFC 6749 4.4).

The token endpoint (``/token``) takes ``client_secret_basic``, ``client_secret_post`` and
``private_key_jwt`` (RFC 7523: signature against the registered public key, ``iss``,
``sub``, ``aud``, ``exp`` at most five minutes ahead, each ``jti`` once), checks scopes and
audiences (``audience`` and RFC 8707 ``resource``) and answers RFC 6749 5.1/5.2. A small
protected API (``/api/whoami``) says which client a token belongs to. In Python, an admin
surface registers clients, rotates secrets, revokes tokens, injects faults and reads
counters. Checking an assertion needs the ``jwt`` extra (joserfc).

It runs past 300 lines because it is one server with one state (clients, tokens, seen
``jti`` values, faults and counters under one lock) that the token endpoint, the API and
the admin methods share; the pure parts, reading a token request and checking an
assertion's claims, live in ``_token_form`` and ``_assertion_check``.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from typing import Literal

import attrs

from unified_auth.testing._assertion_check import (
    assertion_problem,
    new_key_pair,
    unverified_claims,
)
from unified_auth.testing._server import (
    Clock,
    CountingEmulator,
    Request,
    Response,
    secret_digest,
)
from unified_auth.testing._token_form import ASSERTION_TYPE, TokenForm, oauth_error, parse

__all__ = ["WHOAMI", "ClientMethod", "OAuth2Counters", "OAuth2Emulator", "OAuth2FaultKind"]

ClientMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt"]
OAuth2FaultKind = Literal["delay", "status", "malformed", "drop"]

WHOAMI = "/api/whoami"
"""The protected API's one path: who the bearer token was issued to."""
_TOKEN_HEADERS = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


@attrs.frozen
class OAuth2Counters:
    """A snapshot of what the emulator has seen since start or :meth:`reset_counters`."""

    token_requests: int = 0
    tokens_issued: int = 0
    api_requests: int = 0
    rejected_requests: int = 0
    """401 answers of the API plus token requests answered with an error."""
    expired_token_requests: int = 0
    """API requests that carried a token past its expiry: a well-behaved client sends none."""
    faults_injected: int = 0


@attrs.define
class _Client:
    client_id: str
    method: ClientMethod
    secret_hash: bytes | None = attrs.field(repr=False)
    public_key: str | None = attrs.field(repr=False)
    alg: str
    key_id: str | None
    scopes: frozenset[str] | None
    audiences: frozenset[str] | None


@attrs.frozen
class _Token:
    client_id: str
    expires_at: float
    scope: str
    audience: str | None


@attrs.frozen
class _Fault:
    kind: OAuth2FaultKind
    seconds: float
    status: int


class OAuth2Emulator(CountingEmulator[OAuth2Counters]):
    """A generic authorization server on loopback, with a protected ``/api/whoami``.

    >>> with OAuth2Emulator() as server:
    ...     client_id, secret = server.create_client(scopes={"read"})
    """

    counters_class = OAuth2Counters

    def __init__(self, *, clock: Clock | None = None, expires_in: int | None = 3600,
                 port: int = 0) -> None:
        super().__init__(clock=clock, port=port)
        if expires_in is not None and expires_in <= 0:
            raise ValueError(f"expires_in must be positive seconds or None, got {expires_in}")
        self.expires_in = expires_in
        """Lifetime of the tokens issued from now on; ``None`` leaves ``expires_in`` out of
        the answers (they then live an hour)."""
        self.expected_audience: str | None = None
        """The ``aud`` an assertion must carry; ``None``: this server's :attr:`token_url`."""
        self.last_rejection: str | None = None
        """Why the last token or API request was refused (tests pin the reason with it)."""
        self.assertions: list[str] = []
        """Every client assertion received, for tests that verify them independently."""
        self._clients: dict[str, _Client] = {}
        self._tokens: dict[str, _Token] = {}
        self._seen_jti: dict[str, float] = {}
        self._faults: deque[_Fault] = deque()
        self._in_flight = 0
        self._most_in_flight = 0

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return f"{self.url}/token"

    @property
    def max_token_requests_in_flight(self) -> int:
        """The most token requests answered at once since start or :meth:`reset_counters`."""
        with self._lock:
            return self._most_in_flight

    def reset_counters(self) -> None:
        """Set every counter, and the most token requests seen in flight, back to zero."""
        super().reset_counters()
        with self._lock:
            self._most_in_flight = 0

    # -- admin: clients ----------------------------------------------------------------

    def create_client(self, method: ClientMethod = "client_secret_basic", *,
                      scopes: set[str] | None = None,
                      audiences: set[str] | None = None) -> tuple[str, str]:
        """Register a client that authenticates with a secret; returns ``(client_id, secret)``.

        It may use only ``method``. ``scopes`` and ``audiences`` (``None``: any) bound what
        it may request; the secret is shown once, only its digest is kept.
        """
        if method == "private_key_jwt":
            raise ValueError("use create_key_client() or register_key() for private_key_jwt")
        client_id, secret = f"client-{secrets.token_hex(6)}", secrets.token_urlsafe(32)
        self._add(_Client(client_id, method, secret_digest(secret), None, "", None,
                          _frozen(scopes), _frozen(audiences)))
        return client_id, secret

    def register_key(self, public_key: str, *, alg: str = "RS256", key_id: str | None = None,
                     scopes: set[str] | None = None,
                     audiences: set[str] | None = None) -> str:
        """Register a ``private_key_jwt`` client by its PEM public key; returns its id."""
        if alg not in ("RS256", "ES256"):
            raise ValueError(f"alg must be RS256 or ES256, got {alg!r}")
        client_id = f"client-{secrets.token_hex(6)}"
        self._add(_Client(client_id, "private_key_jwt", None, public_key, alg, key_id,
                          _frozen(scopes), _frozen(audiences)))
        return client_id

    def create_key_client(self, alg: str = "RS256", *, key_id: str | None = None,
                          scopes: set[str] | None = None,
                          audiences: set[str] | None = None) -> tuple[str, str]:
        """A new key pair registered as a ``private_key_jwt`` client: ``(client_id, pem)``."""
        private, public = new_key_pair(alg)
        return self.register_key(public, alg=alg, key_id=key_id, scopes=scopes,
                                 audiences=audiences), private

    def rotate_secret(self, client_id: str) -> str:
        """Give a secret client a new secret. The old one fails at once; tokens live on."""
        secret = secrets.token_urlsafe(32)
        with self._lock:
            client = self._client(client_id)
            if client.secret_hash is None:
                raise ValueError(f"client {client_id!r} authenticates with a key, not a secret")
            client.secret_hash = secret_digest(secret)
        return secret

    def rotate_key(self, client_id: str) -> str:
        """Give a key client a new key pair; returns the new private PEM."""
        with self._lock:
            client = self._client(client_id)
        private, public = new_key_pair(client.alg)
        with self._lock:
            client.public_key = public
        return private

    def delete_client(self, client_id: str) -> None:
        """Delete a client for good, together with the tokens issued to it."""
        with self._lock:
            self._client(client_id)
            del self._clients[client_id]
            self._drop_tokens(client_id)

    def revoke_tokens(self, client_id: str | None = None) -> int:
        """Revoke every token, or one client's; returns how many were revoked."""
        with self._lock:
            return self._drop_tokens(client_id)

    # -- admin: faults -----------------------------------------------------------------

    def inject_fault(self, kind: OAuth2FaultKind, *, times: int = 1, seconds: float = 0.5,
                     status: int = 503) -> None:
        """Make the next ``times`` token requests misbehave, as :class:`LianaEmulator` does.

        ``delay`` sleeps ``seconds`` (real time), then answers; ``status`` answers ``status``
        with an RFC 6749 error body; ``malformed`` answers 200 with a body that is not
        JSON; ``drop`` closes the connection without answering.
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
            with self._lock:
                self._in_flight += 1
                self._most_in_flight = max(self._most_in_flight, self._in_flight)
            try:
                return self._token_endpoint(request)
            finally:
                with self._lock:
                    self._in_flight -= 1
        if request.path == WHOAMI:
            return self._whoami(request)
        return Response.json(404, {"error": "not found"})

    def _token_endpoint(self, request: Request) -> Response | None:
        with self._lock:
            self._counts["token_requests"] += 1
            fault = self._faults.popleft() if self._faults else None
            if fault is not None:
                self._counts["faults_injected"] += 1
        if fault is not None and fault.kind != "delay":
            if fault.kind == "drop":
                return None
            if fault.kind == "malformed":
                return Response(200, b'{"access_token": "', "application/json")
            return oauth_error(fault.status, "temporarily_unavailable", "injected")
        if fault is not None:
            time.sleep(fault.seconds)  # without the lock: other requests go on
        response = self._issue(request)
        if response.status != 200:
            with self._lock:
                self._counts["rejected_requests"] += 1
        return response

    def _issue(self, request: Request) -> Response:
        form = parse(request)
        if isinstance(form, Response):
            return form
        client = self._authenticate(form)
        if isinstance(client, Response):
            return client
        requested = set(form.scope.split()) if form.scope else set()
        if client.scopes is not None and not requested <= client.scopes:
            return self._refuse(400, "invalid_scope", "a requested scope is not granted to "
                                                      "this client")
        audience = form.audience or form.resource
        if audience is not None and client.audiences is not None \
                and audience not in client.audiences:
            return self._refuse(400, "invalid_target", "this client may not get tokens for "
                                                       "that audience or resource")
        granted = " ".join(sorted(requested)) if requested else " ".join(
            sorted(client.scopes or ()))
        token = secrets.token_urlsafe(32)
        with self._lock:
            lifetime = self.expires_in if self.expires_in is not None else 3600
            self._tokens[token] = _Token(client.client_id, self._clock() + lifetime, granted,
                                         audience)
            self._counts["tokens_issued"] += 1
        payload: dict[str, object] = {"access_token": token, "token_type": "Bearer"}  # nosec B105
        if self.expires_in is not None:
            payload["expires_in"] = self.expires_in
        if granted:
            payload["scope"] = granted
        return Response.json(200, payload, headers=_TOKEN_HEADERS)

    def _authenticate(self, form: TokenForm) -> _Client | Response:
        if form.assertion is not None:
            return self._check_assertion(form)
        if form.client_id is None or form.secret is None:
            return self._refuse(401, "invalid_client", "no client authentication")
        with self._lock:
            client = self._clients.get(form.client_id)
        if client is None or client.secret_hash is None or not hmac.compare_digest(
                secret_digest(form.secret), client.secret_hash):
            return self._refuse(401, "invalid_client", "unknown client or wrong secret")
        if client.method != form.method:
            return self._refuse(401, "invalid_client", f"this client authenticates with "
                                                       f"{client.method}")
        return client

    def _check_assertion(self, form: TokenForm) -> _Client | Response:
        assertion = form.assertion or ""
        with self._lock:
            self.assertions.append(assertion)
        if form.assertion_type != ASSERTION_TYPE:
            return self._refuse(400, "invalid_request", "unsupported client_assertion_type")
        claims = unverified_claims(assertion)
        issuer = claims.get("iss") if claims else None
        with self._lock:
            client = self._clients.get(issuer) if isinstance(issuer, str) else None
        if client is None or client.public_key is None:
            return self._refuse(401, "invalid_client", "the assertion's iss is not a "
                                                       "registered key client")
        if form.client_id is not None and form.client_id != client.client_id:
            return self._refuse(400, "invalid_request", "client_id differs from the "
                                                        "assertion's iss")
        now = self._clock()
        problem = assertion_problem(
            assertion, public_key=client.public_key, alg=client.alg, key_id=client.key_id,
            client_id=client.client_id, audience=self.expected_audience or self.token_url,
            now=now)
        if problem is None:
            jti = str(claims.get("jti")) if claims else ""
            with self._lock:
                self._seen_jti = {j: e for j, e in self._seen_jti.items() if e > now}
                if jti in self._seen_jti:
                    problem = "the assertion's jti was used before (a replayed assertion)"
                else:
                    self._seen_jti[jti] = float(claims.get("exp", now)) if claims else now
        if problem is not None:
            return self._refuse(401, "invalid_client", problem)
        return client

    def _whoami(self, request: Request) -> Response:
        with self._lock:
            self._counts["api_requests"] += 1
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        with self._lock:
            issued = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            now = self._clock()
            if issued is not None and now >= issued.expires_at:
                self._counts["expired_token_requests"] += 1
                issued = None
            if issued is None:
                self._counts["rejected_requests"] += 1
                self.last_rejection = "no valid bearer token"
        if issued is None:
            return Response.json(401, {"error": "invalid_token"}, headers=(
                ("WWW-Authenticate", 'Bearer realm="api", error="invalid_token"'),))
        return Response.json(200, {"client_id": issued.client_id, "scope": issued.scope,
                                   "audience": issued.audience})

    def _refuse(self, status: int, error: str, description: str) -> Response:
        with self._lock:
            self.last_rejection = description
        return oauth_error(status, error, description)

    def _add(self, client: _Client) -> None:
        with self._lock:
            self._clients[client.client_id] = client

    def _client(self, client_id: str) -> _Client:
        client = self._clients.get(client_id)
        if client is None:
            raise KeyError(f"no client {client_id!r} (deleted, or never registered)")
        return client

    def _drop_tokens(self, client_id: str | None) -> int:
        doomed = [t for t, i in self._tokens.items() if client_id in (None, i.client_id)]
        for token in doomed:
            del self._tokens[token]
        return len(doomed)


def _frozen(values: set[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)
