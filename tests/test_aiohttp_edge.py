"""The aiohttp edge: what a signer changes on the AuthRequest (URL, body, headers added and
removed) is exactly what aiohttp sends, and the headers are the caller's again afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from httpx_support import hop_server
from recorder import Recorder
from test_httpx_edge import KEY, QueryKeyPlugin

import unified_auth
from unified_auth.testing import load_isolated


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with hop_server() as server:
        yield server


@pytest.fixture
def hub(recorder: Recorder, tmp_path: Any) -> unified_auth.UnifiedAuth:
    (tmp_path / "key").write_text(KEY)
    (tmp_path / "key").chmod(0o600)
    config = {"targets": {"q": {"provider": "query-key", "hosts": [f"{recorder.url}/q/"],
                                "key": {"file": str(tmp_path / "key")}}}}
    return load_isolated(config, plugins=[QueryKeyPlugin()])


def test_what_a_signer_changes_is_sent_and_the_callers_headers_come_back(
        hub: unified_auth.UnifiedAuth, recorder: Recorder) -> None:
    async def main() -> dict[str, str]:
        async with hub.aiohttp_session() as session, session.post(
                f"{recorder.url}/q/items?page=2&q=a%20b", data=b'{"x": 1}',
                headers={"X-Gone": "mine"}) as response:
            assert response.status == 200
            return dict(response.request_info.headers)

    after = anyio.run(main)
    seen = recorder.matching("/q/items")[0]
    assert seen.target == f"/q/items?page=2&q=a%20b&api_key={KEY}"
    assert seen.headers["X-Signed-Path"] == "/q/items?page=2&q=a%20b"
    assert seen.body == b'{"x": 1}\n'
    assert seen.headers["Content-Length"] == "9"
    assert "X-Gone" not in seen.headers  # the plugin removed it, and set Authorization
    # aiohttp writes header values as UTF-8 (requests and httpx: latin-1).
    assert seen.headers["Authorization"] == "Bearer t\xe9".encode().decode("latin-1")
    # Once answered, the request's headers are the caller's again.
    assert after["X-Gone"] == "mine"
    assert "X-Signed-Path" not in after and "Authorization" not in after


def test_a_retry_after_a_401_is_signed_afresh_over_the_callers_request(
        hub: unified_auth.UnifiedAuth, recorder: Recorder) -> None:
    url = f"{recorder.url}/q/hop?case=retry&status=200&to=nowhere&unauth=1"

    async def main() -> int:
        async with hub.aiohttp_session() as session, \
                session.post(url, data=b'{"x": 1}') as response:
            return response.status

    assert anyio.run(main) == 200
    first, retry = recorder.matching("case=retry")
    for seen in (first, retry):  # one key and one rewrite each, not the first's twice
        assert seen.target.count("api_key=") == 1
        assert seen.body == b'{"x": 1}\n'
