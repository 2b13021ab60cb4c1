"""The per-request path cut into its steps, each timed alone, so a regression names its step.

Two kinds of row, for the plain-http and the https URL, on a warm lease of the ``api-key``
target, all in one set of interleaved rounds (:mod:`benchmarks._measure`), garbage
collector off, median ns per call:

- **steps**: one call of the code the drivers run per request (the core's and the edges'
  functions, named as in the source); "runs in" says which drivers run it;
- **whole drivers**: what each driver adds to one request, measured through its public
  entry point with the network below it replaced by an answer made in advance: the session's
  ``AuthAdapter.send`` with ``HTTPAdapter.send`` stubbed, ``ua.auth()``'s ``__call__`` and
  the response hook it registered, the httpx transports around an inner transport that
  answers at once, and ``ua.httpx_auth()``'s flow driven as httpx drives it. The stub's
  own cost is measured too and taken off.

A driver's figure next to the sum of its steps shows what the steps leave out (the calls
between them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from unittest import mock

import attrs
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from benchmarks._clients import TARGET, Bench, bench_api
from benchmarks._measure import Timings, async_rounds, rounds
from benchmarks._report import Options, Table, ns
from benchmarks._servers import Endpoint
from unified_auth.clients import requests_edge
from unified_auth.core import proxies
from unified_auth.core.flow import Outcome, request_flow
from unified_auth.core.owned_urls import OwnedURLs

FLOW_LABEL = "flow: `run_request` on a 200 (incl. its one lease)"


def _answered(lease: object) -> int:
    return 200


def _status(answer: int) -> int:
    return answer


def _closed(answer: object) -> None:
    return None

TITLE = "per-request steps"

SESSION, AUTH, TRANSPORT, HTTPX_AUTH = "session", "auth=", "httpx transport", "httpx Auth"
DRIVERS = (SESSION, AUTH, TRANSPORT, HTTPX_AUTH)


@attrs.frozen
class Step:
    label: str
    runs_in: tuple[str, ...]
    call: Callable[[], object]
    reset: Callable[[], object] | None = None
    http_only: bool = False
    """Run by its drivers for plain-http URLs only (the proxy rule)."""
    driver: str | None = None
    """Set for a whole driver's row: the driver it measures."""
    baseline: str | None = None
    """The label of the stub's own row, taken off a whole driver's figure."""


def _response(request: requests.PreparedRequest, url: str) -> requests.Response:
    response = requests.Response()
    response.status_code, response.reason, response.url = 200, "OK", url
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json",
                                            "Content-Length": "2"})
    response.request = request
    response.connection = None  # set by HTTPAdapter.build_response; read only for a retry
    return response


def _requests_steps(bench: Bench, endpoint: Endpoint, per_round: int,
                    stack: ExitStack) -> Iterator[Step]:
    flow = bench.hub._flow  # the drivers' private path, on purpose
    url = endpoint.url
    target = flow.owner(url)
    assert target is not None
    lease = flow.broker.lease(target)
    request = requests.Session().prepare_request(requests.Request("GET", url))
    yield Step("route: `flow.owner(url)`", (SESSION, TRANSPORT),
               functools.partial(flow.owner, url))
    owned = OwnedURLs(flow, target)
    owned.owns(url)
    yield Step("route + proxy rule, remembered: `OwnedURLs.owns(url)`", (AUTH, HTTPX_AUTH),
               functools.partial(owned.owns, url))
    yield Step("lease: `broker.lease(target)`", (AUTH,),
               functools.partial(flow.broker.lease, target))
    yield Step("headers: `authoriser.headers_for(lease)`", (AUTH,),
               functools.partial(flow.authoriser.headers_for, lease))
    # Inside `owns`, for a URL's first request (and after the environment changed) only.
    yield Step("proxy rule: `environment_proxy` + `bypasses_proxy`", (),
               functools.partial(_proxy_rule, url), http_only=True)
    yield Step("proxy choice: `chosen_proxies(url, {})`", (SESSION,),
               functools.partial(proxies.chosen_proxies, url, {}, credentials=True))

    def flow_once() -> None:
        flow.run_request(target, _answered, _status, _closed, can_replay=True)

    def generator_once() -> None:
        steps = request_flow(target, can_replay=True)
        flow.advance(steps, None)
        flow.advance(steps, 200)

    yield Step(FLOW_LABEL, (SESSION, TRANSPORT), flow_once)
    yield Step("flow, as a generator: `request_flow` + `advance` x2 (incl. its lease)",
               (HTTPX_AUTH,), generator_once)
    yield Step("copy + apply: `requests_edge.authorised_copy` (incl. `headers_for`)",
               (SESSION,), functools.partial(requests_edge.authorised_copy, flow, lease,
                                             request))
    yield Step("finish: `requests_edge.finish` on a 200", (SESSION,),
               functools.partial(requests_edge.finish, flow, target, Outcome.ANSWER,
                                 _response(request, url), None))
    # Whole drivers. The session's adapter, around a send that answers at once.
    canned = _response(request, url)

    def stub_send(adapter: HTTPAdapter, prepared: requests.PreparedRequest,
                  *args: Any, **kwargs: Any) -> requests.Response:
        return canned

    stack.enter_context(mock.patch.object(HTTPAdapter, "send", stub_send))
    adapter = bench.hub.adapter()
    yield Step("stub: `HTTPAdapter.send` answering at once", (), functools.partial(
        HTTPAdapter.send, adapter, request, False, None, True, None, {}))
    yield Step("**whole `AuthAdapter.send`**, less the stub", (), functools.partial(
        adapter.send, request, False, None, True, None, {}), driver=SESSION,
        baseline="stub: `HTTPAdapter.send` answering at once")
    # ua.auth(): its __call__, and the response hook it registers, on a 200.
    auth = bench.hub.auth(TARGET)
    own = requests.Session().prepare_request(requests.Request("GET", url))
    yield Step("**whole `ua.auth()` `__call__`** (route .. hook registered)", (),
               functools.partial(auth, own), own.hooks["response"].clear, driver=AUTH)
    hooked = requests.Session().prepare_request(requests.Request("GET", url))
    answered = _response(hooked, url)
    hooks: list[Callable[..., object]] = []

    def refill() -> None:
        hooked.hooks["response"].clear()
        for _ in range(per_round + 1):
            auth(hooked)
        hooks[:] = hooked.hooks["response"][::-1]
        hooked.hooks["response"].clear()

    refill()
    yield Step("**whole `ua.auth()` response hook** on a 200 (restore, judge)", (),
               lambda: hooks.pop()(answered), refill, driver=AUTH)


def _proxy_rule(url: str) -> bool:
    return proxies.bypasses_proxy(url, proxies.environment_proxy(url), credentials=True,
                                  can_bypass=False)


def _httpx_steps(bench: Bench, endpoint: Endpoint) -> Iterator[Step]:
    import httpx  # noqa: PLC0415 - optional: without httpx, no httpx rows

    from unified_auth.clients import httpx_edge  # noqa: PLC0415 - needs httpx

    flow = bench.hub._flow
    target = flow.owner(endpoint.url)
    assert target is not None
    lease = flow.broker.lease(target)
    request = httpx.Client().build_request("GET", endpoint.url)
    sent = httpx_edge.authorised(flow, lease, request)
    answer = httpx.Response(200, headers={"Content-Type": "application/json"},
                            content=b"{}", request=sent)
    yield Step("httpx: `str(request.url)`", (TRANSPORT, HTTPX_AUTH),
               functools.partial(str, request.url))
    yield Step("httpx: `httpx_edge.without_copied(request)`", (TRANSPORT, HTTPX_AUTH),
               functools.partial(httpx_edge.without_copied, request))
    yield Step("httpx copy + apply: `httpx_edge.authorised` (incl. `headers_for`)",
               (TRANSPORT, HTTPX_AUTH),
               functools.partial(httpx_edge.authorised, flow, lease, request))
    note = httpx_edge.digests(flow.authoriser.headers_for(lease) or {})
    yield Step("httpx Auth notes its headers: `httpx_edge.with_note` (digests once a lease)",
               (HTTPX_AUTH,), functools.partial(httpx_edge.with_note, sent, note,
                                                str(request.url)))
    yield Step("httpx: `httpx_edge.needs_body(response)`", (TRANSPORT, HTTPX_AUTH),
               functools.partial(httpx_edge.needs_body, answer))

    # In-process (a transport of the caller's own is refused plain http, as its proxy is
    # unseen): a MockTransport answering at once.
    inner = httpx.MockTransport(lambda request: answer)
    transport = bench.hub.httpx_transport(inner)
    yield Step("stub: a `MockTransport` answering at once", (),
               functools.partial(inner.handle_request, request))
    yield Step("**whole `AuthTransport.handle_request`**, less the stub", (),
               functools.partial(transport.handle_request, request), driver=TRANSPORT,
               baseline="stub: a `MockTransport` answering at once")
    httpx_auth = bench.hub.httpx_auth(TARGET)

    def drive_auth() -> None:
        steps = httpx_auth.sync_auth_flow(request)
        next(steps)
        try:
            steps.send(answer)
        except StopIteration:
            return

    yield Step("**whole `ua.httpx_auth()` flow**, driven as httpx does", (), drive_auth,
               driver=HTTPX_AUTH)


def _async_rows(bench: Bench, endpoint: Endpoint, count: int,
                per_round: int) -> dict[str, float]:
    """The async flow and the async transport, timed on one event loop."""
    import anyio  # noqa: PLC0415 - optional, as httpx
    import httpx  # noqa: PLC0415 - optional

    from unified_auth.core.async_lease import run_request_async  # noqa: PLC0415 - needs anyio

    flow = bench.hub._flow
    target = flow.owner(endpoint.url)
    assert target is not None
    request = httpx.Client().build_request("GET", endpoint.url)
    answer = httpx.Response(200, content=b"{}", request=request)

    inner = httpx.MockTransport(lambda request: answer)
    transport = bench.hub.httpx_async_transport(inner)

    async def answered(lease: object) -> int:
        return 200

    async def closed(answer: object) -> None:
        return None

    async def flow_once() -> None:
        await run_request_async(flow, target, answered, _status, closed, can_replay=True)

    async def stub() -> None:
        await inner.handle_async_request(request)

    async def whole() -> None:
        await transport.handle_async_request(request)

    async def measure() -> dict[str, float]:
        timings = await async_rounds({"flow": flow_once, "stub": stub, "whole": whole},
                                     count=count, per_round=per_round)
        return {"flow": timings.seconds("flow"),
                "whole": timings.seconds("whole") - timings.seconds("stub")}

    return anyio.run(measure)


def run(options: Options) -> list[Table]:
    count, per_round = options.pick(31, 3), options.pick(3_000, 100)
    notes: list[str] = []
    with bench_api() as bench, ExitStack() as stack:
        steps: dict[str, dict[str, Step]] = {}
        for endpoint in bench.endpoints:
            found = list(_requests_steps(bench, endpoint, per_round, stack))
            try:
                found += list(_httpx_steps(bench, endpoint))
            except ImportError as exc:
                notes.append(f"no httpx rows: {exc.name} is not installed")
            steps[endpoint.scheme] = {step.label: step for step in found}
        flat = {f"{scheme} {label}": step
                for scheme, named in steps.items() for label, step in named.items()}
        timings = rounds({key: step.call for key, step in flat.items()}, count=count,
                         per_round=per_round, collect=False,
                         reset={key: step.reset for key, step in flat.items() if step.reset})
        stack.close()  # HTTPAdapter.send back before anything else sends
        try:
            async_figures = {endpoint.scheme: _async_rows(bench, endpoint, count, per_round)
                             for endpoint in bench.endpoints}
        except ImportError:
            async_figures = {}
    return [_table(steps, timings, async_figures, count, per_round, notes)]


def _table(steps: dict[str, dict[str, Step]], timings: Timings,
           async_figures: dict[str, dict[str, float]], count: int, per_round: int,
           notes: list[str]) -> Table:
    schemes = list(steps)
    first = steps[schemes[0]]
    figure: dict[tuple[str, str], float] = {}
    for scheme in schemes:
        for label, step in steps[scheme].items():
            seconds = timings.seconds(f"{scheme} {label}")
            if step.baseline is not None:
                seconds -= timings.seconds(f"{scheme} {step.baseline}")
            figure[scheme, label] = seconds
    rows: list[tuple[str, ...]] = []
    for label, step in first.items():
        if step.driver is not None or label.startswith("stub:"):
            continue
        rows.append((label, ", ".join(step.runs_in), *(
            ns(figure[s, label]) if not (step.http_only and s == "https")
            else f"({ns(figure[s, label])}, not run)" for s in schemes)))
    flow_label = FLOW_LABEL
    lease_label = "lease: `broker.lease(target)`"
    rows.append(("flow net of its lease", "", *(
        ns(figure[s, flow_label] - figure[s, lease_label]) for s in schemes)))
    if async_figures:
        rows.append(("async flow: `run_request_async` on a 200 (incl. its lease)",
                     "async httpx transport",
                     *(ns(async_figures[s]["flow"]) for s in schemes)))
    for driver in DRIVERS:
        labels = [label for label, step in first.items() if driver in step.runs_in]
        rows.append((f"sum of the {driver} steps above", driver, *(
            ns(sum(figure[s, label] for label in labels
                   if not (steps[s][label].http_only and s == "https"))) for s in schemes)))
        wholes = [label for label, step in first.items() if step.driver == driver]
        for label in wholes:
            rows.append((label, driver, *(ns(figure[s, label]) for s in schemes)))
        if len(wholes) > 1:
            rows.append((f"**whole {driver}, all parts**", driver, *(
                ns(sum(figure[s, label] for label in wholes)) for s in schemes)))
    if async_figures:
        rows.append(("**whole `AsyncAuthTransport.handle_async_request`**, less the stub",
                     "async httpx transport",
                     *(ns(async_figures[s]["whole"]) for s in schemes)))
    return Table(TITLE, ("step", "runs in", *(f"{s} ns" for s in schemes)), tuple(rows), (
        f"{count} interleaved rounds x {per_round:,} calls of each row, warm lease of an "
        f"api-key target; the proxy rule runs for plain-http URLs only (its https figure, "
        f"in brackets, is on no path), and for `ua.auth()` and `ua.httpx_auth()` on a URL's "
        f"first request (and after the environment changed) only, inside `OwnedURLs.owns`",
        "a step inside another is not counted twice in the sums: `headers_for` is inside "
        "both copies, the lease inside the flow (the session and httpx drivers lease "
        "through the flow, `ua.auth()` directly)",
        *notes))
