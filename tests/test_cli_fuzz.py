"""Any argument to ``which``, ``request``, ``token`` and ``check``: an answer or one line.

Hypothesis throws URLs with brackets, ports out of range, control characters, huge inputs
and odd target names at the commands, run in-process against a config whose every target
is a loopback emulator. For each input: no traceback, at most one ``error:`` line (exactly
one for a usage or config error), and no secret in the output.

No input may reach the network beyond loopback: ``request``'s URLs are built on
127.0.0.1, ``[::1]`` or ``localhost`` (whatever else they hold is malformed and refused
before anything is sent), and a guard on ``socket.getaddrinfo`` and ``socket.connect``
fails the test if anything tries another host.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from unified_auth.cli import cli
from unified_auth.testing import assert_no_leaks
from unified_auth.testing.environment import CLASSIC, MAILER, PLANNER, EmulatedEnvironment

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
PASSWORD = "fuzz-url-password-canary"
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_MAX_ERROR_LINE = 1000


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedEnvironment]:
    with EmulatedEnvironment(directory=tmp_path_factory.mktemp("fuzz") / "box") as sandbox:
        yield sandbox


class _Dialled(AssertionError):
    """Something tried to reach a host that is not loopback."""


def _loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names and addresses beyond loopback that something tried (and was refused)."""
    tried: list[str] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if not _loopback(host):
            tried.append(repr(host))
            raise socket.gaierror(socket.EAI_NONAME, "the fuzz allows loopback only")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            tried.append(repr(address))
            raise ConnectionRefusedError("the fuzz allows loopback only")
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return tried


def _run(box: EmulatedEnvironment, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "100"}).invoke(cli, ["-c", str(box.config_path), *args])


def _assert_one_line_at_most(result: Result, box: EmulatedEnvironment,
                             *, secrets: bool = True) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}")
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) <= 1, result.stderr
    if result.exit_code == 2:
        assert len(errors) == 1, result.stderr
    assert all(len(line) <= _MAX_ERROR_LINE for line in errors), "an error line is huge"
    event(f"exit {result.exit_code}")  # --hypothesis-show-statistics: what the inputs reach
    if secrets:
        assert_no_leaks(result.output, [*box.secret_values(), PASSWORD])


# -- inputs ----------------------------------------------------------------------------

_ANY_TEXT = st.text(max_size=40)
_PRINTABLE = st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=40)
_PATHS = st.one_of(_ANY_TEXT, _PRINTABLE, _PRINTABLE,
                   st.sampled_from(["/", "/v1/lists", "/api/", "/%zz", "/..//a", "?q=[::1]"]))
_BAD_PORTS = st.one_of(
    st.integers(min_value=65536, max_value=10**12).map(str),
    st.integers(max_value=0, min_value=-10**6).map(str),
    st.sampled_from(["", "http", "8o", " 80", "+80", "٣", "0x50", ":", "80:80"]),
)
_MALFORMED_HOSTS = st.sampled_from([
    "[::1", "::1]", "[::1]x", "[zz]", "[127.0.0.1]", "[[::1]]", "[]", "[::1%eth0", "a..b",
    "-a-.example", "xn--ä.com", "。", "\uff03x", "127.0.0.1\x00", "local\nhost", "a" * 70,
    "ex ample", "[v1.x]", "",
])
_LOOPBACK_HOSTS = st.sampled_from(["127.0.0.1", "[::1]", "localhost", "LOCALHOST"])


def _control(draw: Any) -> str:
    return draw(st.sampled_from([""] * 10 + ["\x00", "\x1b[31m", "\r\n", "\t", "\x7f",
                                              "\x85"]))


@st.composite
def _loopback_urls(draw: Any, ports: tuple[int, ...]) -> str:
    """URLs on loopback only: anything that would name another host is malformed."""
    # Well-formed more often than not, so that requests are sent as well as refused.
    scheme = draw(st.sampled_from(["http"] * 6 + ["https", "HTTP", "ftp", "file", "",
                                                  "javascript"]))
    userinfo = draw(st.sampled_from(["", f"me:{PASSWORD}@", "@", "a@b@"]))
    if draw(st.integers(0, 3)):
        host = draw(_LOOPBACK_HOSTS)
        good = st.sampled_from([f":{p}" for p in ports])
        port = draw(st.one_of(good, good, good, _BAD_PORTS.map(lambda p: f":{p}")))
    else:
        host = draw(_MALFORMED_HOSTS)
        port = draw(st.one_of(st.just(""), _BAD_PORTS.map(lambda p: f":{p}")))
    tail = draw(_PATHS) + _control(draw)
    if tail and not tail.startswith(("/", "?", "#")):
        tail = "/" + tail
    url = f"{scheme}://{userinfo}{host}{port}{tail}"
    if draw(st.integers(0, 9)) == 0:  # now and then a huge one
        url += "/" + "a" * draw(st.sampled_from([9000, 100_000]))
    return url


@st.composite
def _any_urls(draw: Any) -> str:
    """``which`` sends nothing: any text may be its URL."""
    return draw(st.one_of(
        _loopback_urls((8080,)),
        st.text(max_size=60),
        st.builds(lambda host, rest: f"http://{host}{rest}", st.text(max_size=30), _PATHS),
    ))


@st.composite
def _sendable_urls(draw: Any, ports: tuple[int, ...]) -> str:
    """Well-formed URLs on loopback with odd paths, queries and userinfo: these are sent."""
    scheme = draw(st.sampled_from(["http", "HTTP"]))
    userinfo = draw(st.sampled_from(["", f"me:{PASSWORD}@", "@"]))
    host = draw(_LOOPBACK_HOSTS)
    port = draw(st.sampled_from(ports))
    path = draw(_PRINTABLE).lstrip("/?#")
    return f"{scheme}://{userinfo}{host}:{port}/{path}"


def _target_names(box: EmulatedEnvironment) -> st.SearchStrategy[str]:
    odd = st.one_of(
        st.text(max_size=40),
        st.sampled_from(["", " ", "-", "--", "..", "mailer\n", "MAILER", "mailer ", "\x00",
                         "a" * 10_000, "targets.mailer", "${HOME}", "*", "mailer\x1b[2J"]),
    )
    return odd.filter(lambda name: name not in box.config["targets"])


# -- the commands ----------------------------------------------------------------------

@FUZZ
@given(url=_any_urls(), as_json=st.booleans())
def test_which_answers_or_says_one_line(box: EmulatedEnvironment, loopback_only: list[str],
                                        url: str, as_json: bool) -> None:
    result = _run(box, "which", *(["--json"] if as_json else []), "--", url)
    _assert_one_line_at_most(result, box)
    assert not loopback_only, "which sends nothing"


@settings(FUZZ, max_examples=50)
@given(data=st.data(), method=st.one_of(st.sampled_from(["GET", "get", "POST", "HEAD"]),
                                        st.just("GET"), st.text(max_size=12)),
       header=st.one_of(st.just(None), st.just(None), st.text(max_size=30),
                        st.sampled_from(["X-A: b", "X-A:", ": b", "X A: b", "X-A: b\r\nX-B: c",
                                         "X-A: ü", "X-A: \u2603", "Host: evil.example"])))
def test_request_answers_or_says_one_line_and_dials_loopback_only(
        box: EmulatedEnvironment, loopback_only: list[str], data: st.DataObject, method: str,
        header: str | None) -> None:
    closed = _closed_port()
    ports = (int(box.liana.url.rpartition(":")[2]), closed)
    url = data.draw(st.one_of(_loopback_urls(ports), _sendable_urls(ports)))
    args = ["request", "--timeout", "2"]
    if header is not None:
        args += ["-H", header]
    result = _run(box, *args, "--", method, url)
    _assert_one_line_at_most(result, box)
    assert not loopback_only, f"{url!r} reached for {loopback_only}"


@FUZZ
@given(data=st.data(), as_header=st.booleans())
def test_token_of_an_odd_name_is_one_line(box: EmulatedEnvironment, loopback_only: list[str],
                                          data: st.DataObject, as_header: bool) -> None:
    name = data.draw(_target_names(box))
    result = _run(box, "token", *(["--header"] if as_header else []), "--", name)
    _assert_one_line_at_most(result, box)
    assert result.exit_code == 2
    assert not loopback_only


@FUZZ
@given(data=st.data(), as_json=st.booleans(), real=st.lists(
    st.sampled_from([MAILER, PLANNER, CLASSIC]), max_size=2))
def test_check_of_odd_names_is_one_line(box: EmulatedEnvironment, loopback_only: list[str],
                                        data: st.DataObject, as_json: bool,
                                        real: list[str]) -> None:
    names = data.draw(st.lists(_target_names(box), max_size=3))
    args = ["check", "--no-probe", *(["--json"] if as_json else []), "--", *real, *names]
    result = _run(box, *args)
    _assert_one_line_at_most(result, box)
    assert result.exit_code == (2 if names else 0), result.output
    assert not loopback_only


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_the_guard_refuses_another_host(loopback_only: list[str]) -> None:
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 80)
    assert loopback_only == ["'example.com'"]


def test_the_fuzz_config_is_loopback_only(box: EmulatedEnvironment) -> None:
    hosts = [host for target in box.config["targets"].values() for host in target["hosts"]]
    assert hosts and all("127.0.0.1" in host for host in hosts), hosts


