"""``unified-auth request``: one authenticated request; head on stderr, body on stdout."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
import tomli_w
from click.testing import CliRunner, Result

from unified_auth.cli import cli
from unified_auth.cli.request import EXIT_HTTP_ERROR, is_sensitive_header
from unified_auth.testing import assert_no_leaks
from unified_auth.testing.environment import MAILER, EmulatedEnvironment


@pytest.fixture
def box(tmp_path: Path) -> Iterator[EmulatedEnvironment]:
    with EmulatedEnvironment(directory=tmp_path / "box") as sandbox:
        yield sandbox


def _request(config: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["request", "--config", str(config), *args], input=stdin)


def test_get_writes_the_body_to_stdout_and_the_head_to_stderr(box: EmulatedEnvironment) -> None:
    result = _request(box.config_path, "GET", f"{box.liana.url}/v1/lists?page=2")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["succeed"] is True
    assert body["query"] == {"page": ["2"]}
    head = result.stderr.splitlines()
    assert head[0] == "HTTP/1.1 200 OK"
    assert "Content-Type: application/json" in head
    assert box.liana.counters.tokens_issued == 1
    assert_no_leaks(result.output, box.secret_values())


def test_a_signed_json_post(box: EmulatedEnvironment) -> None:
    result = _request(box.config_path, "post", f"{box.liana.url}/api/v1/echoMessage",
                      "--json-data", '{"message": "hi"}')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"succeed": True, "result": {"message": "hi"}}


def test_data_from_a_file_and_from_stdin(box: EmulatedEnvironment, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"from": "file"}')
    url = f"{box.classic.url}/keyed/echo"
    from_file = _request(box.config_path, "POST", url, "-d", f"@{body}",
                         "-H", "Content-Type: application/json")
    assert json.loads(from_file.stdout)["echo"] == {"from": "file"}
    from_stdin = _request(box.config_path, "POST", url, "--json-data", "@-",
                          stdin='{"from": "stdin"}')
    assert json.loads(from_stdin.stdout)["echo"] == {"from": "stdin"}


def test_output_to_a_file(box: EmulatedEnvironment, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    result = _request(box.config_path, "GET", f"{box.classic.url}/basic/me", "-o", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(target.read_text())["method"] == "basic"
    assert f"bytes to {target}" in result.stderr


def test_an_http_error_exits_1_and_still_writes_the_body(box: EmulatedEnvironment) -> None:
    result = _request(box.config_path, "GET", f"{box.liana.url}/v1/nothing")
    assert result.exit_code == EXIT_HTTP_ERROR == 1
    assert json.loads(result.stdout) == {"succeed": False, "message": "Not found"}
    assert result.stderr.startswith("HTTP/1.1 404 Not Found")
    assert "error: the server answered 404 Not Found" in result.stderr


def test_credentials_refused_after_the_retry_exit_1_with_the_explanation(
        box: EmulatedEnvironment) -> None:
    assert box.org is not None
    box.planner.disconnect_member(box.org.editor_id)
    result = _request(box.config_path, "GET", f"{box.planner.url}/api/workspaces/v1")
    assert result.exit_code == 1
    assert "error: target planner: 127.0.0.1 answered 401 Unauthorized again" in result.stderr
    assert "disconnected" in result.stderr
    assert "Traceback" not in result.output
    assert_no_leaks(result.output, box.secret_values())


def test_a_url_no_target_owns_goes_without_credentials(box: EmulatedEnvironment) -> None:
    result = _request(box.config_path, "GET", f"{box.classic.url}/elsewhere")
    assert result.exit_code == 1
    assert f"warning: no target in {box.config_path} owns {box.classic.url}/elsewhere: " \
           f"sending it without credentials" in result.stderr
    assert box.classic.counters.rejected_requests == 1


def test_the_request_times_out(box: EmulatedEnvironment) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        result = _request(box.config_path, "GET", url, "--timeout", "0.2")
    assert result.exit_code == 1
    assert f"error: no answer from {url} within 0.2 s (see --timeout)" in result.stderr


def test_a_refused_connection_is_one_line(box: EmulatedEnvironment) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://me:hunter2-password@127.0.0.1:{closed.getsockname()[1]}/"
    result = _request(box.config_path, "GET", url)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].endswith(": Connection refused")
    assert "hunter2-password" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["GET", "/v1/lists"], "expected an http:// or https:// URL"),
    (["G E T", "http://x.example/"], "is not an HTTP method"),
    (["GET", "http://x.example/", "-H", "no colon"], "expected 'Name: value'"),
    (["POST", "http://x.example/", "-d", "a", "--json-data", "{}"], "not both"),
    (["POST", "http://x.example/", "--json-data", "{nope"], "not valid JSON"),
    (["POST", "http://x.example/", "-d", "@/no/such/file"], "cannot read /no/such/file"),
])
def test_usage_errors_exit_2(box: EmulatedEnvironment, args: list[str], message: str) -> None:
    result = _request(box.config_path, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_sensitive_header_names() -> None:
    for name in ("Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-API-Key",
                 "x-api_key", "X-Auth-Token", "X-Amz-Security-Token", "X-Session-Id",
                 "X-Client-Secret"):
        assert is_sensitive_header(name), name
    for name in ("Content-Type", "WWW-Authenticate", "Date", "X-Request-Id", "ETag"):
        assert not is_sensitive_header(name), name
    assert is_sensitive_header("X-Custom", ["x-custom"])


@responses.activate
def test_response_headers_with_credentials_are_redacted(tmp_path: Path) -> None:
    key, cookie = "the-canary-api-key-123", "session=the-canary-cookie-456"
    (tmp_path / "key").write_text(key)
    config = tmp_path / "unified-auth.toml"
    config.write_text(tomli_w.dumps({"targets": {"api": {
        "provider": "api-key", "hosts": ["api.example.com"], "header": "X-Custom-Auth-Key",
        "key": {"file": str(tmp_path / "key")}}}}))
    responses.get("https://api.example.com/me", json={"ok": True}, headers={
        "Set-Cookie": cookie, "X-Custom-Auth-Key": key, "X-Echo": f"you sent {key}",
        "X-Request-Id": "r-1"})
    result = _request(config, "GET", "https://api.example.com/me")
    assert result.exit_code == 0, result.output
    sent = responses.calls[0].request
    assert sent.headers["X-Custom-Auth-Key"] == key
    head = result.stderr
    assert "Set-Cookie: <redacted>" in head
    assert "X-Custom-Auth-Key: <redacted>" in head
    assert "X-Echo: <redacted>" in head
    assert "X-Request-Id: r-1" in head
    assert_no_leaks(result.output, [key, "the-canary-cookie-456"])


def test_token_values_never_show(box: EmulatedEnvironment) -> None:
    token = CliRunner().invoke(cli, ["token", MAILER, "--config", str(box.config_path)])
    result = _request(box.config_path, "GET", f"{box.liana.url}/v1/lists")
    assert_no_leaks(result.output, [token.stdout.strip(), *box.secret_values()])
