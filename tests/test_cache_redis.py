"""The ``redis`` cache against a real redis-server: TTLs, prefixes, and a Redis that fails."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import trustme
from cache_workers import liana_config
from redis_server import REQUIRE_ENV, RedisServer, running_redis, silent_server

import unified_auth
from unified_auth.errors import ConfigError
from unified_auth.testing import LianaEmulator, ManualClock, assert_no_leaks


@pytest.fixture
def target(liana_emulator: LianaEmulator, tmp_path: Path) -> tuple[str, Path]:
    client_id, secret = liana_emulator.create_credential("redis cache test")
    secret_file = tmp_path / "liana.secret"
    secret_file.write_text(secret)
    secret_file.chmod(0o600)  # else the core rightly warns that others can read it
    return client_id, secret_file


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="unified_auth")
    return caplog


def _config(liana: LianaEmulator, target: tuple[str, Path], url: str,
            **cache: Any) -> dict[str, Any]:
    table = {"backend": "redis", "url": url, "password": {"env": "TEST_REDIS_PASSWORD"},
             "key_prefix": f"test-{uuid.uuid4().hex[:8]}:", **cache}
    return liana_config(liana, target[0], target[1], table)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("url", ["redis://:hunter2-secret@127.0.0.1:6379/0",
                                 "redis://me:hunter2-secret@127.0.0.1/0",
                                 "rediss://127.0.0.1:6380/0?password=hunter2-secret"])
def test_a_password_in_the_url_is_refused_without_quoting_it(
        liana_emulator: LianaEmulator, target: tuple[str, Path], url: str) -> None:
    config = _config(liana_emulator, target, url)
    with pytest.raises(ConfigError) as error:
        unified_auth.load(config)
    assert "cache.url" in str(error.value) and "password" in str(error.value)
    assert_no_leaks(str(error.value), ["hunter2-secret"])


@pytest.mark.parametrize(("cache", "expected"), [
    ({"url": "http://127.0.0.1:6379/0"}, "redis:// or rediss://"),
    ({"password": "written-in-clear"}, "a password is never written in the config"),
    ({"timeout": 0}, "cache.timeout"),
])
def test_bad_redis_settings_are_config_errors(liana_emulator: LianaEmulator,
                                              target: tuple[str, Path],
                                              cache: dict[str, Any], expected: str) -> None:
    config = _config(liana_emulator, target, "redis://127.0.0.1:6379/0")
    config["cache"].update(cache)
    with pytest.raises(ConfigError, match=expected):
        unified_auth.load(config)


def test_entries_live_as_long_as_the_token_under_the_key_prefix(
        liana_emulator: LianaEmulator, target: tuple[str, Path], redis_server: RedisServer,
        unified_auth_clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_REDIS_PASSWORD", redis_server.password)
    config = _config(liana_emulator, target, redis_server.url)
    prefix = config["cache"]["key_prefix"]
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        hub.credentials("mailer")
        unified_auth_clock.advance(300)
        hub.session().get(f"{liana_emulator.url}/v1/lists", timeout=5)
    client = redis_server.client()
    keys = list(client.scan_iter(match=f"{prefix}*"))
    assert len(keys) == 1 and keys[0].startswith(f"{prefix}mailer:".encode())
    assert 850_000 < client.pttl(keys[0]) <= 900_000, "TTL = the token's remaining lifetime"


def test_redis_killed_mid_run_every_request_still_succeeds_with_one_warning(
        liana_emulator: LianaEmulator, target: tuple[str, Path], unified_auth_clock: ManualClock,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        warnings: pytest.LogCaptureFixture) -> None:
    with running_redis(tmp_path / "redis") as server:
        monkeypatch.setenv("TEST_REDIS_PASSWORD", server.password)
        config = _config(liana_emulator, target, server.url)
        url = f"{liana_emulator.url}/v1/lists"
        with unified_auth.load(config, clock=unified_auth_clock) as hub:
            session = hub.session()
            assert session.get(url, timeout=5).status_code == 200
            server.stop()
            for _ in range(4):
                unified_auth_clock.advance(1000)  # each round needs a fresh token: the slow path
                assert session.get(url, timeout=5).status_code == 200
            assert len(_warnings(warnings)) == 1
            assert "unavailable" in _warnings(warnings)[0]
            restarted = RedisServer(tmp_path / "redis")
            restarted.port, restarted.password = server.port, server.password
            restarted.start()
            try:
                unified_auth_clock.advance(1000)
                assert session.get(url, timeout=5).status_code == 200
                assert list(restarted.client().scan_iter()), "back on Redis"
            finally:
                restarted.stop()
    assert [r for r in warnings.records if "works again" in r.getMessage()]
    assert_no_leaks([r.getMessage() for r in warnings.records], [server.password])


def test_a_redis_that_never_answers_costs_a_bounded_wait(
        liana_emulator: LianaEmulator, target: tuple[str, Path], unified_auth_clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch, warnings: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("TEST_REDIS_PASSWORD", "some-password")
    with silent_server() as port:
        config = _config(liana_emulator, target, f"redis://127.0.0.1:{port}/0", timeout=0.3)
        started = time.monotonic()
        with unified_auth.load(config, clock=unified_auth_clock) as hub:
            response = hub.session().get(f"{liana_emulator.url}/v1/lists", timeout=5)
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 3, f"took {elapsed:.1f} s"
    assert len(_warnings(warnings)) == 1


@pytest.mark.parametrize("problem", ["wrong password", "unset variable"])
def test_a_redis_that_refuses_us_degrades_with_a_warning_that_says_why(
        liana_emulator: LianaEmulator, target: tuple[str, Path], unified_auth_clock: ManualClock,
        redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch,
        warnings: pytest.LogCaptureFixture, problem: str) -> None:
    if problem == "wrong password":
        monkeypatch.setenv("TEST_REDIS_PASSWORD", "not-the-password")
    else:
        monkeypatch.delenv("TEST_REDIS_PASSWORD", raising=False)
    with unified_auth.load(_config(liana_emulator, target, redis_server.url),
                           clock=unified_auth_clock) as hub:
        assert hub.session().get(f"{liana_emulator.url}/v1/lists", timeout=5).status_code == 200
    (message,) = _warnings(warnings)
    expected = "TEST_REDIS_PASSWORD is not set" if problem == "unset variable" else "Auth"
    assert expected in message
    assert_no_leaks(message, [redis_server.password, "not-the-password"])


def test_rediss_verifies_the_server_certificate(
        liana_emulator: LianaEmulator, target: tuple[str, Path], unified_auth_clock: ManualClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, warnings: pytest.LogCaptureFixture) -> None:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    chain, key, ca_file = tmp_path / "chain.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    certificate.cert_chain_pems[0].write_to_path(str(chain))
    certificate.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca_file))
    with running_redis(tmp_path / "redis", tls=(chain, key)) as server:
        monkeypatch.setenv("TEST_REDIS_PASSWORD", server.password)
        assert server.url.startswith("rediss://")
        trusted = _config(liana_emulator, target, f"{server.url}?ssl_ca_certs={ca_file}")
        with unified_auth.load(trusted, clock=unified_auth_clock) as hub:
            hub.credentials("mailer")
        assert _warnings(warnings) == []
        assert list(server.client().scan_iter()), "the token went to Redis over TLS"
        with unified_auth.load(_config(liana_emulator, target, server.url),
                               clock=unified_auth_clock) as hub:
            hub.credentials("mailer")  # an unknown CA: refused, the memory cache serves
        (message,) = _warnings(warnings)
        assert "certificate" in message.lower()


def test_ci_turns_a_missing_redis_server_into_a_failure() -> None:
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines()]
    assert f"export {REQUIRE_ENV}=1" in lines[:-1]
    assert "apt-get install -y -qq redis-server >/dev/null" in lines
