"""OpenTelemetry metrics and traces of every target's credentials (``unified-auth[otel]``).

Active when ``opentelemetry-api`` is installed; without it this plugin implements no hook
at all, so a hub runs no event thread for it. It records through the *global* meter and
tracer providers, so what it records goes wherever the application's OpenTelemetry SDK
sends the rest (Prometheus, OTLP, the console); with no SDK configured the API's no-op
providers make every record a no-op. The instruments and the span are listed in
:mod:`unified_auth_otel.names`; docs/observability.md shows them in a dashboard.

It observes the ``credentials_event`` hook, so it sees fetches, background refreshes,
failed fetches and 401s, never a request that needed no new credentials: the per-request
path is the same with it installed. Like every observer it runs in the hub's delivery
thread: a slow exporter delays no request. The API is imported at the first event, there,
rather than when the plugin loads, so ``unified-auth`` commands start no slower for it.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import TYPE_CHECKING

from unified_auth import CredentialsEvent, hookimpl

if TYPE_CHECKING:
    from unified_auth_otel.recorder import Recorder

__all__ = ["ACTIVE"]


def _api_installed() -> bool:
    try:
        return all(importlib.util.find_spec(name) is not None
                   for name in ("opentelemetry.metrics", "opentelemetry.trace"))
    except ImportError:  # no ``opentelemetry`` package at all
        return False


ACTIVE = _api_installed()
"""Whether ``opentelemetry-api`` is installed, and so whether the plugin observes events."""

if ACTIVE:
    __all__ += ["credentials_event"]

    _made = threading.Lock()
    _recorder: Recorder | None = None

    def _the_recorder() -> Recorder:
        global _recorder  # one set of instruments per process, made once
        with _made:
            if _recorder is None:
                # The API's import takes tens of milliseconds: paid here, in the delivery
                # thread at the first event, not by every program that loads the plugin.
                from unified_auth_otel.recorder import Recorder  # noqa: PLC0415

                _recorder = Recorder.from_global_providers()
            return _recorder

    @hookimpl
    def credentials_event(event: CredentialsEvent) -> None:
        """Count the event, time the fetch and trace it (see :mod:`unified_auth_otel`)."""
        _the_recorder().record(event)
