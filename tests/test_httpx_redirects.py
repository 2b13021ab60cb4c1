"""Redirects never carry credentials to a foreign side, through every httpx entry point.

The matrix of issue 8, for httpx: statuses 301/302/303/307/308 x {same origin (a path no
target claims), other port, other host (127.0.0.2), another target's host} x {the first
answer, the answer to the request retried after a 401} x the five auth forms x the
entry points (``httpx_client``, ``httpx_async_client``, and ``httpx_auth`` on plain clients
whose ``next_request`` is followed by hand). What the landing side received is searched
for every secret and every credential header value the origin received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import anyio
import httpx
import pytest
from httpx_support import hop_server
from recorder import Recorder

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks

FORMS = ["liana", "legacy", "lp", "basic", "keyed"]
STATUSES = [301, 302, 303, 307, 308]
DESTINATIONS = ["same-origin", "other-port", "other-host", "other-target"]
PHASES = ["first", "after-401"]
NEIGHBOUR_KEY = "neighbour-key-0123456789"
CREDENTIAL_HEADERS = ("authorization", "x-api-key")


class World:
    """The origin API (every form under its own prefix), three other sides, the hub."""

    def __init__(self, origin: Recorder, other_port: Recorder, other_host: Recorder,
                 neighbour: Recorder, hub: unified_auth.UnifiedAuth,
                 secrets: dict[str, str]) -> None:
        self.origin, self.hub, self.secrets = origin, hub, secrets
        self.sides = {"same-origin": origin, "other-port": other_port,
                      "other-host": other_host, "other-target": neighbour}

    def case_url(self, entry: str, form: str, status: int, destination: str,
                 phase: str) -> tuple[str, str]:
        case = f"{entry}-{form}-{status}-{destination}-{phase}"
        landing = f"{self.sides[destination].url}/landed/{case}"
        query = {"case": case, "status": status, "to": landing,
                 "unauth": "1" if phase == "after-401" else "0"}
        return case, f"{self.origin.url}/{form}/hop?{urlencode(query)}"

    def check(self, case: str, destination: str, *, routed: bool) -> None:
        at_origin = self.origin.matching(f"case={case}&")
        assert at_origin, case
        assert all(any(h.lower() in CREDENTIAL_HEADERS for h in r.headers)
                   for r in at_origin), (case, "the origin got no credentials")
        assert len(at_origin) == (2 if case.endswith("after-401") else 1), case
        landing = self.sides[destination]
        landed = landing.matching(f"/landed/{case}")
        assert len(landed) == 1, (case, landed)
        sent = [v for r in at_origin for k, v in r.headers.items()
                if k.lower() in CREDENTIAL_HEADERS]
        secrets = [v for name, v in self.secrets.items() if name != "neighbour"]
        assert_no_leaks(landing.text(f"/landed/{case}"), [*secrets, *sent])
        if destination == "other-target" and routed:
            # Routed afresh: the neighbour's own key, and only that.
            assert landed[0].headers["X-API-Key"] == NEIGHBOUR_KEY, case


@pytest.fixture
def world(unified_auth_clock: ManualClock, liana_emulator: LianaEmulator,
          tmp_path: Path) -> Iterator[World]:
    client_id, client_secret = liana_emulator.create_credential("redirects")
    secrets = {"liana": client_secret, "legacy": "legacy-secret-0123456789",
               "lp": "lp-token-0123456789abcdef", "basic": "basic-password-0123456789",
               "keyed": "keyed-key-0123456789", "neighbour": NEIGHBOUR_KEY}
    for name, value in secrets.items():
        (tmp_path / name).write_text(value)

    def secret(name: str) -> dict[str, str]:
        return {"file": str(tmp_path / name)}

    with hop_server() as origin, hop_server() as other_port, \
            hop_server("127.0.0.2") as other_host, hop_server("127.0.0.3") as neighbour:
        targets = {
            "liana": {"provider": "liana", "hosts": [f"{origin.url}/liana/"],
                      "client_id": client_id, "client_secret": secret("liana"),
                      "token_url": liana_emulator.token_url},
            "legacy": {"provider": "liana-legacy", "hosts": [f"{origin.url}/legacy/"],
                       "realm": "LianaMailer", "user_id": "1001", "secret": secret("legacy")},
            "lp": {"provider": "liquidplanner", "hosts": [f"{origin.url}/lp/"],
                   "token": secret("lp")},
            "basic": {"provider": "basic", "hosts": [f"{origin.url}/basic/"],
                      "username": "me@example.com", "password": secret("basic")},
            "keyed": {"provider": "api-key", "hosts": [f"{origin.url}/keyed/"],
                      "key": secret("keyed")},
            "neighbour": {"provider": "api-key", "hosts": [f"{neighbour.url}/"],
                          "key": secret("neighbour")},
        }
        hub = unified_auth.load({"targets": targets}, clock=unified_auth_clock,
                                retry=RetryPolicy(sleep=lambda s: None))
        yield World(origin, other_port, other_host, neighbour, hub, secrets)


def cases() -> Iterator[tuple[int, str, str]]:
    for status in STATUSES:
        for destination in DESTINATIONS:
            for phase in PHASES:
                yield status, destination, phase


BODY = {"json": {"note": "a body, resent on 307/308"}}


@pytest.mark.parametrize("form", FORMS)
def test_httpx_client_redirects_never_carry_credentials_away(world: World, form: str) -> None:
    with world.hub.httpx_client(follow_redirects=True, timeout=5) as client:
        for status, destination, phase in cases():
            case, url = world.case_url("client", form, status, destination, phase)
            assert client.post(url, **BODY).status_code == 200, case
            world.check(case, destination, routed=True)


@pytest.mark.parametrize("form", FORMS)
def test_httpx_async_client_redirects_never_carry_credentials_away(world: World,
                                                                   form: str) -> None:
    async def main() -> None:
        async with world.hub.httpx_async_client(follow_redirects=True, timeout=5) as client:
            for status, destination, phase in cases():
                case, url = world.case_url("async", form, status, destination, phase)
                assert (await client.post(url, **BODY)).status_code == 200, case
                world.check(case, destination, routed=True)

    anyio.run(main)


def follow(send: Callable[[httpx.Request], httpx.Response],
           response: httpx.Response) -> httpx.Response:
    for _ in range(5):
        if response.next_request is None:
            return response
        response = send(response.next_request)
    raise AssertionError("too many redirects")


@pytest.mark.parametrize("form", FORMS)
def test_httpx_auth_next_requests_never_carry_credentials_away(world: World,
                                                               form: str) -> None:
    with httpx.Client(auth=world.hub.httpx_auth(form), timeout=5) as client:
        for status, destination, phase in cases():
            case, url = world.case_url("auth", form, status, destination, phase)
            first = client.post(url, **BODY)
            assert first.status_code == status, case
            assert follow(client.send, first).status_code == 200, case
            world.check(case, destination, routed=False)


@pytest.mark.parametrize("form", FORMS)
def test_async_httpx_auth_next_requests_never_carry_credentials_away(world: World,
                                                                     form: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(auth=world.hub.httpx_auth(form), timeout=5) as client:
            for status, destination, phase in cases():
                case, url = world.case_url("async-auth", form, status, destination, phase)
                response = await client.post(url, **BODY)
                assert response.status_code == status, case
                for _ in range(5):
                    if response.next_request is None:
                        break
                    response = await client.send(response.next_request)
                assert response.status_code == 200, case
                world.check(case, destination, routed=False)

    anyio.run(main)


def test_a_redirect_within_the_target_is_authenticated_afresh(world: World) -> None:
    with world.hub.httpx_client(follow_redirects=True, timeout=5) as client:
        query = urlencode({"case": "within", "status": 307,
                           "to": f"{world.origin.url}/keyed/landed/within"})
        assert client.post(f"{world.origin.url}/keyed/hop?{query}", **BODY).status_code == 200
    landed = world.origin.matching("/keyed/landed/within")
    assert landed[0].headers["X-API-Key"] == world.secrets["keyed"]


def test_the_liana_token_at_the_origin_is_the_one_fetched(world: World) -> None:
    """Keeps the matrix honest: the credential values it searches for are the real ones."""
    with world.hub.httpx_client(timeout=5) as client:
        client.get(f"{world.origin.url}/liana/x")
    token = world.hub.credentials("liana").value.reveal()
    seen = world.origin.matching("/liana/x")[0].headers
    assert seen["Authorization"] == f"Bearer {token}"


def test_httpx_auth_on_a_client_that_follows_redirects_says_what_httpx_copied(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    """httpx follows redirects without asking the Auth; the Auth cannot stop the copy, so
    it says so (once), naming the client that routes every hop."""
    auth = world.hub.httpx_auth("keyed")
    with httpx.Client(auth=auth, timeout=5, follow_redirects=True) as client:
        for case in ("copied-1", "copied-2"):
            query = urlencode({"case": case, "status": 302,
                               "to": f"{world.sides['other-port'].url}/landed/{case}"})
            assert client.get(f"{world.origin.url}/keyed/hop?{query}").status_code == 200
    warnings = [r.getMessage() for r in caplog.records if "copied this target" in r.getMessage()]
    assert len(warnings) == 1
    assert "ua.httpx_client(follow_redirects=True)" in warnings[0]
    assert_no_leaks(caplog.text, [world.secrets["keyed"]])
