"""Secret references: env, file, keyring, command; resolved lazily, errors name target/key."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import keyring
import keyring.backend
import keyring.credentials
import pytest
from toy_provider import load

from unified_auth.config import secret_sources
from unified_auth.config.secret_sources import MAX_SECRET_BYTES
from unified_auth.errors import SecretError

CANARY = "canary-secret-5f4e3d2c1b"


def hub_with(secret: object):  # type: ignore[no-untyped-def]
    return load({"targets": {"k": {"provider": "toy-key", "hosts": ["api.example.com"],
                                   "key": secret}}})


def resolved(secret: object) -> str:
    return hub_with(secret).credentials("k").value.reveal()


def test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UA_TEST_KEY", CANARY)
    assert resolved({"env": "UA_TEST_KEY"}) == CANARY


def test_file_is_read_and_stripped_with_tilde_expanded(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "key").write_text(CANARY + "\n")
    assert resolved({"file": "~/key"}) == CANARY


def test_command_stdout_is_used(tmp_path: Path) -> None:
    assert resolved({"command": f"{sys.executable} -c 'print(\"{CANARY}\")'"}) == CANARY


class _MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)

    def get_credential(self, service: str, username: str | None) -> object:
        # Like the Secret Service and Keychain backends: any user's entry for the service.
        for (svc, user), password in self.passwords.items():
            if svc == service and username in (None, user):
                return keyring.credentials.SimpleCredential(user, password)
        return None


@pytest.fixture
def memory_keyring() -> _MemoryKeyring:
    previous = keyring.get_keyring()
    backend = _MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend  # type: ignore[misc]
    keyring.set_keyring(previous)


def test_keyring_with_and_without_username(memory_keyring: _MemoryKeyring) -> None:
    keyring.set_password("ua-test", "me@example.com", CANARY)
    assert resolved({"keyring": "ua-test", "username": "me@example.com"}) == CANARY
    assert resolved({"keyring": "ua-test"}) == CANARY


def test_keyring_missing_password_says_how_to_store_one(memory_keyring: _MemoryKeyring) -> None:
    with pytest.raises(SecretError, match="keyring set ua-missing"):
        resolved({"keyring": "ua-missing"})


@pytest.mark.parametrize(("ref", "expected"), [
    ({"env": "UA_TEST_SURELY_UNSET"}, "environment variable UA_TEST_SURELY_UNSET is not set"),
    ({"file": "/nonexistent/ua/key"}, "does not exist"),
    ({"command": "ua-no-such-program --x"}, "'ua-no-such-program' was not found"),
    ({"command": f"{sys.executable} -c 'import sys; sys.exit(3)'"}, "exited with status 3"),
    ({"command": "'unterminated"}, "cannot be parsed"),
    ({"vault": "secret/x"}, "no installed plugin resolves secret references of kind 'vault'"),
])
def test_unreadable_sources_name_the_target_and_key(ref: dict[str, str], expected: str) -> None:
    hub = hub_with(ref)  # loading does not touch the source: resolution is lazy
    with pytest.raises(SecretError) as failure:
        hub.credentials("k")
    assert "<dict>: targets.k.key" in str(failure.value)
    assert expected in str(failure.value)


def test_an_empty_secret_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(SecretError, match="empty"):
        resolved({"file": str(tmp_path / "empty")})


def test_a_failing_command_shows_its_stderr_but_never_its_stdout() -> None:
    script = f"import sys; print('{CANARY}'); print('vault sealed', file=sys.stderr); sys.exit(1)"
    with pytest.raises(SecretError) as failure:
        resolved({"command": f"{sys.executable} -c \"{script}\""})
    assert "vault sealed" in str(failure.value)
    assert CANARY not in str(failure.value)


def test_describe_never_shows_a_command_line() -> None:
    hub = hub_with({"command": "pass show api --password=inline-canary"})
    ref = hub.targets["k"].options.key
    assert ref.describe() == "command (pass)"
    for shown in (repr(ref), repr(hub.targets["k"])):
        assert "inline-canary" not in shown
        assert "(pass)" in shown


# -- bounds: every source ends, in time and in size ------------------------------------


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "secret.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(SecretError, match="is not a regular file but a FIFO"):
        resolved({"file": str(fifo)})
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "a character device"),
                                            ("/dev/null", "a character device")])
def test_a_device_is_refused(path: str, kind: str) -> None:
    with pytest.raises(SecretError, match=f"is not a regular file but {kind}"):
        resolved({"file": path})


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="is not a regular file but a directory"):
        resolved({"file": str(tmp_path)})


def test_a_file_too_large_for_a_secret_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"k" * (MAX_SECRET_BYTES + 1))
    big.chmod(0o600)
    with pytest.raises(SecretError, match=f"more than the {MAX_SECRET_BYTES} bytes"):
        resolved({"file": str(big)})


def test_a_command_printing_without_end_is_stopped_at_the_size_cap() -> None:
    started = time.monotonic()
    with pytest.raises(SecretError, match="printed more than the 65536 bytes"):
        resolved({"command": "yes"})
    assert time.monotonic() - started < 5


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _gone(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_command_that_hangs_is_killed_with_its_children(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secret_sources, "COMMAND_TIMEOUT", 0.5)
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    with pytest.raises(SecretError, match=r"did not finish within 0.5 s; it was stopped"):
        resolved({"command": f"sh -c 'sleep 30 & echo $! > {pidfile}; sleep 30'"})
    assert time.monotonic() - started < 3
    assert _gone(int(pidfile.read_text()))


def test_a_command_whose_child_keeps_stdout_open_returns_without_waiting(
        tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    secret = resolved({"command": f"sh -c 'sleep 30 & echo $! > {pidfile}; echo {CANARY}'"})
    assert secret == CANARY
    assert time.monotonic() - started < 3  # not COMMAND_TIMEOUT (30 s)
    assert _gone(int(pidfile.read_text()))


def test_a_secret_file_readable_by_others_warns_once(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    shared = tmp_path / "shared.secret"
    shared.write_text(CANARY + "\n")
    shared.chmod(0o644)
    private = tmp_path / "private.secret"
    private.write_text(CANARY + "\n")
    private.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="unified_auth"):
        for _ in range(3):  # three hubs, three resolutions
            assert resolved({"file": str(shared)}) == CANARY
            assert resolved({"file": str(private)}) == CANARY
    warnings = [r.getMessage() for r in caplog.records if "readable by" in r.getMessage()]
    assert len(warnings) == 1
    assert str(shared) in warnings[0] and "chmod 600" in warnings[0]
    assert CANARY not in caplog.text
