"""The instruments, made once through the global providers, and what each event records.

A fetch's span is made after the fact, in the delivery thread, from the event: it starts
``duration`` seconds before the event's time and ends at it, in the context the fetch
began in (``event.context``), so it is a child of the span the caller had open then,
whether that caller was a thread or a coroutine (the core fetches for coroutines in a
worker thread that runs in a copy of the coroutine's context). A background refresh runs
in a thread of its own, for no caller: its span is a root. The fetch's metrics are
recorded with that span current, so an SDK that keeps exemplars links them to the trace.
"""

from __future__ import annotations

import importlib.metadata
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from unified_auth import CredentialsEvent
from unified_auth_otel.names import (
    ATTR_BACKGROUND,
    ATTR_ERROR_TYPE,
    ATTR_OUTCOME,
    ATTR_PROVIDER,
    ATTR_TARGET,
    DURATION_BUCKETS,
    FETCH_DURATION,
    FETCHES,
    REFRESH_FAILURES,
    SCOPE,
    SPAN,
    TIME_LEFT,
    UNAUTHORIZED,
)

__all__ = ["Recorder"]

_FETCH_KINDS = frozenset({"fetched", "refreshed_in_background", "fetch_failed"})
Attributes = dict[str, str | bool]


class Recorder:
    """Turns :class:`~unified_auth.CredentialsEvent` values into metrics and spans."""

    def __init__(self, meter: metrics.Meter, tracer: trace.Tracer) -> None:
        self._tracer = tracer
        self._fetches = meter.create_counter(
            FETCHES, unit="{fetch}", description="Token fetches, by outcome")
        self._duration = meter.create_histogram(
            FETCH_DURATION, unit="s", description="How long a token fetch took, retries included",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS)
        self._unauthorized = meter.create_counter(
            UNAUTHORIZED, unit="{response}",
            description="401 answers from the API to requests carrying the credentials")
        self._refresh_failures = meter.create_counter(
            REFRESH_FAILURES, unit="{fetch}",
            description="Failed fetches while the credentials in use were still valid")
        meter.create_observable_gauge(
            TIME_LEFT, callbacks=[self._time_left], unit="s",
            description="Seconds until the current credentials expire")
        self._lock = threading.Lock()
        # (target, provider) -> when its current credentials expire (epoch seconds).
        self._expiries: dict[tuple[str, str], float] = {}

    @classmethod
    def from_global_providers(cls) -> Recorder:
        """A recorder on the global meter and tracer providers (the API's proxies until the
        application sets its SDK's, which they then forward to)."""
        try:
            version = importlib.metadata.version("unified-auth")
        except importlib.metadata.PackageNotFoundError:
            version = ""
        return cls(metrics.get_meter(SCOPE, version), trace.get_tracer(SCOPE, version))

    def record(self, event: CredentialsEvent) -> None:
        """Record what ``event`` says: a fetch (counted, timed, traced), a 401, a drop."""
        names: Attributes = {ATTR_TARGET: event.target,
                             ATTR_PROVIDER: event.provider or "unknown"}
        if event.kind in _FETCH_KINDS:
            self._fetch(event, names)
        elif event.kind == "rejected":
            self._unauthorized.add(1, names)
        elif event.kind == "invalidated":
            self._forget(event)

    def _fetch(self, event: CredentialsEvent, names: Attributes) -> None:
        failed = event.kind == "fetch_failed"
        outcome = ("rejected" if event.refused else "failed") if failed else "ok"
        attributes: Attributes = {**names, ATTR_OUTCOME: outcome,
                                  ATTR_BACKGROUND: event.background}
        span_attributes = dict(attributes)
        if failed and event.error_type:
            span_attributes[ATTR_ERROR_TYPE] = event.error_type
        end = _nanoseconds(event.at)
        start = end - round((event.duration or 0.0) * 1e9)
        span = self._tracer.start_span(SPAN, context=_parent(event), kind=SpanKind.INTERNAL,
                                       attributes=span_attributes, start_time=start)
        if failed:
            span.set_status(Status(StatusCode.ERROR, event.error_type))
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            self._fetches.add(1, attributes)
            if event.duration is not None:
                self._duration.record(event.duration, attributes)
            if failed and event.valid_until is not None:
                self._refresh_failures.add(1, names)
        finally:
            otel_context.detach(token)
            span.end(end_time=end)
        if not failed:
            self._remember(event)

    def _remember(self, event: CredentialsEvent) -> None:
        key = (event.target, event.provider or "unknown")
        with self._lock:
            if event.expires_at is None:
                self._expiries.pop(key, None)  # credentials that don't expire: no countdown
            else:
                self._expiries[key] = event.expires_at.timestamp()

    def _forget(self, event: CredentialsEvent) -> None:
        with self._lock:
            self._expiries.pop((event.target, event.provider or "unknown"), None)

    def _time_left(self, options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        """Each target's seconds left, by the system clock, while they are positive: an
        expired lease that no request needed again is not "current" any more."""
        now = time.time()
        with self._lock:
            expiries = list(self._expiries.items())
        return list(_observations(expiries, now))


def _observations(expiries: Iterable[tuple[tuple[str, str], float]],
                  now: float) -> Iterator[metrics.Observation]:
    for (target, provider), expires in expiries:
        if expires > now:
            yield metrics.Observation(expires - now, {ATTR_TARGET: target,
                                                      ATTR_PROVIDER: provider})


def _parent(event: CredentialsEvent) -> otel_context.Context:
    """The OpenTelemetry context current where the fetch began; empty for a background
    refresh (a root span) or an event without one."""
    if event.context is None:
        return otel_context.Context()
    # A copy: the event's context may be entered elsewhere (another observer's thread),
    # and a context can be entered by one thread at a time.
    return event.context.copy().run(otel_context.get_current)


def _nanoseconds(moment: datetime) -> int:
    return round(moment.timestamp() * 1e9)
