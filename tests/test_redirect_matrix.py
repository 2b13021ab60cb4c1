"""Redirects and 401s, every way: the foreign side never sees any credential material.

Statuses 301/302/303/307/308 x destination {same origin outside the target, another port,
another host, another target's host} x {the first answer redirects, the answer to the 401
retry redirects} x every bundled auth form x every client driver (tests/drivers.py: the
session, ``auth=``, the httpx clients sync and async, a caller's client around our
transport, a caller's mount, the httpx Auth sync and async, the aiohttp session). Every
foreign server answers 401, the answer that tempted ``ua.auth()`` into re-sending
credentials (issue 8, finding 1).

One set of servers and one hub serve the whole module; each case has its own id in every
path, so what a server received is told apart per case.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import attrs
import pytest
from drivers import DRIVERS, Drivers
from recorder import Answer, Recorder, Seen, always, recording_server

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.errors import AuthFailed
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks

FORMS = ("liana", "liquidplanner", "basic", "api-key", "liana-legacy")
STATUSES = (301, 302, 303, 307, 308)
DESTINATIONS = ("same-origin", "other-port", "other-host", "other-target")
PHASES = ("first", "after-401")
ENTRIES = DRIVERS
# Drivers that send every hop through the hub's routing: another target's host gets that
# target's credentials (the others send only their own target's).
ROUTING = ("session", "httpx", "httpx-async", "httpx-transport", "httpx-mounted",
           "aiohttp")
CREDENTIAL_HEADERS = ("authorization", "x-api-key")


@attrs.frozen
class World:
    hub: unified_auth.UnifiedAuth
    drivers: Drivers
    origin: Recorder
    foreign: dict[str, Recorder]
    secrets: tuple[str, ...]


class _Origin:
    """The targets' API: ``/FORM/CASE/STATUS/PHASE?to=URL`` redirects to URL, with status
    STATUS; in the ``after-401`` phase only the second request for a path (the retry) does,
    the first gets 401. Anything else gets 401."""

    def __init__(self) -> None:
        self._seen_paths: set[str] = set()

    def __call__(self, seen: Seen) -> Answer:
        parts = urlsplit(seen.target)
        segments = parts.path.strip("/").split("/")
        if len(segments) != 4 or segments[0] not in FORMS:
            return Answer(401)
        status, phase = int(segments[2]), segments[3]
        if phase == "after-401" and parts.path not in self._seen_paths:
            self._seen_paths.add(parts.path)  # the server's handler threads: set.add is atomic
            return Answer(401)
        return Answer(status, (("Location", parse_qs(parts.query)["to"][0]),))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("matrix")
    clock = ManualClock(1_800_000_000.0)
    with LianaEmulator(clock=clock) as liana, \
            recording_server(_Origin()) as origin, \
            recording_server(always(401)) as other_port, \
            recording_server(always(401), host="127.0.0.2") as other_host, \
            recording_server(always(401), host="127.0.0.2") as other_target:
        client_id, client_secret = liana.create_credential("matrix")
        values = {name: f"{name}-canary-{secrets.token_urlsafe(12)}"
                  for name in ("lp", "password", "key", "legacy", "other")}
        values["liana"] = client_secret

        def ref(name: str) -> dict[str, str]:
            path = directory / name
            path.write_text(values[name], encoding="utf-8")
            path.chmod(0o600)
            return {"file": str(path)}

        base = origin.url
        config: dict[str, Any] = {"targets": {
            "liana": {"provider": "liana", "hosts": [f"{base}/liana/"], "client_id": client_id,
                      "client_secret": ref("liana"), "token_url": liana.token_url},
            "liquidplanner": {"provider": "liquidplanner", "hosts": [f"{base}/liquidplanner/"],
                              "token": ref("lp")},
            "basic": {"provider": "basic", "hosts": [f"{base}/basic/"],
                      "username": "me@example.com", "password": ref("password")},
            "api-key": {"provider": "api-key", "hosts": [f"{base}/api-key/"], "key": ref("key")},
            "liana-legacy": {"provider": "liana-legacy", "hosts": [f"{base}/liana-legacy/"],
                             "realm": "LianaMailer", "user_id": "1234",
                             "secret": ref("legacy")},
            "other": {"provider": "api-key", "hosts": [f"{other_target.url}/"],
                      "header": "X-Other-Key", "key": ref("other")},
        }}
        hub = unified_auth.load(config, clock=clock, retry=RetryPolicy(sleep=lambda seconds: None))
        drivers = Drivers(hub)
        yield World(hub, drivers, origin,
                    {"other-port": other_port, "other-host": other_host,
                     "other-target": other_target},
                    tuple(value for name, value in values.items() if name != "other"))
        drivers.close()
        hub.close()


def _destination(world: World, destination: str, case: str) -> tuple[str, Recorder, str]:
    """The redirect's URL, the server that receives it, and what to look for in its log."""
    if destination == "same-origin":
        return f"{world.origin.url}/elsewhere/{case}/landed", world.origin, f"/elsewhere/{case}/"
    server = world.foreign[destination]
    return f"{server.url}/landed/{case}", server, f"/landed/{case}"


def _credential_material(seen: list[Seen]) -> set[str]:
    material: set[str] = set()
    for request in seen:
        for name, value in request.headers.items():
            if name.lower() in CREDENTIAL_HEADERS:
                material |= {value, value.rpartition(" ")[2]}
    return {value for value in material if len(value) >= 6}


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("destination", DESTINATIONS)
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_the_foreign_side_never_sees_credentials(world: World, entry: str, form: str,
                                                 status: int, destination: str,
                                                 phase: str) -> None:
    case = f"{entry}.{form}.{status}.{destination}.{phase}"
    location, receiver, marker = _destination(world, destination, case)
    url = f"{world.origin.url}/{form}/{case}/{status}/{phase}?to={quote(location, safe='')}"
    body = f'{{"case": "{case}"}}'

    def send() -> int:
        return world.drivers.send(entry, form, "POST", url, data=body).status

    if entry in ROUTING and destination == "other-target":
        # The session authenticates the other target's host for the other target, which
        # answers 401 to its credentials too: that target's failure, after its own retry.
        with pytest.raises(AuthFailed) as failure:
            send()
        assert failure.value.target == "other"
    else:
        assert send() == 401  # the foreign side's answer, handed back as is

    at_origin = world.origin.matching(f"/{form}/{case}/")
    assert len(at_origin) == (2 if phase == "after-401" else 1)
    material = _credential_material(at_origin)
    assert material, "the target's own requests carried credentials"
    # By path: aiohttp sends the origin's ?to= query unquoted, the marker in it.
    foreign = [request for request in receiver.matching(marker)
               if urlsplit(request.target).path.startswith(marker)]
    assert foreign, "the redirect was followed"
    for request in foreign:
        assert not {name.lower() for name in request.headers} & set(CREDENTIAL_HEADERS)
    assert_no_leaks([request.text() for request in foreign], [*material, *world.secrets])
