"""All five bundled providers through one ``ua.aiohttp_session()``, and the bodies aiohttp
streams: the emulators verify what arrives (Liana tokens, the legacy signature over the
exact body bytes and the path with its query, LiquidPlanner tokens, Basic, an API key)."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.errors import PluginError
from unified_auth.testing import (
    ClassicEmulator,
    LianaEmulator,
    LiquidPlannerEmulator,
    ManualClock,
    assert_no_leaks,
)
from unified_auth.testing.environment import EmulatedEnvironment


@pytest.fixture
def hub(unified_auth_config: dict[str, Any],
        unified_auth_clock: ManualClock) -> unified_auth.UnifiedAuth:
    return unified_auth.load(unified_auth_config, clock=unified_auth_clock,
                             retry=RetryPolicy(sleep=lambda s: None))


def post(hub: unified_auth.UnifiedAuth, url: str, **kwargs: Any) -> tuple[int, Any]:
    """One POST through a fresh session: the status and the JSON answer."""
    async def main() -> tuple[int, Any]:
        async with hub.aiohttp_session() as session, session.post(url, **kwargs) as response:
            return response.status, await response.json()

    return anyio.run(main)


def test_five_providers_through_one_aiohttp_session(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator,
        liquidplanner_emulator: LiquidPlannerEmulator, classic_emulator: ClassicEmulator,
        unified_auth_environment: EmulatedEnvironment,
        caplog: pytest.LogCaptureFixture) -> None:
    liana, lp, classic = liana_emulator.url, liquidplanner_emulator.url, classic_emulator.url
    calls: list[tuple[str, str, dict[str, Any], Any]] = [
        ("GET", f"{liana}/v1/lists", {}, {"succeed": True}),
        ("POST", f"{liana}/api/v1/echoMessage", {"json": ["hello"]}, {"result": ["hello"]}),
        ("POST", f"{liana}/api/v1/echoMessage", {"data": '{"text": "Hyvää päivää"}'},
         {"result": {"text": "Hyvää päivää"}}),
        ("GET", f"{liana}/api/v1/lists?page=2&q=a%20b", {},
         {"query": {"page": ["2"], "q": ["a b"]}}),
        ("GET", f"{liana}/api/v1/lists", {"params": {"page": "3"}}, {"query": {"page": ["3"]}}),
        ("GET", f"{lp}/api/workspaces/v1", {}, None),
        ("GET", f"{classic}/basic/me", {}, {"method": "basic"}),
        ("GET", f"{classic}/keyed/status", {}, {"method": "api-key"}),
    ]
    outputs: list[str] = []

    async def main() -> None:
        async with hub.aiohttp_session() as session:
            for method, url, kwargs, expected in calls:
                async with session.request(method, url, **kwargs) as response:
                    text = await response.text()
                    outputs.extend([text, repr(response), repr(response.request_info)])
                    assert response.status == 200, (url, response.status, text)
                    answer = await response.json()
                    for key, value in (expected or {}).items():
                        assert answer[key] == value, (url, answer)

    with caplog.at_level(logging.DEBUG, logger="unified_auth"):
        anyio.run(main)
    assert liana_emulator.counters.tokens_issued == 1
    assert liana_emulator.counters.rejected_requests == 0, liana_emulator.last_rejection
    assert (classic_emulator.counters.basic_requests,
            classic_emulator.counters.api_key_requests) == (1, 1)
    # The answers' request_info is the caller's request: the credentials were taken off.
    assert_no_leaks([*outputs, caplog.text], unified_auth_environment.secret_values())


def test_a_file_body_is_read_once_and_signed(hub: unified_auth.UnifiedAuth,
                                             liana_emulator: LianaEmulator,
                                             tmp_path: Path) -> None:
    path = tmp_path / "message.json"
    path.write_bytes('{"from": "a file", "text": "päivää"}'.encode())
    url = f"{liana_emulator.url}/api/v1/echoMessage"
    with path.open("rb") as file:
        assert post(hub, url, data=file) == (200, {"succeed": True, "result": {
            "from": "a file", "text": "päivää"}})
    assert post(hub, url, data=io.BytesIO(b'{"in": "memory"}'))[1]["result"] == {"in": "memory"}
    assert liana_emulator.counters.rejected_requests == 0, liana_emulator.last_rejection


def test_a_multipart_form_is_signed_over_its_exact_bytes(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator) -> None:
    form = aiohttp.FormData()
    form.add_field("note", "hello")
    form.add_field("upload", io.BytesIO(b"attached bytes"), filename="a.bin")
    status, answer = post(hub, f"{liana_emulator.url}/api/v1/echoMessage", data=form)
    # The signature held (no 401): the emulator then refuses the body, which is not JSON.
    assert (status, answer["message"]) == (400, "Body is not valid JSON")
    assert liana_emulator.counters.rejected_requests == 0, liana_emulator.last_rejection


async def chunks() -> AsyncIterator[bytes]:
    yield b'["streamed"]'


def test_an_async_iterable_body_cannot_be_signed_and_the_error_says_so(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator) -> None:
    with pytest.raises(PluginError, match="cannot sign") as failure:
        post(hub, f"{liana_emulator.url}/api/v1/echoMessage", data=chunks())
    assert isinstance(failure.value, aiohttp.ClientError)
    assert liana_emulator.counters.api_requests == 0


def test_an_async_iterable_body_with_a_bearer_token_is_sent_once_and_not_retried(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator,
        caplog: pytest.LogCaptureFixture) -> None:
    hub.credentials("liana")
    liana_emulator.revoke_tokens()
    with caplog.at_level(logging.INFO, logger="unified_auth"):
        status, _ = post(hub, f"{liana_emulator.url}/v1/echoMessage", data=chunks(),
                         headers={"Content-Length": "12"})  # the emulator takes no chunks
    assert status == 401
    assert "not retried" in caplog.text
    assert liana_emulator.counters.api_requests == 1
    # The refused token was dropped: the next request fetches a fresh one.
    assert post(hub, f"{liana_emulator.url}/v1/echoMessage", json=[1])[0] == 200
    assert liana_emulator.counters.tokens_issued == 2


def test_a_file_body_gets_no_retry_after_a_401(hub: unified_auth.UnifiedAuth,
                                               liana_emulator: LianaEmulator,
                                               tmp_path: Path) -> None:
    hub.credentials("liana")
    liana_emulator.revoke_tokens()
    path = tmp_path / "body.json"
    path.write_bytes(b'["file"]')
    with path.open("rb") as file:
        assert post(hub, f"{liana_emulator.url}/v1/echoMessage", data=file)[0] == 401
    assert liana_emulator.counters.api_requests == 1
