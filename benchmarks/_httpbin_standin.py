"""pytest plugin: ``httpbin``, ``httpbin_secure`` and ``httpbin_ca_bundle`` without pytest-httpbin.

A stand-in for when pytest-httpbin (and httpbin) can't be installed: the endpoints requests'
own tests call, answered the way httpbin answers them, on loopback, with the standard
library (and trustme for the TLS server). It is not httpbin: a test that fails on it fails
in the plain run too, so the side-by-side comparison still means what it says.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import ssl
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

_REDIRECTS = {301, 302, 303, 305, 307}


class _Server:
    def __init__(self, secure: bool, context: ssl.SSLContext | None = None) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.host, self.port = "127.0.0.1", self.httpd.server_address[1]
        self.url = f"{'https' if secure else 'http'}://{self.host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __add__(self, other: str) -> str:
        return self.url + other

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    # -- plumbing ---------------------------------------------------------------------
    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        cookies = getattr(self, "_cookies", [])
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, document: Any, status: int = 200,
              headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(document, indent=2).encode() + b"\n", headers)

    def _redirect(self, location: str, status: int = 302) -> None:
        self._send(status, b"", {"Location": location}, content_type="text/html")

    def _url(self) -> str:
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        return f"{scheme}://{self.headers.get('Host', '')}{self.path}"

    def _info(self, *keys: str) -> dict[str, Any]:
        split = urlsplit(self.path)
        args: dict[str, Any] = {}
        for key, value in parse_qsl(split.query, keep_blank_values=True):
            args[key] = [*args[key], value] if isinstance(args.get(key), list) else (
                [args[key], value] if key in args else value)
        info: dict[str, Any] = {
            "args": args, "headers": dict(self.headers.items()),
            "origin": self.client_address[0], "url": self._url()}
        if "body" in keys:
            info.update(self._form(self._body()))
        return info

    def _form(self, body: bytes) -> dict[str, Any]:
        kind = self.headers.get("Content-Type", "")
        form: dict[str, Any] = {}
        files: dict[str, Any] = {}
        data = ""
        parsed: Any = None
        if kind.startswith("application/x-www-form-urlencoded"):
            for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
                form[key] = [*form[key], value] if isinstance(form.get(key), list) else (
                    [form[key], value] if key in form else value)
        elif kind.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + kind.encode("latin-1") + b"\r\n\r\n" + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                content = part.get_payload(decode=True) or b""
                target = files if part.get_filename() else form
                target[name] = content.decode("utf-8", "replace")
        else:
            data = body.decode("utf-8", "replace")
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
        return {"data": data, "files": files, "form": form, "json": parsed}

    # -- endpoints ----------------------------------------------------------------------
    def _dispatch(self) -> None:
        self._cookies: list[str] = []
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        head, rest = (parts[0], parts[1:]) if parts else ("", [])
        handler = getattr(self, f"_ep_{head.replace('-', '_') or 'index'}", None)
        if handler is None:
            self._send(404, b"not found", content_type="text/plain")
            return
        handler(rest)

    def _ep_index(self, rest: list[str]) -> None:
        self._body()
        self._send(200, b"<!DOCTYPE html><html><body>httpbin stand-in</body></html>",
                   content_type="text/html; charset=utf-8")

    def _ep_get(self, rest: list[str]) -> None:
        self._body()
        self._json(self._info())

    def _ep_anything(self, rest: list[str]) -> None:
        self._json({**self._info("body"), "method": self.command})

    _ep_post = _ep_put = _ep_patch = _ep_delete = _ep_anything

    def _ep_headers(self, rest: list[str]) -> None:
        self._json({"headers": dict(self.headers.items())})

    def _ep_user_agent(self, rest: list[str]) -> None:
        self._json({"user-agent": self.headers.get("User-Agent")})

    def _ep_status(self, rest: list[str]) -> None:
        self._body()
        code = int(rest[0].split(",")[0])
        if code in _REDIRECTS:
            self._redirect("/redirect/1", code)
        elif code == 401:
            self._send(401, b"", {"WWW-Authenticate": 'Basic realm="Fake Realm"'})
        else:
            self._send(code, b"", content_type="text/html")

    def _ep_redirect(self, rest: list[str]) -> None:
        self._ep_relative_redirect(rest)

    def _ep_relative_redirect(self, rest: list[str]) -> None:
        self._body()
        left = int(rest[0])
        self._redirect("/get" if left <= 1 else f"/relative-redirect/{left - 1}")

    def _ep_redirect_to(self, rest: list[str]) -> None:
        self._body()
        query = dict(parse_qsl(urlsplit(self.path).query))
        self._redirect(query.get("url", "/get"), int(query.get("status_code", 302)))

    def _ep_cookies(self, rest: list[str]) -> None:
        if rest and rest[0] == "set":
            for key, value in parse_qsl(urlsplit(self.path).query):
                self._cookies.append(f"{key}={value}; Path=/")
            self._redirect("/cookies")
            return
        jar = {}
        for pair in self.headers.get("Cookie", "").split(";"):
            if "=" in pair:
                key, value = pair.strip().split("=", 1)
                jar[key] = value
        self._json({"cookies": jar})

    def _ep_basic_auth(self, rest: list[str]) -> None:
        user, password = rest[0], rest[1]
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if self.headers.get("Authorization") == expected:
            self._json({"authenticated": True, "user": user})
        else:
            self._send(401, b"", {"WWW-Authenticate": 'Basic realm="Fake Realm"'})

    def _ep_digest_auth(self, rest: list[str]) -> None:
        qop, user, password = rest[0], rest[1], rest[2]
        algorithm = rest[3] if len(rest) > 3 else "MD5"
        digest = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256,
                  "SHA-512": hashlib.sha512}.get(algorithm.upper(), hashlib.md5)
        header = self.headers.get("Authorization", "")
        if header.startswith("Digest ") and self._digest_ok(header, user, password, digest):
            self._json({"authenticated": True, "user": user})
            return
        nonce = hashlib.md5(os.urandom(8)).hexdigest()
        self._cookies += ["stale_after=never; Path=/", "fake=fake_value; Path=/"]
        challenge = (f'Digest realm="me@kennethreitz.com", nonce="{nonce}", qop="{qop}", '
                     f'opaque="{hashlib.md5(b"opaque").hexdigest()}", '
                     f"algorithm={algorithm}, stale=FALSE")
        self._send(401, b"", {"WWW-Authenticate": challenge}, content_type="text/html")

    def _digest_ok(self, header: str, user: str, password: str, digest: Any) -> bool:
        fields = {}
        for item in header[len("Digest "):].split(","):
            if "=" in item:
                key, value = item.strip().split("=", 1)
                fields[key] = value.strip('"')
        if fields.get("username") != user:
            return False

        def h(text: str) -> str:
            return str(digest(text.encode()).hexdigest())

        ha1 = h(f"{user}:{fields.get('realm')}:{password}")
        ha2 = h(f"{self.command}:{fields.get('uri')}")
        if "qop" in fields:
            expected = h(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:"
                         f"{fields.get('cnonce')}:{fields.get('qop')}:{ha2}")
        else:
            expected = h(f"{ha1}:{fields.get('nonce')}:{ha2}")
        return fields.get("response") == expected

    def _ep_response_headers(self, rest: list[str]) -> None:
        headers = dict(parse_qsl(urlsplit(self.path).query))
        self._json(headers, headers=headers)

    def _ep_html(self, rest: list[str]) -> None:
        self._send(200, b"<!DOCTYPE html><html><body><h1>Herman Melville - Moby-Dick</h1>"
                        b"</body></html>", content_type="text/html; charset=utf-8")

    def _ep_delay(self, rest: list[str]) -> None:
        time.sleep(min(float(rest[0]), 10))
        self._json(self._info())

    def _ep_bytes(self, rest: list[str]) -> None:
        self._send(200, os.urandom(int(rest[0])), content_type="application/octet-stream")

    def _ep_stream(self, rest: list[str]) -> None:
        info = self._info()
        lines = [json.dumps({**info, "id": n}).encode() + b"\n" for n in range(int(rest[0]))]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in lines:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        self.wfile.write(b"0\r\n\r\n")

    def _ep_gzip(self, rest: list[str]) -> None:
        body = gzip.compress(json.dumps({**self._info(), "gzipped": True}).encode())
        self._send(200, body, {"Content-Encoding": "gzip"})


@pytest.fixture(scope="session")
def _httpbin_ca(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import trustme  # noqa: PLC0415 - only the TLS fixtures need it

    ca = trustme.CA()
    bundle = tmp_path_factory.mktemp("httpbin-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return ca, str(bundle)


@pytest.fixture(scope="session")
def httpbin() -> Any:
    server = _Server(secure=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def httpbin_secure(_httpbin_ca: Any) -> Any:
    ca, _ = _httpbin_ca
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server = _Server(secure=True, context=context)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def httpbin_ca_bundle(_httpbin_ca: Any) -> str:
    return str(_httpbin_ca[1])
