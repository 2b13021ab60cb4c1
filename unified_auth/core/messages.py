"""What plugins see of a request and of an answer, whatever HTTP client carries them.

``apply_auth`` gets an :class:`AuthRequest` and ``explain_response`` an :class:`AuthAnswer`,
for requests, httpx and any later client alike: a driver in :mod:`unified_auth.clients`
converts its own objects at its edge, so no client builds another library's objects. The
attribute names are those of :class:`requests.PreparedRequest` and
:class:`requests.Response`, so a plugin written against them keeps working.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["AuthAnswer", "AuthRequest", "Headers", "StreamedBody"]


class Headers(MutableMapping[str, str]):
    """A case-insensitive mapping of header names to values that keeps each name's spelling.

    ``headers["authorization"]`` finds ``Authorization``; setting a name replaces any
    spelling of it. Iteration yields the names as last set.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        pairs = items.items() if isinstance(items, Mapping) else items
        for name, value in pairs:
            self[name] = value

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __setitem__(self, name: str, value: str) -> None:
        self._items[name.lower()] = (name, value)

    def __delitem__(self, name: str) -> None:
        del self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def copy(self) -> Headers:
        copied = Headers()
        copied._items = self._items.copy()
        return copied

    def __repr__(self) -> str:
        # Header values are credentials more often than not: only the names are shown.
        return f"Headers({sorted(self)!r})"


class StreamedBody:
    """The body of a request that streams it (a generator, an upload): it can be sent once,
    so a plugin may not read it. Iterating it is refused, so a signer fails with its own
    "cannot be signed" error instead of consuming the caller's upload."""

    __slots__ = ()

    def __iter__(self) -> Iterator[bytes]:
        raise TypeError("a streamed request body can be read only once")

    def __repr__(self) -> str:
        return "<streamed body>"


class AuthRequest:
    """A request as ``apply_auth`` sees it: mutate ``headers`` (or ``url``, ``body``).

    :ivar method: ``"GET"``, ``"POST"``, ...
    :ivar url: the full URL as it will be sent, query included.
    :ivar headers: a mutable, case-insensitive mapping of the request's headers.
    :ivar body: the body bytes, ``None`` for none; a :class:`StreamedBody` (or, from
        requests, the caller's file or iterator) when the body is not in memory. A plugin
        that replaces it assigns bytes.
    """

    __slots__ = ("body", "headers", "method", "url")

    def __init__(self, method: str, url: str, headers: MutableMapping[str, str],
                 body: Any = None) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body

    @property
    def path_url(self) -> str:
        """The path and query the request line carries (as :class:`requests.PreparedRequest`)."""
        parts = urlsplit(self.url)
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path

    def __repr__(self) -> str:
        # No URL: a plugin may have put its key in the query string.
        return f"<AuthRequest {self.method}>"


class AuthAnswer:
    """An answer as ``explain_response`` sees it.

    :ivar status_code: the HTTP status.
    :ivar reason: the reason phrase (``"Forbidden"``).
    :ivar headers: a case-insensitive mapping of the answer's headers.
    :ivar url: the URL that answered.
    """

    __slots__ = ("_read", "_text", "headers", "reason", "status_code", "url")

    def __init__(self, status_code: int, reason: str, headers: Mapping[str, str], url: str,
                 text: str | Callable[[], str] = "") -> None:
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.url = url
        self._text = text if isinstance(text, str) else None
        self._read = None if isinstance(text, str) else text

    @property
    def text(self) -> str:
        """The body as text, read on first use (empty when it is too long to read safely:
        an error answer's explanation is short)."""
        if self._text is None:
            read, self._read = self._read, None
            self._text = read() if read is not None else ""
        return self._text

    def __repr__(self) -> str:
        return f"<AuthAnswer [{self.status_code}]>"
