"""A 401, through every client driver (tests/drivers.py): the lease is dropped, one fetch,
one retry if the body is in memory, then AuthFailed with the provider's explanation. Never
a loop. An answer from a URL the target does not own is never judged."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import anyio
import httpx
import pytest
import requests
from drivers import AIOHTTP_DRIVERS, ASYNC_DRIVERS, DRIVERS, REQUESTS_DRIVERS, Drivers
from httpx_support import Entry, send

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.errors import AccessDenied, AuthFailed, PluginError
from unified_auth.testing import LianaEmulator, LiquidPlannerEmulator, ManualClock


@pytest.fixture
def hub(unified_auth_config: dict[str, Any],
        unified_auth_clock: ManualClock) -> unified_auth.UnifiedAuth:
    return unified_auth.load(unified_auth_config, clock=unified_auth_clock,
                             retry=RetryPolicy(sleep=lambda s: None))


@pytest.fixture
def drivers(hub: unified_auth.UnifiedAuth) -> Iterator[Drivers]:
    clients = Drivers(hub)
    yield clients
    clients.close()


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_revoked_token_is_dropped_refetched_once_and_the_request_retried(
        hub: unified_auth.UnifiedAuth, drivers: Drivers, liana_emulator: LianaEmulator,
        driver: str) -> None:
    hub.credentials("liana")
    liana_emulator.revoke_tokens()
    response = drivers.send(driver, "liana", "GET", f"{liana_emulator.url}/v1/lists")
    assert response.status == 200
    counters = liana_emulator.counters
    assert counters.tokens_issued == 2
    assert counters.api_requests == 2  # the 401, then the retry
    stats = hub.stats("liana")
    assert (stats.fetches, stats.rejections) == (2, 1)  # ua.stats() sees httpx traffic too


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_post_is_retried_with_the_same_body_bytes(
        hub: unified_auth.UnifiedAuth, drivers: Drivers, liana_emulator: LianaEmulator,
        driver: str) -> None:
    hub.credentials("liana")
    liana_emulator.revoke_tokens()
    response = drivers.send(driver, "liana", "POST", f"{liana_emulator.url}/v1/echoMessage",
                            json={"a": [1, "ä"]})
    assert response.status == 200
    assert response.json()["result"] == {"a": [1, "ä"]}
    assert liana_emulator.counters.tokens_issued == 2


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_second_401_raises_auth_failed_naming_the_target_with_the_explanation(
        drivers: Drivers, liquidplanner_emulator: LiquidPlannerEmulator, driver: str) -> None:
    lp = liquidplanner_emulator
    assert lp.example is not None
    lp.disconnect_member(lp.example.editor_id)
    with pytest.raises(AuthFailed) as failure:
        drivers.send(driver, "liquidplanner", "GET", f"{lp.url}/api/workspaces/v1")
    message = str(failure.value)
    assert "target liquidplanner" in message and "retried once" in message
    assert "disconnected" in message
    error = failure.value
    # The error carries the driver's own answer and request objects.
    if driver in AIOHTTP_DRIVERS:
        assert isinstance(error, aiohttp.ClientError)  # aiohttp passes it on as it is
        assert isinstance(error.response, aiohttp.ClientResponse)
        assert error.response.status == 401
        assert isinstance(error.request, aiohttp.RequestInfo)
        assert "authorization" not in error.request.headers  # taken off once answered
    else:
        library = requests if driver in REQUESTS_DRIVERS else httpx
        assert isinstance(error.response, library.Response)
        assert error.response.status_code == 401
        assert isinstance(error.request, library.Request if library is httpx else
                          requests.PreparedRequest)
    assert lp.counters.api_requests == 2  # once, and once more: never a loop


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_streamed_body_is_sent_once_and_its_401_handed_back(
        hub: unified_auth.UnifiedAuth, drivers: Drivers, liana_emulator: LianaEmulator,
        driver: str) -> None:
    hub.credentials("liana")
    liana_emulator.revoke_tokens()
    # A body that can be sent once: a file for requests, chunks for httpx.
    body: object = io.BytesIO(b'["streamed"]') if driver in REQUESTS_DRIVERS else \
        async_chunks() if driver in ASYNC_DRIVERS else chunks()
    response = drivers.send(driver, "liana", "POST", f"{liana_emulator.url}/v1/echoMessage",
                            data=body, headers={"Content-Length": "12"})
    assert response.status == 401
    assert liana_emulator.counters.api_requests == 1
    assert hub.stats("liana").rejections == 1  # and the refused token was dropped:
    assert drivers.send(driver, "liana", "GET", f"{liana_emulator.url}/v1/lists").status == 200
    assert liana_emulator.counters.tokens_issued == 2


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_401_from_a_url_the_target_does_not_own_is_not_judged(
        hub: unified_auth.UnifiedAuth, drivers: Drivers, liana_emulator: LianaEmulator,
        driver: str) -> None:
    hub.credentials("liana")
    response = drivers.send(driver, "liana", "GET", f"{liana_emulator.url}/elsewhere")
    assert response.status == 401  # the emulator's answer to a request without a token
    assert liana_emulator.counters.api_requests == 1
    assert liana_emulator.counters.tokens_issued == 1
    assert hub.stats("liana").rejections == 0


def chunks() -> Iterator[bytes]:
    yield b'["streamed"]'


async def async_chunks() -> AsyncIterator[bytes]:
    yield b'["streamed"]'


def test_a_streamed_body_is_sent_once_and_not_retried(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator,
        caplog: pytest.LogCaptureFixture) -> None:
    hub.credentials("liana")
    liana_emulator.revoke_tokens()
    with caplog.at_level(logging.INFO, logger="unified_auth"), \
            hub.httpx_client(timeout=5) as client:
        response = client.post(f"{liana_emulator.url}/v1/echoMessage", content=chunks(),
                               headers={"Content-Length": "12"})
        assert response.status_code == 401
        assert "not retried" in caplog.text
        assert liana_emulator.counters.api_requests == 1
        # The rejected token was dropped: the next request fetches a fresh one.
        assert client.get(f"{liana_emulator.url}/v1/lists").status_code == 200
    assert liana_emulator.counters.tokens_issued == 2


def test_an_async_streamed_body_is_sent_once_and_not_retried(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator) -> None:
    hub.credentials("liana")
    liana_emulator.revoke_tokens()

    async def main() -> int:
        async with hub.httpx_async_client(timeout=5) as client:
            response = await client.post(f"{liana_emulator.url}/v1/echoMessage",
                                         content=async_chunks(),
                                         headers={"Content-Length": "12"})
            return response.status_code

    assert anyio.run(main) == 401
    assert liana_emulator.counters.api_requests == 1


def test_a_streamed_body_cannot_be_signed_and_the_error_says_so(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator) -> None:
    with hub.httpx_client(timeout=5) as client, pytest.raises(PluginError) as failure:
        client.post(f"{liana_emulator.url}/api/v1/echoMessage", content=chunks())
    assert "cannot sign" in str(failure.value)
    assert liana_emulator.counters.api_requests == 0


def test_a_404_is_explained_once_per_target_and_the_body_stays_the_callers(
        hub: unified_auth.UnifiedAuth, liquidplanner_emulator: LiquidPlannerEmulator,
        caplog: pytest.LogCaptureFixture) -> None:
    url = f"{liquidplanner_emulator.url}/api/nothing/here"
    with caplog.at_level(logging.WARNING, logger="unified_auth"), \
            hub.httpx_client(timeout=5) as client:
        first = client.get(url)
        with client.stream("GET", url) as second:
            streamed = second.read()
    assert first.status_code == second.status_code == 404
    assert first.json() == {"error": "Not found"}
    assert streamed == first.content
    explained = [r for r in caplog.records if "target liquidplanner: 404" in r.getMessage()]
    assert len(explained) == 1
    assert "acts with its owner's access level" in explained[0].getMessage()


@pytest.mark.parametrize("entry", ["client", "async_client"])
def test_an_unlicensed_api_raises_access_denied_with_the_httpx_answer(
        hub: unified_auth.UnifiedAuth, liana_emulator: LianaEmulator, entry: Entry) -> None:
    liana_emulator.api_enabled = False
    with pytest.raises(AccessDenied) as failure:
        send(hub, entry, "liana", "GET", f"{liana_emulator.url}/v1/lists")
    assert "API license" in str(failure.value)
    response = failure.value.response
    assert isinstance(response, httpx.Response) and response.status_code == 403
    assert "API not enabled" in response.json()["message"]


@pytest.mark.parametrize("entry", ["auth", "async_auth"])
def test_httpx_auth_explains_a_404_too(
        hub: unified_auth.UnifiedAuth, liquidplanner_emulator: LiquidPlannerEmulator,
        entry: Entry, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        response = send(hub, entry, "liquidplanner", "GET",
                        f"{liquidplanner_emulator.url}/api/nothing/here")
    assert response.status_code == 404 and response.json() == {"error": "Not found"}
    assert "target liquidplanner: 404" in caplog.text
