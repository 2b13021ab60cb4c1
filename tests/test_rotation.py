"""A secret rotated at the provider before its source, and APIs that keep answering 401.

The held token stays in use while it is valid (with backoff and one warning); only when
nothing valid is left does the rejection surface. 401-driven refetches are bounded.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from toy_provider import load, toy_target, write_secret

from unified_auth.errors import AuthFailed, CredentialsRejected, SecretError
from unified_auth.testing import LianaEmulator, ManualClock
from unified_auth.testing._server import Request, Response

LIFETIME = 900
ROTATED = "the provider refused the secret"


def rotating_hub(liana: LianaEmulator, clock: ManualClock, tmp_path: Path):  # type: ignore[no-untyped-def]
    client_id, secret = liana.create_credential("rotating")
    secret_file = write_secret(tmp_path / "rotating.secret", secret)
    hub = load({"targets": {"api": toy_target(liana.url, client_id, secret_file)}},
               clock=clock)
    return hub, client_id, secret_file


def test_a_secret_rotated_before_its_source_keeps_the_valid_token_in_use(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path,
        logs: pytest.LogCaptureFixture) -> None:
    hub, client_id, secret_file = rotating_hub(liana_emulator, unified_auth_clock, tmp_path)
    session = hub.session()
    url = f"{liana_emulator.url}/v1/lists"
    first = hub.credentials("api")
    new_secret = liana_emulator.rotate_secret(client_id)  # the source still holds the old one
    unified_auth_clock.advance(LIFETIME * 0.92)  # past mandatory, about a minute of validity left
    for _ in range(30):
        assert session.get(url).status_code == 200
        unified_auth_clock.advance(2)
    assert hub.credentials("api") is first
    asked = liana_emulator.counters.token_requests
    assert 2 <= asked <= 8  # exponential backoff (1, 2, 4, 8... s), not one per request
    warnings = [r for r in logs.records if ROTATED in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    write_secret(secret_file, new_secret)
    unified_auth_clock.advance(60)  # past any backoff: the next try reads the source again
    assert session.get(url).status_code == 200
    assert hub.credentials("api") is not first


def test_a_rotated_secret_raises_once_nothing_valid_is_left(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    hub, client_id, _ = rotating_hub(liana_emulator, unified_auth_clock, tmp_path)
    hub.credentials("api")
    liana_emulator.rotate_secret(client_id)
    unified_auth_clock.advance(LIFETIME * 0.95)
    hub.credentials("api")  # still valid: served
    unified_auth_clock.advance(LIFETIME * 0.1)  # expired
    with pytest.raises(CredentialsRejected):
        hub.credentials("api")


class AlwaysUnauthorised(LianaEmulator):
    """The Liana emulator with one API path that refuses every token."""

    def _dispatch(self, request: Request) -> Response | None:
        if request.path == "/v1/always401":
            return Response.json(401, {"succeed": False, "message": "Unauthorized"})
        return super()._dispatch(request)


def test_an_api_path_that_always_answers_401_causes_a_bounded_number_of_fetches(
        unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    with AlwaysUnauthorised(clock=unified_auth_clock) as liana:
        hub, _, _ = rotating_hub(liana, unified_auth_clock, tmp_path)
        session = hub.session()
        failures = 0
        for _ in range(160):
            try:
                session.get(f"{liana.url}/v1/always401")
            except AuthFailed:
                failures += 1
            unified_auth_clock.advance(0.002)  # 160 requests in 0.3 s, as in the report
        assert failures == 160
        assert liana.counters.tokens_issued <= 3
        # the working paths still work with the token in hand
        assert session.get(f"{liana.url}/v1/lists").status_code == 200


def test_401_driven_refetches_back_off_while_fresh_tokens_keep_being_refused(
        unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    with AlwaysUnauthorised(clock=unified_auth_clock) as liana:
        hub, _, _ = rotating_hub(liana, unified_auth_clock, tmp_path)
        session = hub.session()
        for _ in range(600):  # ten minutes, one request a second
            with pytest.raises(AuthFailed):
                session.get(f"{liana.url}/v1/always401")
            unified_auth_clock.advance(1)
        # min_interval 5 s doubling up to 60 s: a handful a minute at first, then one
        fetched = liana.counters.tokens_issued
        assert fetched <= 20, fetched


def test_a_single_revoked_token_is_replaced_at_once(liana_emulator: LianaEmulator,
                                                    unified_auth_clock: ManualClock,
                                                    tmp_path: Path) -> None:
    hub, _, _ = rotating_hub(liana_emulator, unified_auth_clock, tmp_path)
    session = hub.session()
    url = f"{liana_emulator.url}/v1/lists"
    assert session.get(url).status_code == 200
    unified_auth_clock.advance(30)
    liana_emulator.revoke_tokens()
    assert session.get(url).status_code == 200  # 401, refetch, retry: the caller saw none
    assert liana_emulator.counters.tokens_issued == 2


def test_an_unreadable_secret_source_keeps_the_valid_token_in_use(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path,
        logs: pytest.LogCaptureFixture) -> None:
    hub, client_id, secret_file = rotating_hub(liana_emulator, unified_auth_clock, tmp_path)
    first = hub.credentials("api")
    liana_emulator.rotate_secret(client_id)  # rejected, so the core reads the source again...
    secret_file.unlink()  # ...and finds it gone
    unified_auth_clock.advance(LIFETIME * 0.95)
    assert hub.credentials("api") is first
    unified_auth_clock.advance(LIFETIME * 0.1)
    with pytest.raises(SecretError, match="does not exist"):
        hub.credentials("api")


def test_steady_traffic_through_a_rotation_sees_no_failure(
        liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path) -> None:
    import threading

    hub, client_id, secret_file = rotating_hub(liana_emulator, unified_auth_clock, tmp_path)
    session = hub.session()
    url = f"{liana_emulator.url}/v1/lists"
    first = hub.credentials("api")
    new_secret = liana_emulator.rotate_secret(client_id)
    unified_auth_clock.advance(LIFETIME * 0.91)  # mandatory window; about 80 s of validity left
    failures: list[BaseException] = []

    def traffic() -> None:
        for _ in range(40):
            try:
                assert session.get(url).status_code == 200
            except BaseException as exc:  # report in the main thread
                failures.append(exc)
            unified_auth_clock.advance(0.1)  # 8 threads x 40 x 0.1 s: 32 s, all within validity

    threads = [threading.Thread(target=traffic) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    assert hub.credentials("api") is first
    assert liana_emulator.counters.token_requests <= 10  # backing off, not one per request
    write_secret(secret_file, new_secret)
    unified_auth_clock.advance(61)
    assert session.get(url).status_code == 200
    assert hub.credentials("api") is not first
