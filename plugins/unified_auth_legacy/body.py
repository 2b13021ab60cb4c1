"""The exact bytes a request will send, so a signature covers what goes on the wire.

urllib3 2 sends a ``str`` body as UTF-8 and streams a file-like body from its current
position. To sign precisely those bytes, the body is read here and put back on the request
as ``bytes``, with ``Content-Length`` to match. A body that can be read only once (a
generator, an unseekable stream) cannot be both signed and sent, so it is refused.
"""

from __future__ import annotations

from typing import Any

from unified_auth import AuthRequest

__all__ = ["UnsignableBody", "wire_body"]


class UnsignableBody(Exception):
    """The body can be read only once, so it cannot be signed; the message says why."""


def wire_body(request: AuthRequest) -> bytes:
    """The bytes ``request`` sends (``b""`` for none), left on it as its body."""
    body: Any = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
    elif hasattr(body, "read"):
        data = _read_seekable(body)
    else:
        raise UnsignableBody(
            f"the body is an iterator or iterable of chunks ({type(body).__name__}), which "
            f"can be read only once: it cannot be both signed and sent")
    if data is not body:
        request.body = data
        request.headers.pop("Transfer-Encoding", None)
    # Also for an unchanged body: a retry may have restored a length computed before.
    if data or request.method not in ("GET", "HEAD"):
        request.headers["Content-Length"] = str(len(data))
    return data


def _read_seekable(stream: Any) -> bytes:
    seekable = getattr(stream, "seekable", None)
    if not callable(seekable) or not seekable():
        raise UnsignableBody(
            "the body is a stream that cannot seek back, so it can be read only once: it "
            "cannot be both signed and sent")
    start = stream.tell()
    data = stream.read()
    # The caller's file stays where it was, as if nothing had read it.
    stream.seek(start)
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise UnsignableBody(f"the body's read() returned {type(data).__name__}, not bytes")

