"""unified-auth's benchmarks: ``python -m benchmarks [--quick] [--only NAME ...]``.

Each section is a module of this package with a ``TITLE`` and a ``run(options)`` that returns
a list of tables (:class:`benchmarks._report.Table`, or anything with a ``render()`` giving
markdown) or of rows (named tuples, shown as one table of their fields and properties);
``options.quick`` asks for a smoke run of a few seconds. The runner imports the sections in
:data:`SECTIONS`, in order; a section whose module is missing, or which needs an optional
package that is not installed, is reported as skipped and the others still run. Adding a
section is one line here plus its module.

The per-request sections run every contender on a plain-http and an https loopback URL
(:mod:`benchmarks._servers`), in interleaved rounds (:mod:`benchmarks._measure`).
"""

from __future__ import annotations

SECTIONS: tuple[str, ...] = (
    "attach",          # the auth step alone, requests, in ns; flat from 1 to 10,000 targets
    "steps",           # the per-request path cut into its steps, ns each, and each driver
    "per_request",     # requests GETs, stubbed and loopback: unified-auth, peers, plain
    "httpx_overhead",  # httpx GETs, sync and async, MockTransport and loopback
    "aiohttp_overhead",  # aiohttp GETs over loopback, against a plain ClientSession
    "load",            # load() of configs of up to 10,000 targets
    "refresh",         # a herd of threads through refreshes of 4 s tokens
    "fleet",           # processes sharing memory, file and redis caches
    "otel",            # the OpenTelemetry plugin on the per-request path; a 1.5 s observer
    "targets",         # issue 16's targets against this run's figures
)
"""Section modules, run in this order."""
