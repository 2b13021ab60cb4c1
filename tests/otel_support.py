"""The OpenTelemetry SDK, configured once for the test process, read per test.

Global providers can be set only once per process, so :func:`telemetry` sets an SDK meter
provider with an :class:`InMemoryMetricReader` (counters and histograms in delta
temporality: each read returns what was recorded since the last one) and a tracer provider
exporting to an :class:`InMemorySpanExporter`; tests read what the plugin recorded there,
filtered by target names of their own, so a late event of another test's hub never counts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import attrs
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@attrs.frozen
class Point:
    """One data point of one instrument: its attributes and its value (or histogram)."""

    name: str
    attributes: dict[str, Any]
    value: Any  # a number for sums and gauges, a HistogramDataPoint for histograms


@attrs.frozen
class Telemetry:
    reader: InMemoryMetricReader
    exporter: InMemorySpanExporter
    tracer: trace.Tracer

    def reset(self) -> None:
        """Forget what was recorded so far (a read, in delta temporality, and a clear)."""
        self.reader.get_metrics_data()
        self.exporter.clear()

    def points(self, target: str) -> list[Point]:
        """The data points of ``target`` recorded since the last read."""
        data = self.reader.get_metrics_data()
        return [point for point in _points(data) if point.attributes.get(
            "unified_auth.target") == target]

    def spans(self, target: str) -> list[ReadableSpan]:
        return [span for span in self.exporter.get_finished_spans()
                if (span.attributes or {}).get("unified_auth.target") == target]

    def json(self) -> list[str]:
        """Everything exported so far, as the exporters would write it."""
        data = self.reader.get_metrics_data()
        return [*(span.to_json() for span in self.exporter.get_finished_spans()),
                data.to_json() if data is not None else ""]


def _points(data: Any) -> Iterator[Point]:
    if data is None:
        return
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    value = point if hasattr(point, "bucket_counts") else point.value
                    yield Point(metric.name, dict(point.attributes), value)


@functools.cache
def telemetry() -> Telemetry:
    reader = InMemoryMetricReader(preferred_temporality={
        Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA})
    meter_provider = MeterProvider(metric_readers=[reader])
    metrics.set_meter_provider(meter_provider)
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    assert metrics.get_meter_provider() is meter_provider, "another test set a meter provider"
    assert trace.get_tracer_provider() is tracer_provider, "another test set a tracer provider"
    return Telemetry(reader, exporter, tracer_provider.get_tracer("tests"))
