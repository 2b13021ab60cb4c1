"""unified-auth's benchmarks: ``python -m benchmarks [--quick] [--only NAME ...]``.

Each section is a module of this package with a ``TITLE`` and a ``run(options)`` that returns
a list of tables (:class:`benchmarks._report.Table`, or anything with a ``render()`` giving
markdown) or of rows (named tuples, shown as one table of their fields and properties);
``options.quick`` asks for a smoke run of a few seconds. The runner imports the sections in
:data:`SECTIONS`, in order; a section whose module is missing, or which needs an optional
package that is not installed, is reported as skipped and the others still run. Adding a
section is one line here plus its module.
"""

from __future__ import annotations

SECTIONS: tuple[str, ...] = (
    "per_request",     # loopback and stubbed GETs: unified-auth and its peers vs plain requests
    "attach",          # the auth step alone, in ns; flat from 1 to 10,000 targets
    "load",            # load() of configs of up to 10,000 targets
    "refresh",         # a herd of threads through refreshes of 4 s tokens
    "fleet",           # processes sharing memory, file and redis caches
    "httpx_overhead",  # the httpx transport against a plain httpx client
)
"""Section modules, run in this order."""
