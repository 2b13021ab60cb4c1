"""What the plugin records, by name: the contract of docs/observability.md and dashboards.

The first four are shared/DESIGN.md part A's; the others are what an operator alerts on
before an outage. None of their attributes ever holds a secret, a token, a URL's userinfo
or query string: only the target's and provider's names from the config, an outcome, a
flag and an error's class name.
"""

from __future__ import annotations

__all__ = [
    "ATTR_BACKGROUND", "ATTR_ERROR_TYPE", "ATTR_OUTCOME", "ATTR_PROVIDER", "ATTR_TARGET",
    "DURATION_BUCKETS", "FETCHES", "FETCH_DURATION", "REFRESH_FAILURES", "SCOPE", "SPAN",
    "TIME_LEFT", "UNAUTHORIZED",
]

SCOPE = "unified_auth"
"""The instrumentation scope: the meter's and the tracer's name."""

FETCHES = "unified_auth.credentials.fetches"
"""Counter of token fetches, by target, provider, ``outcome`` and whether in the background."""
FETCH_DURATION = "unified_auth.credentials.fetch.duration"
"""Histogram of the seconds a fetch took (retries included), with the counter's attributes."""
UNAUTHORIZED = "unified_auth.responses.unauthorized"
"""Counter of 401 answers from the API to requests carrying a target's credentials."""
REFRESH_FAILURES = "unified_auth.credentials.refresh_failures"
"""Counter of failed fetches while the credentials in use were still valid: no request
failed yet, but one will when they expire. The alert before an outage."""
TIME_LEFT = "unified_auth.credentials.time_left"
"""Gauge of the seconds until each target's current credentials expire (targets whose
credentials don't expire, or that hold none, report nothing)."""
SPAN = "unified_auth.fetch"
"""The span of one token fetch: a child of the span current where the fetch began."""

ATTR_TARGET = "unified_auth.target"
ATTR_PROVIDER = "unified_auth.provider"
ATTR_OUTCOME = "outcome"
"""``ok``, ``failed`` (the token endpoint or plugin failed) or ``rejected`` (the provider
refused the secret)."""
ATTR_BACKGROUND = "unified_auth.background"
"""``True`` for a refresh made while the previous credentials were still in use."""
ATTR_ERROR_TYPE = "error.type"
"""OpenTelemetry's semantic convention: the error's class name, on failed fetches only."""

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                    7.5, 10.0, 30.0, 60.0)
"""Bucket bounds in seconds (the SDK's default ones are for milliseconds): OpenTelemetry's
HTTP client duration buckets, and 30 s and 60 s for a fetch that retried to its deadline."""
