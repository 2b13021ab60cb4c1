"""``ua.aiohttp_session(**kwargs)``: aiohttp's own session, its keyword arguments passed on,
the caller's middlewares kept (ours after them, seeing every hop), closed as aiohttp's is."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from httpx_support import hop_server
from recorder import Recorder

import unified_auth
from unified_auth.errors import AccessDenied
from unified_auth.testing import LianaEmulator, LiquidPlannerEmulator, assert_no_leaks

KEY = "aiohttp-session-key-0123456789"


@pytest.fixture
def api() -> Iterator[Recorder]:
    with hop_server() as server:
        yield server


@pytest.fixture
def hub(api: Recorder, tmp_path: Path) -> unified_auth.UnifiedAuth:
    (tmp_path / "key").write_text(KEY)
    (tmp_path / "key").chmod(0o600)
    key = {"file": str(tmp_path / "key")}
    return unified_auth.load({"targets": {"keyed": {
        "provider": "api-key", "hosts": [f"{api.url}/keyed/"], "key": key}}})


def test_keyword_arguments_reach_aiohttp(hub: unified_auth.UnifiedAuth, api: Recorder) -> None:
    async def main() -> aiohttp.ClientSession:
        async with hub.aiohttp_session(base_url=f"{api.url}/", headers={"X-Mine": "1"},
                                       timeout=aiohttp.ClientTimeout(total=7)) as session:
            assert session.timeout.total == 7
            async with session.get("keyed/a") as response:
                assert response.status == 200
            return session

    session = anyio.run(main)
    assert session.closed  # async with closes it, connector and all, as aiohttp's own
    seen = api.matching("/keyed/a")[0].headers
    assert (seen["X-Mine"], seen["X-API-Key"]) == ("1", KEY)


def test_the_callers_middlewares_run_first_for_every_hop_and_never_see_credentials(
        hub: unified_auth.UnifiedAuth, api: Recorder) -> None:
    calls: list[tuple[str, bool, bool]] = []

    async def mine(request: aiohttp.ClientRequest,
                   handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
        before = "X-API-Key" in request.headers
        response = await handler(request)
        calls.append((request.url.path, before, "X-API-Key" in request.headers))
        return response

    landed = f"{api.url}/keyed/landed"
    url = f"{api.url}/keyed/hop?case=mw&status=302&to={landed}"

    async def main() -> list[str]:
        async with hub.aiohttp_session(middlewares=(mine,)) as session, \
                session.get(url) as response:
            assert response.status == 200
            outputs = [repr(hop.request_info) for hop in (*response.history, response)]
            return outputs

    outputs = anyio.run(main)
    assert calls == [("/keyed/hop", False, False), ("/keyed/landed", False, False)]
    assert [seen.headers["X-API-Key"] for seen in api.seen] == [KEY, KEY]  # each hop its own
    assert_no_leaks(outputs, [KEY])


def test_a_host_no_target_owns_gets_the_request_as_made(hub: unified_auth.UnifiedAuth,
                                                       api: Recorder) -> None:
    async def main() -> int:
        async with hub.aiohttp_session() as session, \
                session.get(f"{api.url}/nobody", headers={"X-API-Key": "mine"}) as response:
            return response.status

    assert anyio.run(main) == 200
    assert api.matching("/nobody")[0].headers["X-API-Key"] == "mine"


def test_raise_for_status_errors_show_no_credentials(hub: unified_auth.UnifiedAuth,
                                                     api: Recorder) -> None:
    url = f"{api.url}/keyed/hop?case=rfs&status=418&to=nowhere"

    async def main() -> None:
        async with hub.aiohttp_session(raise_for_status=True) as session:
            await session.get(url)

    with pytest.raises(aiohttp.ClientResponseError) as failure:
        anyio.run(main)
    assert failure.value.status == 418
    assert api.matching("case=rfs")[0].headers["X-API-Key"] == KEY
    assert_no_leaks([repr(failure.value), str(failure.value)], [KEY])


def test_an_unlicensed_api_raises_access_denied_that_is_an_aiohttp_error_with_the_answer(
        unified_auth_config: dict[str, Any], liana_emulator: LianaEmulator) -> None:
    hub = unified_auth.load(unified_auth_config)
    liana_emulator.api_enabled = False

    async def main() -> Any:
        async with hub.aiohttp_session() as session:
            with pytest.raises(AccessDenied, match="API license") as failure:
                await session.get(f"{liana_emulator.url}/v1/lists")
            assert isinstance(failure.value, aiohttp.ClientError)
            response = failure.value.response
            assert isinstance(response, aiohttp.ClientResponse) and response.status == 403
            return await response.json()  # read before it was raised: still there

    assert "API not enabled" in anyio.run(main)["message"]


def test_a_404_is_explained_once_and_its_body_stays_the_callers(
        unified_auth_config: dict[str, Any], liquidplanner_emulator: LiquidPlannerEmulator,
        caplog: pytest.LogCaptureFixture) -> None:
    hub = unified_auth.load(unified_auth_config)
    url = f"{liquidplanner_emulator.url}/api/nothing/here"

    async def main() -> list[Any]:
        async with hub.aiohttp_session() as session:
            answers = []
            for _ in range(2):
                async with session.get(url) as response:
                    answers.append((response.status, await response.json()))
            return answers

    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        answers = anyio.run(main)
    assert answers == [(404, {"error": "Not found"})] * 2
    explained = [r for r in caplog.records if "target liquidplanner: 404" in r.getMessage()]
    assert len(explained) == 1


def test_without_aiohttp_the_session_says_which_extra_to_install(tmp_path: Path) -> None:
    script = f"""
import sys
sys.modules["aiohttp"] = None  # importing it now fails, as it would without the extra
import unified_auth
hub = unified_auth.load({json.dumps({"targets": {}})})
hub.session()
try:
    hub.aiohttp_session()
except ImportError as error:
    print(error)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "pip install 'unified-auth[aiohttp]'" in done.stdout


def test_owners_remembered_per_url_stay_bounded_and_right(
        hub: unified_auth.UnifiedAuth, api: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    # The middleware remembers each URL's owner; with room for two, the third URL and the
    # ones after still get exactly their own target's credentials, or none.
    from unified_auth.clients import aiohttp_session as module

    monkeypatch.setattr(module, "URL_CACHE_SIZE", 2)
    paths = ["/keyed/1", "/other/1", "/keyed/2", "/keyed/1", "/other/2", "/keyed/3"]

    async def main() -> int:
        async with hub.aiohttp_session() as session:
            for path in paths:
                async with session.get(f"{api.url}{path}") as response:
                    assert response.status == 200
            middleware = session._middlewares[-1]
            return len(middleware._owners)

    remembered = anyio.run(main)
    assert remembered <= 2
    sent = [(seen.target, seen.headers.get("X-API-Key")) for seen in api.seen]
    assert sent == [(path, KEY if path.startswith("/keyed/") else None) for path in paths]
