"""The bundled ``unified_auth_otel`` plugin: metrics and spans of fetches, failures and 401s.

Against the Liana emulator on loopback, read through the OpenTelemetry SDK's in-memory
metric reader and span exporter (:mod:`otel_support`, set once for the process). Each test
names its target after itself, so what another test's hub records never counts here.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import unified_auth_liana
import unified_auth_otel
from opentelemetry.trace import StatusCode
from otel_support import Point, Telemetry, telemetry
from unified_auth_otel import names

import unified_auth
from unified_auth import RetryPolicy
from unified_auth.core.plugin_manager import Hooks, make_plugin_manager
from unified_auth.errors import CredentialsRejected, TokenEndpointError
from unified_auth.testing import (
    LianaEmulator,
    ManualClock,
    assert_no_leaks,
    load_isolated,
    write_secret,
)

LIFETIME = 900
WAIT = 10.0
NO_RETRY = RetryPolicy(attempts=1, sleep=lambda seconds: None)


@pytest.fixture
def otel() -> Telemetry:
    recorded = telemetry()
    recorded.reset()
    return recorded


@attrs.frozen
class World:
    liana: LianaEmulator
    clock: ManualClock
    hub: unified_auth.UnifiedAuth
    name: str
    client_id: str
    secret: str = attrs.field(repr=False)

    @property
    def url(self) -> str:
        return f"{self.liana.url}/v1/lists"

    def get(self) -> int:
        return self.hub.session().get(self.url, timeout=WAIT).status_code


def make_world(liana: LianaEmulator, clock: ManualClock, tmp_path: Path, name: str, *,
               token_url: str | None = None, retry: RetryPolicy = NO_RETRY) -> World:
    client_id, secret = liana.create_credential(name)
    path = write_secret(tmp_path / f"{name}.secret", secret)
    config = {"targets": {name: {
        "provider": "liana", "hosts": [f"{liana.url}/v1/"], "client_id": client_id,
        "client_secret": {"file": str(path)}, "token_url": token_url or liana.token_url}}}
    hub = load_isolated(config, plugins=[unified_auth_liana, unified_auth_otel], clock=clock,
                        retry=retry)
    return World(liana, clock, hub, name, client_id, secret)


@pytest.fixture
def world(liana_emulator: LianaEmulator, unified_auth_clock: ManualClock, tmp_path: Path,
          request: pytest.FixtureRequest) -> World:
    name = request.node.name.removeprefix("test_")[:40].replace("_", "-")
    return make_world(liana_emulator, unified_auth_clock, tmp_path, name)


def one(points: list[Point], name: str, **attributes: Any) -> Point:
    """The single point of instrument ``name`` whose attributes include ``attributes``."""
    found = [p for p in points if p.name == name
             and all(p.attributes.get(k) == v for k, v in attributes.items())]
    assert len(found) == 1, (name, attributes, points)
    return found[0]


def names_of(points: list[Point]) -> set[str]:
    return {point.name for point in points}


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def labels(world: World, **more: Any) -> dict[str, Any]:
    return {names.ATTR_TARGET: world.name, names.ATTR_PROVIDER: "liana", **more}


def test_a_fetch_is_counted_timed_traced_and_counted_down(otel: Telemetry, world: World) -> None:
    assert world.get() == 200
    assert world.hub.flush_events(WAIT)
    points = otel.points(world.name)
    ok = labels(world, outcome="ok", **{names.ATTR_BACKGROUND: False})
    assert one(points, names.FETCHES, **ok).value == 1
    duration = one(points, names.FETCH_DURATION, **ok).value
    assert duration.count == 1 and 0 < duration.sum < WAIT
    assert list(duration.explicit_bounds) == list(names.DURATION_BUCKETS)
    left = one(points, names.TIME_LEFT).value
    assert LIFETIME - WAIT < left <= LIFETIME
    assert names_of(points) == {names.FETCHES, names.FETCH_DURATION, names.TIME_LEFT}
    [span] = otel.spans(world.name)
    assert span.name == names.SPAN
    assert dict(span.attributes or {}) == ok
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is None  # no span was current in the caller
    assert span.end_time is not None and span.start_time is not None
    assert (span.end_time - span.start_time) / 1e9 == pytest.approx(duration.sum, abs=1e-3)


def test_warm_requests_record_nothing(otel: Telemetry, world: World) -> None:
    assert world.get() == 200
    assert world.hub.flush_events(WAIT)
    otel.reset()
    assert [world.get() for _ in range(20)] == [200] * 20
    assert world.hub.flush_events(WAIT)
    assert names_of(otel.points(world.name)) == {names.TIME_LEFT}  # the gauge only
    assert otel.spans(world.name) == []


def test_a_fetch_span_is_a_child_of_the_callers_span(otel: Telemetry, world: World) -> None:
    with otel.tracer.start_as_current_span("caller") as caller:
        assert world.get() == 200
    assert world.hub.flush_events(WAIT)
    [span] = otel.spans(world.name)
    assert span.parent is not None
    assert span.parent.span_id == caller.get_span_context().span_id
    assert span.context is not None
    assert span.context.trace_id == caller.get_span_context().trace_id


def test_an_async_callers_fetch_span_is_its_child_too(otel: Telemetry, world: World) -> None:
    async def call() -> tuple[int, int, int]:
        with otel.tracer.start_as_current_span("coroutine") as caller:
            async with world.hub.httpx_async_client(timeout=WAIT) as client:
                status = (await client.get(world.url)).status_code
        context = caller.get_span_context()
        return status, context.span_id, context.trace_id

    status, span_id, trace_id = asyncio.run(call())
    assert status == 200
    assert world.hub.flush_events(WAIT)
    [span] = otel.spans(world.name)
    assert span.parent is not None and span.context is not None
    assert (span.parent.span_id, span.context.trace_id) == (span_id, trace_id)


def test_a_background_refresh_is_its_own_trace_and_says_so(
        otel: Telemetry, world: World) -> None:
    assert world.get() == 200
    world.clock.advance(LIFETIME * 0.8)  # the advisory window: refreshed in the background
    with otel.tracer.start_as_current_span("caller"):
        assert world.get() == 200
    wait_until(lambda: world.hub.stats(world.name).background_refreshes == 1)
    assert world.hub.flush_events(WAIT)
    points = otel.points(world.name)
    background = labels(world, outcome="ok", **{names.ATTR_BACKGROUND: True})
    assert one(points, names.FETCHES, **background).value == 1
    assert one(points, names.FETCHES, **{names.ATTR_BACKGROUND: False}).value == 1
    refreshed = [s for s in otel.spans(world.name)
                 if (s.attributes or {}).get(names.ATTR_BACKGROUND)]
    assert len(refreshed) == 1
    assert refreshed[0].parent is None  # no caller waited for it


def test_a_failed_fetch_is_an_error_span_and_a_failed_outcome(
        otel: Telemetry, world: World) -> None:
    world.liana.inject_fault("status", status=503)
    with pytest.raises(TokenEndpointError):
        world.get()
    assert world.hub.flush_events(WAIT)
    points = otel.points(world.name)
    failed = labels(world, outcome="failed", **{names.ATTR_BACKGROUND: False})
    assert one(points, names.FETCHES, **failed).value == 1
    assert one(points, names.FETCH_DURATION, **failed).value.count == 1
    assert names.REFRESH_FAILURES not in names_of(points)  # nothing was held: it failed calls
    assert names.TIME_LEFT not in names_of(points)
    [span] = otel.spans(world.name)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "TokenEndpointError"
    assert (span.attributes or {})[names.ATTR_ERROR_TYPE] == "TokenEndpointError"


def test_a_refused_secret_is_a_rejected_outcome(otel: Telemetry, world: World) -> None:
    world.liana.delete_credential(world.client_id)
    with pytest.raises(CredentialsRejected):
        world.get()
    assert world.hub.flush_events(WAIT)
    points = otel.points(world.name)
    assert one(points, names.FETCHES, outcome="rejected").value == 1
    [span] = otel.spans(world.name)
    assert (span.attributes or {})[names.ATTR_ERROR_TYPE] == "CredentialsRejected"


def test_a_failing_background_refresh_raises_the_alarm_before_any_request_fails(
        otel: Telemetry, world: World) -> None:
    assert world.get() == 200
    world.liana.inject_fault("status", status=503)
    world.clock.advance(LIFETIME * 0.8)
    assert world.get() == 200  # the held token still works
    wait_until(lambda: world.hub.stats(world.name).failed_fetches == 1)
    assert world.hub.flush_events(WAIT)
    points = otel.points(world.name)
    assert one(points, names.REFRESH_FAILURES).value == 1
    assert one(points, names.REFRESH_FAILURES).attributes == labels(world)
    assert one(points, names.FETCHES, outcome="failed",
               **{names.ATTR_BACKGROUND: True}).value == 1


def test_a_401_is_counted_and_the_dropped_credentials_stop_counting_down(
        otel: Telemetry, world: World) -> None:
    assert world.get() == 200
    assert world.hub.flush_events(WAIT)
    otel.reset()
    world.liana.revoke_tokens()
    world.liana.inject_fault("status", status=503)  # the refetch after the 401 fails
    with pytest.raises(TokenEndpointError):
        world.get()
    assert world.hub.flush_events(WAIT)
    points = otel.points(world.name)
    assert one(points, names.UNAUTHORIZED).value == 1
    assert one(points, names.UNAUTHORIZED).attributes == labels(world)
    assert one(points, names.FETCHES, outcome="failed").value == 1
    assert names.TIME_LEFT not in names_of(points)  # invalidated, and nothing new


def test_nothing_exported_holds_a_secret_a_token_or_a_query(
        otel: Telemetry, liana_emulator: LianaEmulator, unified_auth_clock: ManualClock,
        tmp_path: Path) -> None:
    query = "tenant-canary-7c1e9a44d0"
    world = make_world(liana_emulator, unified_auth_clock, tmp_path, "leaks",
                       token_url=f"{liana_emulator.token_url}?tenant={query}")
    assert world.get() == 200
    token = world.hub.credentials(world.name).value.reveal()
    liana_emulator.revoke_tokens()
    assert world.get() == 200  # a 401, then a fresh token
    fresh = world.hub.credentials(world.name).value.reveal()
    unified_auth_clock.advance(120)  # past the bound on 401-driven refetches
    liana_emulator.inject_fault("status", status=503)
    liana_emulator.revoke_tokens()
    with pytest.raises(TokenEndpointError):
        world.get()  # a 401, then a failed fetch
    assert world.hub.flush_events(WAIT)
    exported = otel.json()
    assert any(world.name in text for text in exported)  # the scan reads the real output
    assert_no_leaks(exported, [world.secret, token, fresh, query])


def test_the_installed_plugin_loads_through_its_entry_point() -> None:
    pm, broken = make_plugin_manager()
    assert pm.get_plugin("otel") is unified_auth_otel and broken == []
    assert unified_auth_otel.ACTIVE and Hooks(pm).has_observers()


def _python(program: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(program)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_without_the_api_the_plugin_is_inert() -> None:
    done = _python("""
        import sys
        sys.modules["opentelemetry"] = None  # as if opentelemetry-api were not installed
        import unified_auth_otel
        from unified_auth.core.plugin_manager import Hooks, make_plugin_manager
        pm, broken = make_plugin_manager([unified_auth_otel], entry_points=False)
        assert not unified_auth_otel.ACTIVE and broken == []
        assert not hasattr(unified_auth_otel, "credentials_event")
        assert not Hooks(pm).has_observers()  # so no delivery thread either
        print("inert")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "inert\n"


def test_without_an_sdk_the_plugin_records_into_the_no_op_providers(tmp_path: Path) -> None:
    # No SDK configured: the API's no-op providers; nothing fails, nothing is logged.
    done = _python(f"""
        import logging
        from pathlib import Path
        import unified_auth
        from unified_auth.testing import LianaEmulator, write_secret
        logging.basicConfig(level=logging.WARNING)
        with LianaEmulator() as liana:
            client_id, secret = liana.create_credential("no sdk")
            path = write_secret(Path({str(tmp_path)!r}) / "s", secret)
            ua = unified_auth.load({{"targets": {{"api": {{
                "provider": "liana", "hosts": [f"{{liana.url}}/v1/"], "client_id": client_id,
                "client_secret": {{"file": str(path)}}, "token_url": liana.token_url}}}}}})
            ua.session().get(f"{{liana.url}}/v1/lists", timeout=10).raise_for_status()
            liana.revoke_tokens()
            ua.session().get(f"{{liana.url}}/v1/lists", timeout=10).raise_for_status()
            assert ua.flush_events(10)
            import sys
            assert "opentelemetry.metrics" in sys.modules  # the plugin did record
            print("ok")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n" and done.stderr == ""
