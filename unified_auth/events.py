"""What the broker reports about a target's credentials: events as they happen, and counts.

:class:`CredentialsEvent` is what the ``credentials_event`` hook receives at each moment the
core already knows about (a fetch, a background refresh, a failed fetch, a 401 from the API,
dropped credentials); :class:`TargetStats` is the running count of the same moments, from
``ua.stats(name)``. Neither ever holds a secret or a token: only names, times and a redacted
one-line error.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import attrs

from unified_auth.core.redaction import redact

__all__ = ["CredentialsEvent", "EventKind", "TargetStats", "describe_error", "error_kind"]

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
    :param provider: the target's provider (``"liana"``); ``None`` only in events built
        by hand.
    :param duration: for ``fetched``, ``refreshed_in_background`` and ``fetch_failed``, the
        seconds the fetch took (retries and their pauses included), measured on a monotonic
        clock; otherwise ``None``.
    :param background: the fetch ran in the background while the previous credentials were
        still in use: ``True`` for every ``refreshed_in_background`` event, and for a
        ``fetch_failed`` of such a refresh (no caller waited for it).
    :param valid_until: for ``fetch_failed``, when the credentials still in use expire: the
        failure failed no request, and this is how long it may go on doing so; ``None``
        when no valid credentials were held (callers got the failure).
    :param error_type: for ``fetch_failed``, the error's class name (the public one of
        :mod:`unified_auth.errors` it is an instance of, e.g. ``"TokenEndpointError"``),
        for grouping without reading the message; otherwise ``None``.
    :param refused: for ``fetch_failed``, whether the provider refused the secret
        (:class:`~unified_auth.errors.CredentialsRejected`) rather than failing to answer.
    :param context: the :mod:`contextvars` context of the thread that ran the fetch, as the
        fetch began (a tracer's current span lives there): the caller's for a fetch callers
        waited for, a fresh one for a background refresh. Opaque, and left out of
        equality, hashing, ``repr`` and pickling. A tracing observer starts its span in it
        (``event.context.run(...)``), so the span is a child of the caller's.
    """

    kind: EventKind
    target: str
    at: datetime
    expires_at: datetime | None = None
    error: str | None = None
    throttled_until: datetime | None = None
    provider: str | None = None
    duration: float | None = None
    background: bool = False
    valid_until: datetime | None = None
    error_type: str | None = None
    refused: bool = False
    context: contextvars.Context | None = attrs.field(
        default=None, eq=False, hash=False, repr=False)

    def __getstate__(self) -> dict[str, object]:
        # The context belongs to the process that fetched: it neither pickles nor means
        # anything elsewhere, so an event sent to another process arrives without it.
        return {field.name: None if field.name == "context" else getattr(self, field.name)
                for field in attrs.fields(type(self))}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __copy__(self) -> CredentialsEvent:
        return self  # immutable: a copy may as well be the same event, context and all

    def __deepcopy__(self, memo: dict[int, object]) -> CredentialsEvent:
        return self

    @property
    def seconds_left(self) -> float | None:
        """Seconds from :attr:`at` until the credentials concerned expire: ``expires_at``,
        or for a failed refresh ``valid_until``; ``None`` when neither is known."""
        until = self.expires_at or self.valid_until
        return None if until is None else (until - self.at).total_seconds()


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
    :param dropped_events: events of the target the ``credentials_event`` observers never
        saw: the hub's delivery queue was full (an observer fell behind), so they were
        dropped rather than delay the request that caused them.
    """

    fetches: int = 0
    background_refreshes: int = 0
    failed_fetches: int = 0
    rejections: int = 0
    expires_at: datetime | None = None
    throttled: int = 0
    dropped_events: int = 0


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


def error_kind(error: BaseException) -> str:
    """The name of the public :mod:`unified_auth.errors` class ``error`` is an instance of
    (an internal subclass is shown as its public base), else its own class name."""
    for cls in type(error).__mro__:
        if cls.__module__ == "unified_auth.errors" and not cls.__name__.startswith("_"):
            return cls.__name__
    return type(error).__name__
