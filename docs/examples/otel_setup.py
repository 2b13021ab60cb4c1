"""The OpenTelemetry setup shown in docs/observability.md; tests/test_docs.py runs main().

The global providers can be set once per process, so the docs tests run this file in a
process of its own (``OWN_PROCESS``). ``prometheus_reader()`` is shown in the docs but
not called here: the Prometheus exporter is not among the test dependencies.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import unified_auth
from unified_auth.testing import LianaEmulator, write_secret

NEEDS = {"liana"}  # the bundled providers this example uses
OWN_PROCESS = True  # it sets OpenTelemetry's global providers


def configure_opentelemetry(reader: MetricReader, exporter: SpanExporter) -> None:
    """Point the global providers at the SDK: unified_auth_otel records through them."""
    resource = Resource.create({"service.name": "billing-sync"})
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
    tracer_provider = TracerProvider(resource=resource)
    # In production a BatchSpanProcessor and an OTLP exporter; simple and in-memory here.
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)


def prometheus_reader() -> MetricReader:
    """A reader Prometheus scrapes on :9464/metrics.

    Needs ``pip install opentelemetry-exporter-prometheus``.
    """
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import start_http_server

    start_http_server(port=9464, addr="127.0.0.1")
    return PrometheusMetricReader()


def main() -> None:
    reader, exporter = InMemoryMetricReader(), InMemorySpanExporter()
    configure_opentelemetry(reader, exporter)
    tracer = trace.get_tracer("billing-sync")
    with LianaEmulator() as liana, tempfile.TemporaryDirectory() as directory:
        client_id, secret = liana.create_credential("otel example")
        secret_file = write_secret(Path(directory, "mailer.secret"), secret)
        config = {"targets": {"mailer": {
            "provider": "liana", "hosts": [f"{liana.url}/v1/"], "client_id": client_id,
            "client_secret": {"file": str(secret_file)}, "token_url": liana.token_url}}}
        with unified_auth.load(config) as ua:  # the installed plugins: unified_auth_otel too
            session = ua.session()
            with tracer.start_as_current_span("nightly sync") as sync:
                for _ in range(3):
                    session.get(f"{liana.url}/v1/lists", timeout=10).raise_for_status()
            ua.flush_events()  # the plugin records in the hub's delivery thread
    data = reader.get_metrics_data()
    assert data is not None
    fetches = [point for resource in data.resource_metrics for scope in resource.scope_metrics
               for metric in scope.metrics if metric.name == "unified_auth.credentials.fetches"
               for point in metric.data.data_points]
    assert [(dict(p.attributes)["outcome"], p.value) for p in fetches] == [("ok", 1)]
    [fetch] = [span for span in exporter.get_finished_spans() if span.name == "unified_auth.fetch"]
    assert fetch.parent is not None
    assert fetch.parent.span_id == sync.get_span_context().span_id


if __name__ == "__main__":
    main()
