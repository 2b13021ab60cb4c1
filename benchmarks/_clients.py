"""The clients compared: plain requests, unified-auth (two ways) and the peers users pick.

Each is built against one Liana emulator (OAuth 2.0 client credentials on loopback) with a
warm token, and offers ``get()`` (one GET of the API through the whole library) and
``attach(request)`` (the library's auth step alone on a prepared request) for
:data:`OFFLINE_URL`. A peer that is
not installed (``pip install -e '.[bench]'``) comes back as the reason it is missing.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import requests

import unified_auth
from unified_auth.testing import LianaEmulator


@attrs.frozen
class Api:
    """A running Liana emulator with one client credential, its secret in a file."""

    liana: LianaEmulator
    client_id: str
    secret: str = attrs.field(repr=False)
    secret_file: Path

    @property
    def url(self) -> str:
        return f"{self.liana.url}/v1/lists"

    def target(self, hosts: list[str] | None = None) -> dict[str, Any]:
        """A ``liana`` target for this API (by default: the emulator's ``/v1/`` prefix)."""
        return {"provider": "liana", "hosts": hosts or [f"{self.liana.url}/v1/"],
                "client_id": self.client_id, "client_secret": {"file": str(self.secret_file)},
                "token_url": self.liana.token_url}


@contextmanager
def liana_api(emulator: LianaEmulator | None = None) -> Iterator[Api]:
    """``emulator`` (by default a plain one) running, with a credential for the benchmark."""
    with emulator or LianaEmulator() as liana, tempfile.TemporaryDirectory() as tmp:
        client_id, secret = liana.create_credential("bench")
        secret_file = Path(tmp) / "client.secret"
        secret_file.write_text(secret, encoding="utf-8")
        secret_file.chmod(0o600)
        yield Api(liana, client_id, secret, secret_file)


@attrs.frozen
class Client:
    name: str
    get: Callable[[str], requests.Response]
    attach: Callable[[requests.PreparedRequest], object]
    note: str = ""


Builder = Callable[[Api, unified_auth.UnifiedAuth], Client]

OFFLINE_URL = "https://api.bench.example/v1/lists?page=2"
"""The URL of the stubbed and attach measurements: https, as APIs are, never connected to."""


def plain(api: Api, hub: unified_auth.UnifiedAuth) -> Client:
    header = f"Bearer {hub.credentials('api').value.reveal()}"
    session = requests.Session()
    session.headers["Authorization"] = header

    def attach(request: requests.PreparedRequest) -> None:
        request.headers["Authorization"] = header

    return Client("plain requests + fixed header", lambda url: session.get(url), attach)


def unified_session(api: Api, hub: unified_auth.UnifiedAuth) -> Client:
    session = hub.session()
    router, broker = hub.config.router, hub.broker
    authoriser = hub._authoriser

    def attach(request: requests.PreparedRequest) -> object:
        target = router.match(request.url or "")
        assert target is not None
        return authoriser.authorised_copy(broker.lease(target), request)

    return Client("**unified-auth** session", lambda url: session.get(url), attach,
                  "route + lease + apply on a copy")


def unified_auth_form(api: Api, hub: unified_auth.UnifiedAuth) -> Client:
    session = requests.Session()
    loopback, offline = hub.auth("api"), hub.auth("bench")

    def get(url: str) -> requests.Response:
        return session.get(url, auth=offline if url == OFFLINE_URL else loopback)

    return Client("**unified-auth** `auth=`", get, offline,
                  "route + lease + apply + its response hook")


def authlib(api: Api, hub: unified_auth.UnifiedAuth) -> Client:
    module = importlib.import_module("authlib.integrations.requests_client")
    session = module.OAuth2Session(
        api.client_id, api.secret, token_endpoint=api.liana.token_url,
        grant_type="client_credentials", token_endpoint_auth_method="client_secret_post")
    session.fetch_token()
    return Client("Authlib `OAuth2Session`", lambda url: session.get(url),
                  session.token_auth, "its `OAuth2Auth`")


def requests_auth(api: Api, hub: unified_auth.UnifiedAuth) -> Client:
    module = importlib.import_module("requests_auth")
    auth = module.OAuth2ClientCredentials(api.liana.token_url, client_id=api.client_id,
                                          client_secret=api.secret)
    session = requests.Session()
    session.auth = auth
    session.get(api.url).raise_for_status()  # fetches and caches the token
    return Client("requests-auth `OAuth2ClientCredentials`", lambda url: session.get(url),
                  auth)


def requests_oauthlib(api: Api, hub: unified_auth.UnifiedAuth) -> Client:
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator is plain http
    module = importlib.import_module("requests_oauthlib")
    backend = importlib.import_module("oauthlib.oauth2").BackendApplicationClient
    session = module.OAuth2Session(client=backend(client_id=api.client_id))
    session.fetch_token(token_url=api.liana.token_url, client_id=api.client_id,
                        client_secret=api.secret, include_client_id=True)

    def attach(request: requests.PreparedRequest) -> object:
        return session._client.add_token(
            request.url, http_method="GET", body=None, headers=dict(request.headers))

    return Client("requests-oauthlib `OAuth2Session`", lambda url: session.get(url), attach,
                  "`add_token`, what its `request()` does per call")


BUILDERS: tuple[Builder, ...] = (plain, unified_session, unified_auth_form, authlib,
                                 requests_auth, requests_oauthlib)


def clients(api: Api, hub: unified_auth.UnifiedAuth) -> tuple[list[Client], list[str]]:
    """Every client that can be built here, and a note for each that cannot."""
    built: list[Client] = []
    missing: list[str] = []
    for builder in BUILDERS:
        try:
            built.append(builder(api, hub))
        except ImportError as exc:
            missing.append(f"{builder.__name__}: not installed ({exc.name}); "
                           f"pip install -e '.[bench]'")
    return built, missing


def hub_for(api: Api, **targets: dict[str, Any]) -> unified_auth.UnifiedAuth:
    """A hub whose target ``api`` is the emulator's API and ``bench`` the https API of
    :data:`OFFLINE_URL` (same credential), plus ``targets``."""
    hub = unified_auth.load({"targets": {
        "api": api.target(), "bench": api.target([OFFLINE_URL.split("lists")[0]]),
        **targets}})
    for name in ("api", "bench"):
        hub.credentials(name)  # warm tokens: the benchmarks measure the path with one
    return hub
