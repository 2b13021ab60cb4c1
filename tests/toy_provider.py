"""A provider written the way a third-party plugin would be, for the core's own tests.

``toy`` fetches OAuth 2.0 client-credentials tokens (it speaks to the Liana emulator);
``toy-key`` puts a static key in a header. The core's tests use these rather than the
bundled plugins, so they pin the core's behaviour and nothing else.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs
import requests

import unified_auth
from unified_auth import Credentials, RetryPolicy, Secret, Target, hookimpl
from unified_auth.core.plugin_manager import Hooks, make_plugin_manager
from unified_auth.errors import CredentialsRejected, TokenEndpointError
from unified_auth.testing import load_isolated
from unified_auth.testing import write_secret as write_secret  # the tests' one way to write one


@attrs.frozen
class ToyOptions:
    client_id: str
    client_secret: Secret
    token_url: str
    scope: str | None = None
    expires_on: date | None = None
    retries: int = 3
    tags: tuple[str, ...] = ()
    mode: Literal["post", "basic"] = "post"


@attrs.frozen
class ToyKeyOptions:
    key: Secret
    header: str = "X-Toy-Key"


class ToyPlugin:
    """Registered per test (``plugins=[ToyPlugin()]``): a fresh one each time."""

    def __init__(self) -> None:
        self.fetches = 0

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register("toy", ToyOptions)
        register("toy-key", ToyKeyOptions)

    @hookimpl
    def get_credentials(self, target: Target, http: requests.Session,
                        now: datetime) -> Credentials | None:
        if target.provider == "toy-key":
            return Credentials(value=target.options.key, expires_at=None)
        if target.provider != "toy":
            return None
        self.fetches += 1
        options: ToyOptions = target.options
        response = http.post(options.token_url, data={
            "grant_type": "client_credentials", "client_id": options.client_id,
            "client_secret": options.client_secret.reveal()})
        if response.status_code in (400, 401):
            raise CredentialsRejected(f"target {target.name}: the client was refused",
                                      target=target.name)
        try:
            answer = response.json()
            token, lifetime = answer["access_token"], float(answer["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise TokenEndpointError(f"target {target.name}: malformed token answer",
                                     target=target.name) from None
        return Credentials(value=Secret(token), expires_at=now + timedelta(seconds=lifetime))

    @hookimpl
    def apply_auth(self, target: Target, credentials: Credentials,
                   request: requests.PreparedRequest) -> bool | None:
        if target.provider == "toy":
            request.headers["Authorization"] = f"Bearer {credentials.value.reveal()}"
            return True
        if target.provider == "toy-key":
            request.headers[target.options.header] = credentials.value.reveal()
            return True
        return None

    @hookimpl
    def target_warnings(self, target: Target) -> list[str] | None:
        # The plugin knows its own options: the core does not guess at a token_url.
        if target.provider != "toy":
            return None
        token_url = target.options.token_url
        host = urlsplit(token_url).hostname or ""
        if urlsplit(token_url).scheme != "http" or host == "localhost" or _loopback(host):
            return []
        return [f"the token endpoint {token_url} is on plain http: the client secret would "
                f"cross the network unencrypted (the token request is refused); use https"]

    @hookimpl
    def explain_response(self, target: Target, response: requests.Response) -> str | None:
        if target.provider not in ("toy", "toy-key"):
            return None
        if response.status_code == 401:
            return "The toy provider says: rotate the toy secret."
        if response.status_code == 403:
            return "The toy provider says: this API needs a toy license."
        return None


def toy_target(url: str, client_id: str, secret_file: Path, prefix: str = "/v1/",
               **extra: Any) -> dict[str, Any]:
    """A ``toy`` target on ``url`` (an emulator's base URL) reading its secret from a file."""
    return {"provider": "toy", "hosts": [f"{url}{prefix}"], "client_id": client_id,
            "client_secret": {"file": str(secret_file)}, "token_url": f"{url}/token", **extra}


def load(config: dict[str, Any], *, sleep: Callable[[float], None] = lambda seconds: None,
         **kwargs: Any) -> unified_auth.UnifiedAuth:
    """A hub with only the core and the toy plugin: no bundled plugins, no sleeping."""
    kwargs["retry"] = attrs.evolve(kwargs.get("retry") or RetryPolicy(), sleep=sleep)
    return load_isolated(config, plugins=[ToyPlugin()], **kwargs)


def body(response: requests.Response) -> Any:
    return json.loads(response.content)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@attrs.frozen
class BystanderOptions:
    pass


class Bystander:
    """A provider whose hooks answer ``None`` and record that they were asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register("bystander", BystanderOptions)

    @hookimpl
    def get_credentials(self, target: Target) -> None:
        self.calls.append("get_credentials")

    @hookimpl
    def apply_auth(self, target: Target) -> None:
        self.calls.append("apply_auth")

    @hookimpl
    def target_warnings(self, target: Target) -> None:
        self.calls.append("target_warnings")

    @hookimpl
    def explain_response(self, target: Target) -> None:
        self.calls.append("explain_response")


def assert_never_offered_a_foreign_target(plugin: object) -> None:
    """Through the core's hooks, ``plugin`` never sees another plugin's target.

    The bystander answers ``None`` to everything, so a core that offered its target to
    every plugin would go on to ``plugin``, whose hooks (with no guard clause) fail on a
    target that is not theirs.
    """
    bystander = Bystander()
    hooks = Hooks(make_plugin_manager([plugin, bystander], entry_points=False)[0])
    other = Target(name="x", provider="bystander", hosts=("example.com",),
                   options=BystanderOptions())
    now = datetime.now(UTC)
    assert hooks.get_credentials(other, requests.Session(), now) is None
    assert hooks.apply_auth(other, Credentials(value=Secret("v"), expires_at=None),
                            requests.PreparedRequest(), now) is None
    assert hooks.target_warnings(other, now) == []
    assert hooks.explain_response(other, requests.Response()) is None
    assert bystander.calls == ["get_credentials", "apply_auth", "target_warnings",
                               "explain_response"]
