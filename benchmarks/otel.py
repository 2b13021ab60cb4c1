"""The OpenTelemetry plugin on the per-request path, and a slow observer on the first GET.

- **per request**: a whole requests GET with warm credentials (the setup of
  :mod:`benchmarks._clients`), through a hub without the plugin and through one with it
  and an OpenTelemetry SDK configured (a meter provider with an in-memory reader, a
  tracer provider exporting every span): the plugin observes fetches and 401s, not
  requests, so the two should be the same. A third hub like the first (an A/A control)
  shows how far apart this machine measures two equal hubs. Stubbed below urllib3 and over
  loopback, in interleaved rounds; the ratio is the median of with / without within each
  round.
- **a 1.5 s observer**: the first GET of a fresh hub, which fetches a token from the Liana
  emulator, without an observer and with one that sleeps 1.5 s per event (a blocking
  export): observers run in the hub's delivery thread, so the GET should not wait for it.

The section sets OpenTelemetry's global providers (once per process), so it runs after the
other measuring sections; without the SDK (``pip install -e '.[test]'``) it is skipped.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Sequence
from typing import Any

import unified_auth_legacy
import unified_auth_liana
import unified_auth_otel
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import unified_auth
from benchmarks._clients import TARGET, Bench, bench_api
from benchmarks._liana import liana_api
from benchmarks._measure import Timings, rounds
from benchmarks._report import Options, Skipped, Table, record, us, within
from benchmarks._servers import Endpoint
from benchmarks._stub import stubbed_network
from unified_auth import CredentialsEvent, hookimpl
from unified_auth.testing import load_isolated

TITLE = "OpenTelemetry plugin and observers"
RATIO_TARGETS = {"stubbed": 1.02, "loopback": 1.03}  # as the per_request section's
SLOW = 1.5
ADDED_TARGET = 0.05  # seconds a 1.5 s observer may add to the first GET: noise, not 1.5 s
WITHOUT, WITH = "without the plugin", "with the plugin + SDK"
CONTROL = "without the plugin, a second hub (A/A control)"
"""Two hubs that differ in nothing: how far apart this machine measures equal work."""


class _Sdk:
    """The SDK's global providers, with in-memory readers to count what was recorded."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        meter_provider = MeterProvider(metric_readers=[self.reader])
        metrics.set_meter_provider(meter_provider)
        self.exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        trace.set_tracer_provider(tracer_provider)
        if metrics.get_meter_provider() is not meter_provider:
            raise Skipped("OpenTelemetry's global providers were already set in this process")

    def spans(self) -> int:
        return len(self.exporter.get_finished_spans())

    def fetches(self) -> float:
        """The fetch counter's total over every target (cumulative)."""
        data = self.reader.get_metrics_data()
        return sum(point.value for resource in (data.resource_metrics if data else ())
                   for scope in resource.scope_metrics for metric in scope.metrics
                   if metric.name == "unified_auth.credentials.fetches"
                   for point in metric.data.data_points)


def _hub(bench: Bench, *plugins: object) -> unified_auth.UnifiedAuth:
    """The bench's hub again, with the api-key provider's plugin and ``plugins`` only, so
    that the two hubs compared differ in the otel plugin and nothing else."""
    target = {"provider": "api-key", "hosts": [e.prefix for e in bench.endpoints],
              "key": {"file": str(bench.key_file)}, "header": "Authorization",
              "prefix": "Bearer"}
    hub = load_isolated({"targets": {TARGET: target}},
                        plugins=[unified_auth_legacy, *plugins])
    hub.credentials(TARGET)  # warm: the measured GETs need no fetch
    hub.flush_events(5.0)
    return hub


def _measure(sessions: dict[str, Any], endpoints: Sequence[Endpoint], count: int,
             per_round: int) -> Timings:
    calls = {f"{endpoint.scheme} {name}": functools.partial(
        session.get, endpoint.url, verify=endpoint.requests_verify)
        for endpoint in endpoints for name, session in sessions.items()}
    return rounds(calls, count=count, per_round=per_round)


def _per_request_table(mode: str, endpoints: Sequence[Endpoint], timings: Timings,
                       notes: tuple[str, ...]) -> Table:
    rows = []
    for name in (WITHOUT, CONTROL, WITH):
        row = [f"**unified-auth** `ua.session()`, {name}"]
        for endpoint in endpoints:
            key = f"{endpoint.scheme} {name}"
            ratio = timings.ratio(key, f"{endpoint.scheme} {WITHOUT}")
            control = timings.ratio(f"{endpoint.scheme} {CONTROL}", f"{endpoint.scheme} {WITHOUT}")
            limit = RATIO_TARGETS[mode]
            verdict = record(f"otel plugin installed, requests {mode}", endpoint.scheme,
                             f"{ratio:.3f}x without (A/A control {control:.3f}x)",
                             f"<= {limit:.2f}x without",
                             within(ratio, limit)) if name == WITH else ""
            row += [us(timings.seconds(key)), f"{ratio:.3f}", verdict]
        rows.append(tuple(row))
    columns = [f"{e.scheme} {c}" for e in endpoints for c in ("us/GET", "x without", "target")]
    return Table(f"otel plugin, requests {mode}: a whole GET, warm credentials",
                 ("client", *columns), tuple(rows), notes)


class _SlowObserver:
    @hookimpl
    def credentials_event(self, event: CredentialsEvent) -> None:
        time.sleep(SLOW)  # a blocking export


def _first_get(api: Any, slow: bool) -> tuple[float, float]:
    """Seconds of a fresh hub's first GET (a token fetch), then until its events were seen."""
    plugins: list[object] = [unified_auth_liana, *([_SlowObserver()] if slow else [])]
    with load_isolated({"targets": {"mailer": api.target()}}, plugins=plugins) as hub:
        session = hub.session()
        started = time.perf_counter()
        session.get(api.url, timeout=10).raise_for_status()
        got = time.perf_counter()
        hub.flush_events(timeout=SLOW + 5)
        return got - started, time.perf_counter() - started


def _slow_observer_table(runs: int) -> Table:
    figures: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    with liana_api() as api:
        for _ in range(runs):
            for slow in (False, True):
                figures[slow].append(_first_get(api, slow))
    medians = {slow: (statistics.median(g for g, _ in runs_), statistics.median(
        d for _, d in runs_)) for slow, runs_ in figures.items()}
    added = medians[True][0] - medians[False][0]
    verdict = record(f"first GET with a {SLOW:g} s observer", "http", f"{added * 1e3:+.1f} ms",
                     f"< +{ADDED_TARGET * 1e3:.0f} ms", added < ADDED_TARGET)
    rows = (("no observer", f"{medians[False][0] * 1e3:.1f}",
             f"{medians[False][1] * 1e3:.1f}", ""),
            (f"an observer sleeping {SLOW:g} s per event", f"{medians[True][0] * 1e3:.1f}",
             f"{medians[True][1] * 1e3:.1f}", verdict))
    return Table(f"the first GET of a hub (a token fetch) with a {SLOW:g} s observer",
                 ("observers", "first GET ms", "until the observers saw it, ms",
                  f"target < +{ADDED_TARGET * 1e3:.0f} ms"), rows,
                 (f"median of {runs} fresh hubs each, interleaved; the Liana emulator on "
                  f"127.0.0.1 (http)",))


def run(options: Options) -> list[Table]:
    sdk = _Sdk()
    count = options.pick(31, 2)
    per_stubbed, per_loopback = options.pick(150, 10), options.pick(50, 5)
    with bench_api() as bench:
        without, with_otel, control = _hub(bench), _hub(bench, unified_auth_otel), _hub(bench)
        warm_spans, warm_fetches = sdk.spans(), sdk.fetches()
        sessions = {WITHOUT: without.session(), WITH: with_otel.session(),
                    CONTROL: control.session()}
        try:
            with stubbed_network():
                stubbed = _measure(sessions, bench.endpoints, count, per_stubbed)
            live = [endpoint for endpoint in bench.endpoints if endpoint.live]
            loopback = _measure(sessions, live, count, per_loopback)
            with_otel.flush_events(5.0)
        finally:
            for hub in (without, with_otel, control):
                hub.close()
        spans, fetches = sdk.spans() - warm_spans, sdk.fetches() - warm_fetches
    recorded = (f"the hubs have only the api-key provider's plugin, one the otel plugin "
                f"too; the A/A control is a third hub like the first, so its ratio is what "
                f"this machine makes of no difference at all; the SDK recorded "
                f"{warm_fetches:.0f} fetches and {warm_spans} spans while the hubs warmed "
                f"up (the plugin is active), then {fetches:.0f} fetches and {spans} spans "
                f"during the measured GETs")
    return [
        _per_request_table("stubbed", bench.endpoints, stubbed, (
            f"{count} interleaved rounds x {per_stubbed} GETs per hub and URL, answered "
            f"below urllib3 (no socket)", recorded)),
        _per_request_table("loopback", live, loopback, (
            f"{count} interleaved rounds x {per_loopback} GETs per hub and URL of a "
            f"threaded http.server on 127.0.0.1 (keep-alive)",)),
        _slow_observer_table(options.pick(5, 1)),
    ]
