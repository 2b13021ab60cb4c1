"""``unified-auth request`` after a redirect to another target, and with hosts it can't use."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote

import pytest
import tomli_w
from click.testing import CliRunner
from recorder import Answer, Seen, recording_server

from unified_auth.cli import cli
from unified_auth.testing import assert_no_leaks

KEY_A = "a-key/canary+value=0001"
KEY_B = "b-key/canary+value=0002"


def _echo_b_key(seen: Seen) -> Answer:
    key = seen.headers.get("X-B-Key", "")
    return Answer(200, (("X-Echo", key), ("X-Echo-B64", base64.b64encode(key.encode()).decode()),
                        ("X-Echo-Url", quote(key, safe="")), ("X-Plain", "visible")), b"{}")


def test_the_head_after_a_redirect_to_another_target_hides_that_targets_key(
        tmp_path: Path) -> None:
    (tmp_path / "a.key").write_text(KEY_A)
    (tmp_path / "b.key").write_text(KEY_B)
    with recording_server(_echo_b_key, host="127.0.0.2") as b_server, recording_server(
            lambda seen: Answer(302, (("Location", f"{b_server.url}/landed"),))) as a_server:
        config = tmp_path / "unified-auth.toml"
        config.write_text(tomli_w.dumps({"targets": {
            "a": {"provider": "api-key", "hosts": [f"{a_server.url}/a/"],
                  "key": {"file": str(tmp_path / "a.key")}},
            "b": {"provider": "api-key", "hosts": [f"{b_server.url}/"],
                  "header": "X-B-Key", "key": {"file": str(tmp_path / "b.key")}}}}))
        result = CliRunner().invoke(cli, ["request", "--config", str(config), "GET",
                                          f"{a_server.url}/a/start"])
    assert result.exit_code == 0, result.output
    assert b_server.seen[0].headers["X-B-Key"] == KEY_B  # B's host got B's key ...
    assert "X-Plain: visible" in result.stderr
    assert "X-Echo: <redacted>" in result.stderr
    assert_no_leaks(result.output, [KEY_A, KEY_B])  # ... and the CLI shows it in no form


@pytest.mark.parametrize("host", ["ä..example.com", "xn--ä.com", "a" * 70 + ".example.com",
                                  "。"])
def test_a_host_that_is_not_a_host_name_is_a_one_line_error(host: str, tmp_path: Path) -> None:
    config = tmp_path / "unified-auth.toml"
    config.write_text(tomli_w.dumps({"targets": {"w": {
        "provider": "api-key", "hosts": ["*.example.com"], "key": "not-a-real-key-1"}}}))
    result = CliRunner().invoke(cli, ["request", "--config", str(config), "GET",
                                      f"https://{host}/x"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "not a valid host name" in errors[0]
    assert isinstance(result.exception, SystemExit)  # click's usage error, no traceback
