"""The core checks every provider's credentials fit for an HTTP header, once, for all plugins.

A naive plugin that hands out what a token endpoint said, line break and all, must not
get a request sent with an injected header, nor a secret quoted in an error.
"""

from __future__ import annotations

from datetime import datetime

import attrs
import pytest
import requests

from unified_auth import Credentials, RetryPolicy, Secret, Target, hookimpl
from unified_auth.errors import TokenEndpointError
from unified_auth.model import header_problem
from unified_auth.testing import ManualClock, assert_no_leaks, load_isolated

CANARY = "naive-token-canary-5d4c3b2a"


@attrs.frozen
class NaiveOptions:
    pass


class NaivePlugin:
    """Returns whatever token it is told to, unchecked, as a plugin might."""

    def __init__(self, token: str, token_type: str = "Bearer") -> None:
        self.token = token
        self.token_type = token_type
        self.calls = 0

    @hookimpl
    def register_providers(self, register: object) -> None:
        register("naive", NaiveOptions)  # type: ignore[operator]

    @hookimpl
    def get_credentials(self, target: Target) -> Credentials:
        self.calls += 1
        return Credentials(value=Secret(self.token), expires_at=None,
                           token_type=self.token_type)

    @hookimpl
    def apply_auth(self, target: Target, credentials: Credentials,
                   request: requests.PreparedRequest, now: datetime) -> bool:
        request.headers["Authorization"] = f"{credentials.token_type} {credentials.value.reveal()}"
        return True


def hub_with(plugin: NaivePlugin):  # type: ignore[no-untyped-def]
    config = {"targets": {"n": {"provider": "naive", "hosts": ["n.example.com"]}}}
    return load_isolated(config, plugins=[plugin], clock=ManualClock(1_800_000_000.0),
                         retry=RetryPolicy(sleep=lambda seconds: None))


@pytest.mark.parametrize(("token", "said"), [
    (f"{CANARY}\r\nX-Evil: 1", "a line break (character 28 of 38)"),
    (f"{CANARY}\n", "a line break"),
    (f"{CANARY} more", "a space"),
    (f"{CANARY}\x00", "a control character"),
    (f"{CANARY}\x7f", "a control character"),
    (f"{CANARY}é", "a non-ASCII character"),
    (f"{CANARY}\u00a0", "a non-ASCII character"),
    ("", "nothing: it is empty"),  # found by hypothesis: a naive plugin's empty access_token
])
def test_a_token_that_cannot_go_in_a_header_is_refused_without_quoting_it(
        token: str, said: str, caplog: pytest.LogCaptureFixture) -> None:
    plugin = NaivePlugin(token)
    with pytest.raises(TokenEndpointError) as caught:
        hub_with(plugin).credentials("n")
    message = str(caught.value)
    assert said in message and "cannot go in an HTTP header" in message
    assert "target n: plugin" in message
    assert plugin.calls == 3  # refused like any bad answer: retried, then given up
    assert_no_leaks([message, repr(caught.value), caplog.text], [CANARY])


def test_a_token_type_that_cannot_go_in_a_header_is_refused() -> None:
    with pytest.raises(TokenEndpointError, match="token_type holds a space"):
        hub_with(NaivePlugin(CANARY, token_type="Bearer x")).credentials("n")


def test_a_sendable_token_passes_and_an_empty_token_type_is_allowed() -> None:
    assert hub_with(NaivePlugin(CANARY, token_type="")).credentials("n").value.reveal() == CANARY


@pytest.mark.parametrize("text", ["abc", "A-Za-z0-9._~+/=", "!\"#$%&'()*,:;<>?@[\\]^`{|}"])
def test_visible_ascii_is_header_safe(text: str) -> None:
    assert header_problem(text) is None


def test_empty_is_not_header_safe() -> None:
    assert header_problem("") == "nothing: it is empty"
