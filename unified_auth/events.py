"""What the broker reports about a target's credentials: events as they happen, and counts.

:class:`CredentialsEvent` is what the ``credentials_event`` hook receives at each moment the
core already knows about (a fetch, a background refresh, a failed fetch, a 401 from the API,
dropped credentials); :class:`TargetStats` is the running count of the same moments, from
``ua.stats(name)``. Neither ever holds a secret or a token: only names, times and a redacted
one-line error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import attrs

from unified_auth.core.redaction import redact

__all__ = ["CredentialsEvent", "EventKind", "TargetStats", "describe_error"]

EventKind = Literal[
    "fetched", "refreshed_in_background", "fetch_failed", "rejected", "invalidated"]
"""``fetched``: credentials obtained from the provider while callers waited for them;
``refreshed_in_background``: obtained while the previous ones were still in use;
``fetch_failed``: the provider (or the token endpoint) refused or failed a fetch, including
one the core then recovered from by re-reading a rotated secret; ``rejected``: the API
answered 401 to a request carrying the credentials; ``invalidated``: the core dropped the
cached credentials after such a 401."""

_MAX_ERROR = 300
_REDACTED = "********"


@attrs.frozen
class CredentialsEvent:
    """One moment in the life of a target's credentials, as the ``credentials_event`` hook sees it.

    :param kind: what happened (see :data:`EventKind`).
    :param target: the target's name.
    :param at: the aware UTC time, from the hub's clock.
    :param expires_at: when the credentials concerned expire (``None``: they don't, or the
        event is about a failure).
    :param error: for ``fetch_failed``, the error as one redacted line; otherwise ``None``.
    :param throttled_until: for ``fetch_failed``, when the next token request may go out:
        until then a caller without valid credentials gets this failure again at once (the
        broker's backoff, 1 s doubling to 60 s, or the endpoint's ``Retry-After``);
        otherwise ``None``.
    """

    kind: EventKind
    target: str
    at: datetime
    expires_at: datetime | None = None
    error: str | None = None
    throttled_until: datetime | None = None


@attrs.frozen
class TargetStats:
    """A target's counts since the hub was loaded, from ``ua.stats(name)``.

    :param fetches: credentials obtained from the provider, background refreshes included.
    :param background_refreshes: of those, the ones obtained while the previous
        credentials were still in use (renewed before they expired).
    :param failed_fetches: fetches the provider or the token endpoint refused or failed.
    :param rejections: 401 answers from the API to requests carrying the credentials.
    :param expires_at: when the current credentials expire; ``None`` if they don't or if
        there are none yet.
    :param throttled: calls answered at once with the last fetch's failure, without a token
        request, while the broker backed off from it (here or, with a shared cache, in
        another process of the fleet).
    """

    fetches: int = 0
    background_refreshes: int = 0
    failed_fetches: int = 0
    rejections: int = 0
    expires_at: datetime | None = None
    throttled: int = 0


def describe_error(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """``error`` as one short line, with every value of ``secrets`` blanked out.

    The core's own messages never hold a secret; a plugin's might, so the values the target
    resolved are removed as well, before the line is cut to a bounded length.
    """
    try:
        text = " ".join(str(error).split()) or "no details"
    except Exception:  # noqa: BLE001 - describing a failure must not fail in turn
        text = "no details (its message could not be read)"
    text = redact(text, secrets, _REDACTED)  # every form, as the leak checker looks
    line = f"{type(error).__name__}: {text}"
    return line if len(line) <= _MAX_ERROR else line[:_MAX_ERROR - 3] + "..."
