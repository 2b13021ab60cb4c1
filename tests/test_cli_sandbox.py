"""The CLI's sandbox (emulators + config) and the classic (Basic, API key) emulator."""

from __future__ import annotations

import base64
import datetime as dt
import stat
import tomllib
from pathlib import Path

import pytest
import requests

import unified_auth
from unified_auth.cli import _toml
from unified_auth.cli.sandbox import CLASSIC, CLASSIC_KEY, LEGACY, MAILER, PLANNER, Sandbox
from unified_auth.testing.classic import ClassicEmulator


def test_toml_writer_round_trips_a_config() -> None:
    document = {
        "cache": {"backend": "memory"},
        "refresh": {"min_interval": 0.5, "advisory": 0.75},
        "targets": {
            "mailer": {"provider": "liana", "hosts": ["https://a.example/v1/"],
                       "client_secret": {"file": '/tmp/q"uote\\d'},
                       "expires_on": dt.date(2027, 5, 31), "extra_params": {}, "retries": 3,
                       "enabled": True},
            "odd name": {"provider": "x", "hosts": ["b.example"]},
        },
    }
    assert tomllib.loads(_toml.dumps(document)) == document


def test_sandbox_writes_a_config_with_secrets_in_private_files(tmp_path: Path) -> None:
    with Sandbox(directory=tmp_path / "box") as box:
        config = tomllib.loads(box.config_path.read_text())
        assert set(config["targets"]) == {MAILER, LEGACY, PLANNER, CLASSIC, CLASSIC_KEY}
        for name in config["targets"]:
            path = box.secret_file(name)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = box.config_path.read_text()
        for secret in box.secret_values():
            assert secret not in text
        with unified_auth.load(box.config_path) as hub:
            session = hub.session()
            assert session.get(f"{box.liana.url}/v1/lists", timeout=5).status_code == 200
            assert session.get(f"{box.classic.url}/basic/x", timeout=5).json()["method"] \
                == "basic"
    assert (tmp_path / "box" / "unified-auth.toml").exists(), "a given directory is kept"


def test_sandbox_deletes_its_temporary_directory() -> None:
    with Sandbox() as box:
        directory = box.directory
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert not directory.exists()


def test_write_secret_replaces_the_file_atomically(tmp_path: Path) -> None:
    with Sandbox(directory=tmp_path) as box:
        before = box.secret_file(MAILER).stat().st_ino
        box.write_secret(MAILER, "a-new-secret-value")
        path = box.secret_file(MAILER)
        assert path.read_text() == "a-new-secret-value\n"
        assert path.stat().st_ino != before
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert not list(tmp_path.glob(".mailer.*")), "no temporary file left behind"


@pytest.fixture
def classic() -> ClassicEmulator:
    with ClassicEmulator() as server:
        yield server


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
