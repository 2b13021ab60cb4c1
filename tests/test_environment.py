"""The emulated environment (emulators + credentials + a config) and the classic emulator."""

from __future__ import annotations

import base64
import socket
import stat
import tempfile
import tomllib
from pathlib import Path

import pytest
import requests

import unified_auth
from unified_auth.testing import EmulatedEnvironment, LianaEmulator, write_secret
from unified_auth.testing.classic import ClassicEmulator
from unified_auth.testing.environment import (
    CLASSIC,
    CLASSIC_KEY,
    LEGACY,
    MAILER,
    PLANNER,
    REPORTS,
)


def leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("unified-auth-*")}


def test_the_environment_writes_a_config_with_secrets_in_private_files(tmp_path: Path) -> None:
    with EmulatedEnvironment(directory=tmp_path / "box") as env:
        config = tomllib.loads(env.config_path.read_text())
        assert config == env.config
        assert set(config["targets"]) == {MAILER, LEGACY, PLANNER, CLASSIC, CLASSIC_KEY,
                                          REPORTS}
        for name in config["targets"]:
            path = env.secret_file(name)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = env.config_path.read_text()
        for secret in env.secret_values():
            assert secret not in text
        with unified_auth.load(env.config_path) as hub:
            session = hub.session()
            assert session.get(f"{env.liana.url}/v1/lists", timeout=5).status_code == 200
            assert session.get(f"{env.classic.url}/basic/x", timeout=5).json()["method"] \
                == "basic"
            assert session.get(f"{env.oauth2.url}/api/whoami", timeout=5).json()["scope"] \
                == "reports:read"
    assert (tmp_path / "box" / "unified-auth.toml").exists(), "a given directory is kept"


def test_the_environment_deletes_its_temporary_directory() -> None:
    with EmulatedEnvironment() as env:
        directory = env.directory
        assert directory.name.startswith("unified-auth-")
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert not directory.exists()


def test_start_then_with_provisions_once_and_leaves_nothing_behind() -> None:
    # issue 11 item 1: start() then `with` started twice and deleted only the second folder.
    before = leftovers()
    env = EmulatedEnvironment().start()
    first = env.directory
    with env:
        assert env.directory == first
        assert len(env.liana.credentials()) == 1, "credentials provisioned once"
        assert len(env.secret_values()) == 6
    env.close()  # closing twice is harmless
    assert not first.exists()
    assert leftovers() == before
    assert not env.liana.running


def test_a_failed_start_leaves_nothing_behind() -> None:
    before = leftovers()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = EmulatedEnvironment(classic_port=taken.getsockname()[1])
        with pytest.raises(OSError, match="in use"):
            env.start()
    assert leftovers() == before
    assert not env.liana.running and not env.planner.running


def test_given_emulators_are_used_and_left_running(tmp_path: Path) -> None:
    with LianaEmulator() as liana:
        with EmulatedEnvironment(liana=liana, directory=tmp_path) as env:
            assert env.config["targets"][MAILER]["token_url"] == liana.token_url
        assert liana.running
        assert not env.planner.running


def test_a_path_outside_the_basic_multilingual_plane_round_trips(tmp_path: Path) -> None:
    # The former hand-written TOML writer emitted JSON surrogate pairs, invalid in TOML.
    with EmulatedEnvironment(directory=tmp_path / "box-\N{GRINNING FACE}") as env:
        config = tomllib.loads(env.config_path.read_text(encoding="utf-8"))
        assert config["targets"][MAILER]["client_secret"]["file"] == str(
            env.secret_file(MAILER))
        with unified_auth.load(env.config_path) as hub:
            assert hub.credentials(MAILER).expires_at is not None


def test_write_secret_replaces_the_file_atomically(tmp_path: Path) -> None:
    with EmulatedEnvironment(directory=tmp_path) as env:
        before = env.secret_file(MAILER).stat().st_ino
        assert env.write_secret(MAILER, "a-new-secret-value") == {
            "file": str(env.secret_file(MAILER))}
        path = env.secret_file(MAILER)
        assert path.read_text() == "a-new-secret-value"
        assert path.stat().st_ino != before
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert not list(tmp_path.glob(".mailer.*")), "no temporary file left behind"


def test_write_secret_creates_a_private_file(tmp_path: Path) -> None:
    path = write_secret(tmp_path / "s", "value")
    assert path.read_text() == "value"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.fixture
def classic(classic_emulator: ClassicEmulator) -> ClassicEmulator:
    return classic_emulator


def _basic(user: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def test_classic_accepts_basic_and_refuses_a_wrong_password(classic: ClassicEmulator) -> None:
    password = classic.add_user("me@example.com")
    ok = requests.get(f"{classic.url}/any/path", headers=_basic("me@example.com", password),
                      timeout=5)
    assert ok.json() == {"path": "/any/path", "method": "basic",
                         "authenticated_as": "me@example.com"}
    wrong = requests.get(classic.url, headers=_basic("me@example.com", "nope"), timeout=5)
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Basic realm="Classic"'
    assert classic.last_rejection == "unknown user or wrong password"
    assert classic.counters.basic_requests == 1
    assert classic.counters.rejected_requests == 1


def test_classic_api_keys_with_header_and_prefix(classic: ClassicEmulator) -> None:
    plain = classic.create_api_key("plain")
    prefixed = classic.create_api_key("prefixed", header="Authorization", prefix="Token")
    assert requests.get(classic.url, headers={"X-API-Key": plain}, timeout=5).json()[
        "authenticated_as"] == "plain"
    answer = requests.post(f"{classic.url}/echo", headers={"Authorization": f"Token {prefixed}"},
                           json={"hello": 1}, timeout=5).json()
    assert answer["authenticated_as"] == "prefixed"
    assert answer["echo"] == {"hello": 1}
    classic.revoke_api_key("plain")
    assert requests.get(classic.url, headers={"X-API-Key": plain}, timeout=5).status_code == 401
    assert classic.stats() == {"api_requests": 3, "rejected_requests": 1, "basic_requests": 0,
                               "api_key_requests": 2}
    classic.reset_counters()
    assert classic.counters.api_requests == 0


def test_classic_redirects_an_authenticated_get_to_a_loopback_url_only(
        classic: ClassicEmulator) -> None:
    key = classic.create_api_key("ci")
    away = f"http://localhost:{classic.url.rsplit(':', 1)[1]}/elsewhere"
    moved = requests.get(f"{classic.url}/x", params={"redirect_to": away},
                         headers={"X-API-Key": key}, allow_redirects=False, timeout=5)
    assert (moved.status_code, moved.headers["Location"]) == (302, away)
    outside = requests.get(f"{classic.url}/x", params={"redirect_to": "https://example.com/"},
                           headers={"X-API-Key": key}, allow_redirects=False, timeout=5)
    assert outside.status_code == 400
    anonymous = requests.get(f"{classic.url}/x", params={"redirect_to": away},
                             allow_redirects=False, timeout=5)
    assert anonymous.status_code == 401
