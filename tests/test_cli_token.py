"""``unified-auth token``: the token (or header lines) on stdout and nothing else."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result

from unified_auth.cli import cli
from unified_auth.testing.environment import (
    BASIC_USER,
    CLASSIC,
    LEGACY,
    MAILER,
    PLANNER,
    EmulatedEnvironment,
)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[EmulatedEnvironment]:
    with EmulatedEnvironment(directory=tmp_path / "box") as sandbox:
        yield sandbox


def _token(box: EmulatedEnvironment, *args: str) -> Result:
    return CliRunner().invoke(cli, ["token", "--config", str(box.config_path), *args])


def test_prints_a_working_token_and_nothing_else(box: EmulatedEnvironment) -> None:
    result = _token(box, MAILER)
    assert result.exit_code == 0
    assert result.stderr == ""
    token = result.stdout.removesuffix("\n")
    assert token and "\n" not in token
    answer = requests.get(f"{box.liana.url}/v1/lists", timeout=5,
                          headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


def test_the_header_form_is_ready_for_curl(box: EmulatedEnvironment) -> None:
    result = _token(box, MAILER, "--header")
    assert result.exit_code == 0
    name, _, value = result.stdout.removesuffix("\n").partition(": ")
    assert name == "Authorization"
    assert value.startswith("Bearer ")
    answer = requests.get(f"{box.liana.url}/v1/lists", headers={name: value}, timeout=5)
    assert answer.status_code == 200


def test_static_tokens_are_the_secrets_themselves(box: EmulatedEnvironment) -> None:
    planner = _token(box, PLANNER)
    assert planner.stdout == box.secret_file(PLANNER).read_text() + "\n"
    basic = _token(box, CLASSIC, "--header")
    password = box.secret_file(CLASSIC).read_text().strip()
    encoded = base64.b64encode(f"{BASIC_USER}:{password}".encode()).decode()
    assert basic.stdout == f"Authorization: Basic {encoded}\n"


def test_a_signed_target_gives_every_header_of_its_signature(box: EmulatedEnvironment) -> None:
    result = _token(box, LEGACY, "--header")
    assert result.exit_code == 0
    headers = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert set(headers) == {"Authorization", "Content-Type", "Content-MD5", "Date"}
    assert headers["Authorization"].startswith("LianaMailer ")
    answer = requests.get(f"{box.liana.url}/api/", headers=headers, timeout=5)
    assert answer.status_code == 404, "signed for the target's first URL: authenticated"


def test_an_unknown_target_exits_2(box: EmulatedEnvironment) -> None:
    result = _token(box, "nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no target named 'nope'" in result.stderr


def test_a_rejected_credential_exits_1_and_prints_no_token(box: EmulatedEnvironment) -> None:
    box.write_secret(MAILER, "not-the-real-secret")
    result = _token(box, MAILER)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_an_unreadable_secret_names_the_file_target_and_key(box: EmulatedEnvironment) -> None:
    box.secret_file(MAILER).unlink()
    result = _token(box, MAILER)
    assert result.exit_code == 1
    assert f"targets.{MAILER}.client_secret" in result.stderr
    assert f"the secret file {box.secret_file(MAILER)} does not exist" in result.stderr
