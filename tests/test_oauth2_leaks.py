"""The private key of ``private_key_jwt`` never leaks: not in a repr, a log, an error, a
cache file or Redis, in any of the forms the leak checker knows (a PEM's lines and its DER
body in base64 among them). The assertions it signs are secrets too while they are valid.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import pytest
from redis_server import RedisServer

import unified_auth
from unified_auth import RetryPolicy, testing
from unified_auth.errors import CredentialsRejected, SecretError
from unified_auth.testing import ManualClock, OAuth2Emulator, assert_no_leaks


@pytest.fixture
def key_client(oauth2_emulator: OAuth2Emulator) -> tuple[str, str]:
    return oauth2_emulator.create_key_client()


def target(server: OAuth2Emulator, client_id: str, pem_file: Path) -> dict[str, Any]:
    return {"provider": "oauth2", "hosts": [f"{server.url}/api/"], "client_id": client_id,
            "token_url": server.token_url, "auth_method": "private_key_jwt",
            "private_key": {"file": str(pem_file)}}


def exercise(hub: unified_auth.UnifiedAuth, server: OAuth2Emulator) -> list[str]:
    """Fetch, use and show everything a user might print; the outputs to search."""
    session = hub.session()
    assert session.get(f"{server.url}/api/whoami", timeout=5).status_code == 200
    return [repr(hub), repr(hub.targets), repr(hub.targets["api"].options),
            repr(hub.credentials("api")), str(hub.stats("api"))]


def secrets_of(pem: str, server: OAuth2Emulator) -> list[str]:
    return [pem, *server.assertions]


def test_pem_lines_and_the_der_body_are_forms_the_checker_finds(key_client: tuple[str, str],
                                                               ) -> None:
    _, pem = key_client
    lines = pem.strip().splitlines()
    der = base64.b64decode("".join(lines[1:-1]))
    for output in (lines[3], "".join(lines[1:-1]), base64.urlsafe_b64encode(der).decode(),
                   pem.replace("\n", "\\n"), pem.replace("\n", "\r\n")):
        with pytest.raises(AssertionError, match="secret leak"):
            assert_no_leaks(f"log line {output} end", [pem])
    assert unified_auth.redact(f"key: {lines[3]}", [pem]) == "key: ********"


def test_the_public_key_is_not_mistaken_for_the_private_one(
        oauth2_emulator: OAuth2Emulator) -> None:
    from cryptography.hazmat.primitives import serialization

    _, pem = oauth2_emulator.create_key_client("ES256")
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    assert_no_leaks(public.decode(), [pem])


def test_no_repr_log_or_error_shows_the_key_or_an_assertion(
        oauth2_emulator: OAuth2Emulator, key_client: tuple[str, str], tmp_path: Path,
        unified_auth_clock: ManualClock, logs: pytest.LogCaptureFixture) -> None:
    client_id, pem = key_client
    pem_file = testing.write_secret(tmp_path / "client.pem", pem)
    hub = unified_auth.load({"targets": {"api": target(oauth2_emulator, client_id, pem_file)}},
                            clock=unified_auth_clock, retry=RetryPolicy(sleep=lambda s: None))
    outputs = exercise(hub, oauth2_emulator)

    oauth2_emulator.rotate_key(client_id)  # the server no longer knows this key
    unified_auth_clock.advance(3601)
    with pytest.raises(CredentialsRejected) as rejected:
        hub.credentials("api")
    testing.write_secret(pem_file, pem[: len(pem) // 2])  # a truncated key
    unified_auth_clock.advance(120)
    with pytest.raises(SecretError) as unusable:
        hub.credentials("api")

    errors = [str(e) + repr(e) for e in (rejected.value, unusable.value)]
    assert_no_leaks([*outputs, *errors, logs.text], secrets_of(pem, oauth2_emulator))
    # The truncated key's pieces are the old key's pieces: none shown either.
    assert_no_leaks([*errors, logs.text], [pem[: len(pem) // 2]])


def test_a_file_cache_holds_the_token_never_the_key(
        oauth2_emulator: OAuth2Emulator, key_client: tuple[str, str], tmp_path: Path,
        unified_auth_clock: ManualClock) -> None:
    client_id, pem = key_client
    pem_file = testing.write_secret(tmp_path / "client.pem", pem)
    cache = tmp_path / "cache"
    config = {"cache": {"backend": "file", "path": str(cache)},
              "targets": {"api": target(oauth2_emulator, client_id, pem_file)}}
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        exercise(hub, oauth2_emulator)
        token = hub.credentials("api").value.reveal()

    files = [p for p in cache.rglob("*") if p.is_file()]
    stored = [p.read_bytes() for p in files]
    assert any(token.encode() in data for data in stored), "the token is cached"
    assert_no_leaks(stored, secrets_of(pem, oauth2_emulator))


@pytest.mark.redis
def test_redis_holds_the_token_never_the_key(
        oauth2_emulator: OAuth2Emulator, key_client: tuple[str, str], tmp_path: Path,
        unified_auth_clock: ManualClock, redis_server: RedisServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client_id, pem = key_client
    pem_file = testing.write_secret(tmp_path / "client.pem", pem)
    monkeypatch.setenv("TEST_REDIS_PASSWORD", redis_server.password)
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    config = {"cache": {"backend": "redis", "url": redis_server.url, "key_prefix": prefix,
                        "password": {"env": "TEST_REDIS_PASSWORD"}},
              "targets": {"api": target(oauth2_emulator, client_id, pem_file)}}
    with unified_auth.load(config, clock=unified_auth_clock) as hub:
        exercise(hub, oauth2_emulator)
        token = hub.credentials("api").value.reveal()

    client = redis_server.client()
    keys = list(client.scan_iter(match=f"{prefix}*"))
    values = [client.get(key) or b"" for key in keys if client.type(key) == b"string"]
    assert any(token.encode() in value for value in values), "the token is in Redis"
    assert_no_leaks([*keys, *values], secrets_of(pem, oauth2_emulator))
