"""Between httpx and requests, so plugins stay as they are: ``apply_auth`` works on a
:class:`requests.PreparedRequest`, whichever client sends the request.

An :class:`httpx.Request` becomes a prepared request with the same method, URL (query
included, as the legacy signer's path covers it), headers and body bytes. Whatever the
plugin changed on it (headers set or removed, a key added to the query, a body made
bytes) is carried over to a *new* httpx request; the caller's request is never touched.
Header values cross as latin-1, which is what http.client sends for a ``str`` value and
maps every byte to one character, so nothing is lost on the way there or back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import requests
from requests.structures import CaseInsensitiveDict

__all__ = [
    "MAX_EXPLAINED_BODY",
    "Translated",
    "is_replayable",
    "to_prepared",
    "to_requests_response",
    "with_changes",
]

MAX_EXPLAINED_BODY = 64 * 1024
"""Bytes of an error answer read for a plugin's explanation; an API's 401 is small."""


class _UnreadStream:
    """Stands for a streamed httpx body on the prepared request: it can be sent once only.

    Iterating it is refused: a plugin that must read the body (a signer) fails with its
    own "cannot be signed" error instead of consuming the caller's upload.
    """

    def __iter__(self) -> Iterator[bytes]:
        raise TypeError("a streamed httpx request body can be read only once")

    def __repr__(self) -> str:
        return "<streamed httpx body>"


class Translated:
    """A prepared request made from an httpx request, and what it looked like before."""

    __slots__ = ("before", "prepared", "source")

    def __init__(self, source: httpx.Request) -> None:
        self.source = source
        prepared = requests.PreparedRequest()
        prepared.method = source.method
        prepared.url = str(source.url)
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        for name, value in source.headers.raw:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        prepared.headers = headers
        body: Any = source.read() if is_replayable(source) else _UnreadStream()
        prepared.body = body
        self.prepared = prepared
        self.before: dict[str, str] = {k.lower(): v for k, v in headers.items()}


def to_prepared(request: httpx.Request) -> Translated:
    """``request`` as a :class:`requests.PreparedRequest`, ready for ``apply_auth``."""
    return Translated(request)


def with_changes(translated: Translated) -> httpx.Request:
    """A new httpx request: the source with whatever the plugin changed on the prepared one."""
    source, prepared = translated.source, translated.prepared
    after = {k.lower(): (k, v) for k, v in prepared.headers.items()}
    changed = {name for name, value in translated.before.items()
               if after.get(name, (None, None))[1] != value}
    changed |= after.keys() - translated.before.keys()
    raw = [(k, v) for k, v in source.headers.raw if k.decode("latin-1").lower() not in changed]
    raw += [(after[name][0].encode("latin-1"), after[name][1].encode("latin-1"))
            for name in sorted(changed) if name in after]
    url = source.url if prepared.url == str(source.url) else httpx.URL(prepared.url or "")
    stream = source.stream
    body = prepared.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, bytes) and (not is_replayable(source) or body != source.content):
        stream = httpx.ByteStream(body)
    return httpx.Request(prepared.method or source.method, url, headers=raw, stream=stream,
                         extensions=source.extensions)


def is_replayable(request: httpx.Request) -> bool:
    """Whether the body is bytes in memory (it can be signed and sent again after a 401).

    ``content=``, ``json=`` and ``data=`` bodies are; generators, files and multipart
    uploads stream, so they are sent once, as they are.
    """
    return isinstance(request.stream, httpx.ByteStream)


def to_requests_response(response: httpx.Response, request: httpx.Request,
                         body: bytes) -> requests.Response:
    """The answer as a :class:`requests.Response`, for a plugin's ``explain_response``."""
    translated = requests.Response()
    translated.status_code = response.status_code
    translated.reason = response.reason_phrase
    translated.headers = CaseInsensitiveDict(
        {k.decode("latin-1"): v.decode("latin-1") for k, v in response.headers.raw})
    translated._content = body  # how requests itself fills a read body
    translated.url = str(request.url)
    translated.encoding = response.charset_encoding
    prepared = requests.PreparedRequest()
    prepared.method, prepared.url = request.method, str(request.url)
    prepared.headers = CaseInsensitiveDict()
    translated.request = prepared
    return translated
