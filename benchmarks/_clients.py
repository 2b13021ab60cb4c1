"""The setup every per-request section shares, and the requests clients compared.

:func:`bench_api` runs the loopback API of :mod:`benchmarks._servers` (http and https) and
a hub whose one target ``api`` is an ``api-key`` target for both URLs, sending
``Authorization: Bearer <key>``: credentials that never expire and need no token endpoint,
so every figure is the steady state of the per-request path. Every contender sends the same
header bytes, built the way its library builds them.

The requests contenders each offer ``get(url, verify)`` (one GET through the whole library)
and ``attach(request)`` (the library's auth step alone, on a prepared request). A peer that
is not installed (``pip install -e '.[bench]'``) comes back as the reason it is missing.
"""

from __future__ import annotations

import importlib
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import requests

import unified_auth
from benchmarks._servers import Endpoint, loopback_api
from unified_auth.clients.requests_edge import authorised_copy
from unified_auth.testing import write_secret

__all__ = ["REQUESTS_CONTENDERS", "Bench", "Contender", "bench_api", "hub_for",
           "requests_contenders"]

TARGET = "api"


@attrs.frozen
class Bench:
    """The running API, its two endpoints and a warm hub."""

    hub: unified_auth.UnifiedAuth
    header: str = attrs.field(repr=False)
    """The ``Authorization`` value every contender sends (``Bearer <key>``)."""
    key_file: Path
    endpoints: tuple[Endpoint, Endpoint]

    @property
    def key(self) -> str:
        return self.header.removeprefix("Bearer ")

    def hub_with(self, extra_targets: int) -> unified_auth.UnifiedAuth:
        """Another hub like :attr:`hub`, with ``extra_targets`` more targets."""
        return hub_for(self.key_file, self.endpoints, extra_targets)


@contextmanager
def bench_api() -> Iterator[Bench]:
    """The API on loopback (http and https) and a hub for it, its lease warm."""
    # requests-oauthlib and Authlib refuse plain http unless told; set once, before any
    # measurement (unified-auth re-reads its proxy environment when a variable is added).
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as tmp, loopback_api(f"Bearer {key}") as endpoints:
        key_file = write_secret(Path(tmp) / "api.key", key)
        with hub_for(key_file, endpoints) as hub:
            yield Bench(hub, f"Bearer {key}", key_file, endpoints)


def hub_for(key_file: Path, endpoints: tuple[Endpoint, ...],
            extra_targets: int = 0) -> unified_auth.UnifiedAuth:
    """A hub with target ``api`` for ``endpoints``, plus ``extra_targets`` targets of hosts
    of their own; ``api``'s lease is fetched (the measurements are of the warm path)."""

    def target(hosts: list[str]) -> dict[str, Any]:
        return {"provider": "api-key", "hosts": hosts, "key": {"file": str(key_file)},
                "header": "Authorization", "prefix": "Bearer"}

    targets = {TARGET: target([endpoint.prefix for endpoint in endpoints])}
    targets |= {f"t{i}": target([f"https://t{i}.bench.example/v1/"])
                for i in range(extra_targets)}
    hub = unified_auth.load({"targets": targets})
    hub.credentials(TARGET)
    return hub


@attrs.frozen
class Contender:
    """One way of sending the API's GET with requests."""

    name: str
    get: Callable[[str, bool | str], requests.Response]
    """``get(url, verify)``: one GET through the library."""
    attach: Callable[[requests.PreparedRequest], object]
    """The library's auth step alone, on a prepared request."""
    note: str = ""
    ours: bool = False
    peer: bool = False


def _session(**headers: str) -> requests.Session:
    session = requests.Session()
    session.headers.update(headers)
    return session


def plain(bench: Bench) -> Contender:
    session = _session(Authorization=bench.header)
    header = bench.header

    def attach(request: requests.PreparedRequest) -> None:
        request.headers["Authorization"] = header

    return Contender("plain requests + fixed header",
                     lambda url, verify: session.get(url, verify=verify), attach,
                     "a header set on the request")


def plain_control(bench: Bench) -> Contender:
    """A second plain session, the A/A control: its ratio to the first is what this
    machine makes of no difference at all."""
    contender = plain(bench)
    return attrs.evolve(contender, name=f"{contender.name}, a second session (A/A control)",
                        note="the same as the first row: the noise floor")


def unified_session(bench: Bench) -> Contender:
    session = bench.hub.session()
    flow = bench.hub._flow  # measuring the adapter's private path on purpose
    owner, lease = flow.owner, flow.broker.lease

    def attach(request: requests.PreparedRequest) -> object:
        target = owner(request.url or "")
        assert target is not None
        return authorised_copy(flow, lease(target), request)

    return Contender("**unified-auth** `ua.session()`",
                     lambda url, verify: session.get(url, verify=verify), attach,
                     "the adapter's route + lease + authorised copy", ours=True)


def unified_auth_form(bench: Bench) -> Contender:
    session = requests.Session()
    auth = bench.hub.auth(TARGET)
    return Contender("**unified-auth** `ua.auth(name)`",
                     lambda url, verify: session.get(url, auth=auth, verify=verify), auth,
                     "its `__call__`: route, proxy rule, lease, apply, response hook",
                     ours=True)


def _peer(name: str, auth: Any, note: str) -> Contender:
    session = requests.Session()
    session.auth = auth
    return Contender(name, lambda url, verify: session.get(url, verify=verify), auth, note,
                     peer=True)


def authlib(bench: Bench) -> Contender:
    module = importlib.import_module("authlib.integrations.requests_client")
    token = {"access_token": bench.key, "token_type": "Bearer"}
    return _peer("Authlib `OAuth2Auth`", module.OAuth2Auth(token), "its `__call__`")


def requests_oauthlib(bench: Bench) -> Contender:
    module = importlib.import_module("requests_oauthlib")
    token = {"access_token": bench.key, "token_type": "Bearer"}
    return _peer("requests-oauthlib `OAuth2`", module.OAuth2(token=token), "its `__call__`")


def requests_auth(bench: Bench) -> Contender:
    module = importlib.import_module("requests_auth")
    return _peer("requests-auth `HeaderApiKey`",
                 module.HeaderApiKey(bench.header, header_name="Authorization"),
                 "its `__call__`")


REQUESTS_CONTENDERS: tuple[Callable[[Bench], Contender], ...] = (
    plain, plain_control, unified_session, unified_auth_form, authlib, requests_oauthlib,
    requests_auth)


def requests_contenders(bench: Bench) -> tuple[list[Contender], list[str]]:
    """Every requests contender that can be built here, and a note for each that cannot."""
    built: list[Contender] = []
    missing: list[str] = []
    for builder in REQUESTS_CONTENDERS:
        try:
            built.append(builder(bench))
        except ImportError as exc:
            missing.append(f"{builder.__name__}: not installed ({exc.name}); "
                           f"pip install -e '.[bench]'")
    return built, missing
