"""``unified-auth request``: one authenticated request through the hub's session.

The status line and headers go to stderr (credentials, cookies and key-like headers
redacted), the body to stdout or a file, so ``unified-auth request GET URL | jq`` works.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

import attrs
import click
import requests

from unified_auth import Secret, Target, UnifiedAuth
from unified_auth.cli import logs, output
from unified_auth.cli.options import (
    config_option,
    http_url,
    load_hub,
    network_reason,
    shown_text,
)
from unified_auth.core.redaction import secret_forms
from unified_auth.errors import UnifiedAuthError

__all__ = ["EXIT_HTTP_ERROR", "is_sensitive_header", "request"]

EXIT_HTTP_ERROR = 1
REDACTED = "<redacted>"
DEFAULT_TIMEOUT = 30.0
_SENSITIVE_NAMES = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SENSITIVE_WORDS = re.compile(r"api[-_]?key|token|secret|passw(or)?d|signature|session|"
                              r"credential|(^|-)auth($|-)", re.IGNORECASE)
_METHOD = re.compile(r"[A-Za-z]{1,32}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")
_CHUNK = 64 * 1024
_NOT_CREDENTIALS = frozenset({"date", "content-type", "content-md5", "content-length",
                              "accept", "user-agent", "host"})
_MIN_SECRET = 6  # shorter values would hide ordinary headers by chance


def is_sensitive_header(name: str, credential_headers: Iterable[str] = ()) -> bool:
    """Whether a header's value must not be shown: credentials, cookies, anything key-like."""
    lowered = name.lower()
    return (lowered in _SENSITIVE_NAMES or bool(_SENSITIVE_WORDS.search(lowered))
            or lowered in {h.lower() for h in credential_headers})


@click.command()
@config_option
@click.option("-H", "--header", "header_lines", multiple=True, metavar="'NAME: VALUE'",
              help="An extra request header (repeatable).")
@click.option("-d", "--data", metavar="DATA",
              help="The request body, sent as is; @FILE reads it from a file, @- from stdin.")
@click.option("--json-data", metavar="JSON",
              help="A JSON body (checked), sent with Content-Type: application/json; "
                   "@FILE and @- work as for --data.")
@click.option("-o", "--output", "output_path", metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Write the body to FILE instead of stdout.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds to wait for the connection, and then for each read.")
@click.argument("method")
@click.argument("url")
def request(config_path: Path | None, header_lines: tuple[str, ...], data: str | None,
            json_data: str | None, output_path: Path | None, timeout: float, method: str,
            url: str) -> None:
    """Send one METHOD request to URL with the credentials of the target that owns URL.

    The status line and headers go to stderr with credentials, cookies and key-like
    headers redacted; the body goes to stdout (or FILE). Exit status: 0 for a 1xx-3xx
    answer, 1 for a 4xx/5xx answer (the body is still written) or a failure (no answer,
    timeout, credentials refused), 2 for a config or usage error.
    """
    if not _METHOD.fullmatch(method):
        raise click.BadParameter(f"{shown_text(method)} is not an HTTP method",
                                 param_hint="METHOD")
    http_url(url)
    shown_url = _without_userinfo(url)
    headers = _parse_headers(header_lines)
    body = _body(data, json_data, headers)
    with load_hub(config_path) as hub:
        target = hub.target_for(url)
        if target is None:
            logs.LOGGER.warning("no target in %s owns %s: sending it without credentials",
                                    hub.config.source, shown_url)
        response = _send(hub, method.upper(), url, headers, body, timeout, shown_url)
        with response:
            _show_head(response, _Redactor(hub, response))
            try:
                _write_body(response, output_path)
            except requests.RequestException as exc:
                output.error(f"the answer from {shown_url} broke off: {type(exc).__name__}")
                raise click.exceptions.Exit(1) from None
    if response.status_code >= 400:
        output.error(f"the server answered {response.status_code} {response.reason}")
        raise click.exceptions.Exit(EXIT_HTTP_ERROR)


def _parse_headers(lines: tuple[str, ...]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not _HEADER_NAME.fullmatch(name):
            raise click.BadParameter(f"expected 'Name: value', got {shown_text(line)}",
                                     param_hint="'-H'")
        if not _header_value_ok(value):
            raise click.BadParameter(
                f"the value of {name} holds a control character or a character outside "
                f"Latin-1, which cannot go in an HTTP header", param_hint="'-H'")
        headers[name] = value
    return headers


def _header_value_ok(value: str) -> bool:
    return all(char == "\t" or (" " <= char <= "\xff" and char != "\x7f")
               for char in value)


def _body(data: str | None, json_data: str | None, headers: dict[str, str]) -> bytes | None:
    if data is not None and json_data is not None:
        raise click.UsageError("give the body with -d/--data or with --json-data, not both")
    if json_data is not None:
        text = _read_argument(json_data, "--json-data")
        try:
            json.loads(text)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="'--json-data'") \
                from None
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
        return text.encode("utf-8")
    if data is not None:
        return _read_argument(data, "--data").encode("utf-8")
    return None


def _read_argument(value: str, option: str) -> str:
    if not value.startswith("@"):
        return value
    if value == "@-":
        return sys.stdin.read()
    try:
        return Path(value[1:]).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read the file {value[1:]}: {_why(exc)}",
                                 param_hint=f"'{option}'") from None


def _why(exc: BaseException) -> str:
    """An unreadable file's problem as a sentence, not an exception's class name."""
    if isinstance(exc, FileNotFoundError):
        return "there is no such file (write @- to read the body from stdin)"
    if isinstance(exc, IsADirectoryError):
        return "it is a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return getattr(exc, "strerror", None) or type(exc).__name__


def _send(hub: UnifiedAuth, method: str, url: str, headers: dict[str, str],
          body: bytes | None, timeout: float, shown_url: str) -> requests.Response:
    try:
        return hub.session().request(method, url, headers=headers, data=body,
                                     timeout=(timeout, timeout), stream=True)
    except UnifiedAuthError:
        raise
    except (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL):
        raise click.BadParameter(f"{shown_url!r} is not a usable URL", param_hint="URL") \
            from None
    except requests.Timeout:
        output.error(f"no answer from {shown_url} within {timeout:g} s (see --timeout)")
    except requests.ConnectionError as exc:
        output.error(f"cannot connect to {shown_url}: {network_reason(exc)}")
    except requests.RequestException as exc:
        output.error(f"the request to {shown_url} failed: {type(exc).__name__}")
    raise click.exceptions.Exit(1)


def _without_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rpartition("@")[2]
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class _Redactor:
    """Hides header values that are credentials: by name, or because they contain one.

    It knows every target the request touched (a redirect may lead to another target's
    host, which gets that target's credentials) and looks for each secret and token in
    every disguise ``assert_no_leaks`` knows (:func:`unified_auth.core.redaction.secret_forms`).
    """

    def __init__(self, hub: UnifiedAuth, response: requests.Response) -> None:
        self.names: set[str] = set()
        self._needles: set[str] = set()
        hops = [*response.history, response]
        urls = {hop.request.url or "" for hop in hops}
        touched = {target.name: (target, url) for url in sorted(urls)
                   if (target := hub.target_for(url)) is not None}
        for target, url in touched.values():
            self._learn(hub, target, url)

    def _learn(self, hub: UnifiedAuth, target: Target, url: str) -> None:
        try:
            added = hub.headers(target.name, url)
            lease = hub.broker.lease(target)
        except UnifiedAuthError:
            return
        # A signature's Date or Content-Type is part of what it signs, not a credential.
        names = {name for name in added if name.lower() not in _NOT_CREDENTIALS}
        self.names |= names
        values = [lease.credentials.value.reveal(), *(added[name] for name in names)]
        values += [getattr(lease.target.options, field.name).reveal()
                   for field in attrs.fields(type(lease.target.options))
                   if isinstance(getattr(lease.target.options, field.name), Secret)]
        for value in values:
            if len(value) >= _MIN_SECRET:
                self._needles |= _disguises(value)

    def shown(self, name: str, value: str) -> str:
        hidden = is_sensitive_header(name, self.names) or any(
            needle in value for needle in self._needles)
        return REDACTED if hidden else value


def _disguises(value: str) -> set[str]:
    """``value`` in every form the leak checker and the core's redactor know (one list)."""
    return {form.text for form in secret_forms(value)}


def _show_head(response: requests.Response, redactor: _Redactor) -> None:
    version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(
        getattr(response.raw, "version", 11), "HTTP/1.1")
    lines = [f"{version} {response.status_code} {response.reason}"]
    lines += [f"{name}: {redactor.shown(name, value)}" for name, value in response.headers.items()]
    click.echo("\n".join(lines), err=True)


def _write_body(response: requests.Response, output_path: Path | None) -> None:
    chunks = response.iter_content(_CHUNK)
    if output_path is None or str(output_path) == "-":
        stdout: BinaryIO = sys.stdout.buffer
        for chunk in chunks:
            stdout.write(chunk)
        stdout.flush()
        return
    size = 0
    try:
        with output_path.open("wb") as file:
            for chunk in chunks:
                size += file.write(chunk)
    except OSError as exc:
        output.error(f"cannot write {output_path}: {exc.strerror or type(exc).__name__}")
        raise click.exceptions.Exit(1) from None
    click.echo(f"wrote {size} bytes to {output_path}", err=True)
