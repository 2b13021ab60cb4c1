"""All five bundled providers through one httpx.Client and one httpx.AsyncClient.

The emulators verify what arrives: Liana tokens, the legacy signature over the exact body
bytes and the path with its query, LiquidPlanner tokens, Basic and an API key.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import httpx
import pytest
from httpx_support import send

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.testing import (
    ClassicEmulator,
    LianaEmulator,
    LiquidPlannerEmulator,
    ManualClock,
    assert_no_leaks,
)
from unified_auth.testing.environment import EmulatedEnvironment


def calls(liana: str, lp: str, classic_url: str) -> list[tuple[str, str, dict[str, Any], Any]]:
    """(method, url, kwargs, what to find in the answer) for each provider."""
    return [
        ("GET", f"{liana}/v1/lists", {}, {"succeed": True}),
        ("POST", f"{liana}/api/v1/echoMessage", {"json": ["hello"]}, {"result": ["hello"]}),
        ("POST", f"{liana}/api/v1/echoMessage", {"json": {"text": "Hyvää päivää"}},
         {"result": {"text": "Hyvää päivää"}}),
        ("POST", f"{liana}/api/v1/echoMessage", {"content": b'{"raw": "bytes"}'},
         {"result": {"raw": "bytes"}}),
        ("GET", f"{liana}/api/v1/lists?page=2&q=a%20b", {},
         {"query": {"page": ["2"], "q": ["a b"]}}),
        ("GET", f"{liana}/api/v1/lists", {"params": {"page": "3"}}, {"query": {"page": ["3"]}}),
        ("GET", f"{lp}/api/workspaces/v1", {}, None),
        ("GET", f"{classic_url}/basic/me", {}, {"method": "basic"}),
        ("GET", f"{classic_url}/keyed/status", {}, {"method": "api-key"}),
    ]


def check(response: httpx.Response, expected: Any, outputs: list[str]) -> None:
    outputs.append(response.text)
    assert response.status_code == 200, (response.url, response.status_code, response.text)
    for key, value in (expected or {}).items():
        assert response.json()[key] == value


def test_five_providers_through_one_httpx_client(
        unified_auth_config: dict[str, Any], liana_emulator: LianaEmulator,
        liquidplanner_emulator: LiquidPlannerEmulator, classic_emulator: ClassicEmulator,
        unified_auth_clock: ManualClock, unified_auth_environment: EmulatedEnvironment,
        caplog: pytest.LogCaptureFixture) -> None:
    hub = unified_auth.load(unified_auth_config, clock=unified_auth_clock,
                            retry=RetryPolicy(sleep=lambda s: None))
    outputs: list[str] = []
    with caplog.at_level(logging.DEBUG), hub.httpx_client(timeout=5) as client:
        for method, url, kwargs, expected in calls(liana_emulator.url,
                                                   liquidplanner_emulator.url,
                                                   classic_emulator.url):
            check(client.request(method, url, **kwargs), expected, outputs)
    assert liana_emulator.counters.tokens_issued == 1
    assert liana_emulator.counters.rejected_requests == 0
    classic = classic_emulator.counters
    assert classic.basic_requests == 1 and classic.api_key_requests == 1
    assert_no_leaks([*outputs, caplog.text], unified_auth_environment.secret_values())


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_five_providers_through_one_httpx_async_client(
        backend: str, unified_auth_config: dict[str, Any], liana_emulator: LianaEmulator,
        liquidplanner_emulator: LiquidPlannerEmulator, classic_emulator: ClassicEmulator,
        unified_auth_clock: ManualClock, unified_auth_environment: EmulatedEnvironment,
        caplog: pytest.LogCaptureFixture) -> None:
    hub = unified_auth.load(unified_auth_config, clock=unified_auth_clock,
                            retry=RetryPolicy(sleep=lambda s: None))
    outputs: list[str] = []

    async def main() -> None:
        async with hub.httpx_async_client(timeout=5) as client:
            for method, url, kwargs, expected in calls(liana_emulator.url,
                                                       liquidplanner_emulator.url,
                                                       classic_emulator.url):
                check(await client.request(method, url, **kwargs), expected, outputs)

    with caplog.at_level(logging.DEBUG):
        anyio.run(main, backend=backend)
    assert liana_emulator.counters.tokens_issued == 1
    assert liana_emulator.counters.rejected_requests == 0
    classic = classic_emulator.counters
    assert classic.basic_requests == 1 and classic.api_key_requests == 1
    assert_no_leaks([*outputs, caplog.text], unified_auth_environment.secret_values())


def test_the_callers_request_object_never_carries_credentials(
        unified_auth_config: dict[str, Any], classic_emulator: ClassicEmulator,
        unified_auth_clock: ManualClock) -> None:
    hub = unified_auth.load(unified_auth_config, clock=unified_auth_clock)
    with hub.httpx_client(timeout=5) as client:
        request = client.build_request("GET", f"{classic_emulator.url}/keyed/status")
        response = client.send(request)
    assert response.json()["method"] == "api-key"
    assert "x-api-key" not in request.headers
    assert response.request is request


def test_an_unclaimed_host_gets_the_request_exactly_as_made(
        unified_auth_config: dict[str, Any], classic_emulator: ClassicEmulator,
        unified_auth_clock: ManualClock) -> None:
    hub = unified_auth.load(unified_auth_config, clock=unified_auth_clock)
    with hub.httpx_client(timeout=5) as client:
        response = client.get(f"{classic_emulator.url}/elsewhere", headers={"X-Mine": "1"})
    assert response.status_code == 401  # the emulator's root is no target's
    assert classic_emulator.counters.rejected_requests == 1


@pytest.mark.parametrize("entry", ["client", "async_client", "auth", "async_auth"])
def test_the_emulator_verifies_legacy_signatures_through_every_entry_point(
        unified_auth_config: dict[str, Any], liana_emulator: LianaEmulator,
        unified_auth_clock: ManualClock, entry: str) -> None:
    hub = unified_auth.load(unified_auth_config, clock=unified_auth_clock)
    url = f"{liana_emulator.url}/api/v1"
    listed = send(hub, entry, "liana-legacy", "GET", f"{url}/lists?page=2&q=%C3%A4+x")
    assert listed.status_code == 200, liana_emulator.last_rejection
    assert listed.json()["query"] == {"page": ["2"], "q": ["ä x"]}
    echoed = send(hub, entry, "liana-legacy", "POST", f"{url}/echoMessage",
                  content='{"text": "Hyvää päivää"}'.encode())
    assert echoed.status_code == 200, liana_emulator.last_rejection
    assert echoed.json()["result"] == {"text": "Hyvää päivää"}
    assert liana_emulator.counters.rejected_requests == 0
