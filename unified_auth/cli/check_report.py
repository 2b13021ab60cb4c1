"""What ``unified-auth check`` found about one target, and the verdict it gives.

:class:`TargetReport` holds what was found (never a secret); :data:`VERDICTS` lists each
verdict and what it means; :func:`judge_failure` turns an exception from obtaining or
probing credentials into a verdict: the API or the token endpoint refused them (a
failure), or nobody could say (a 404, a 5xx, a timeout, no connection: a warning, never a
failure, since it says nothing about the credentials). Messages are the library's own
sentences, never a raw exception's text. Gathering the reports and showing them is
:mod:`unified_auth.cli.check`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import attrs
import requests

from unified_auth.cli.options import network_reason
from unified_auth.errors import (
    AccessDenied,
    AuthFailed,
    CredentialsRejected,
    TokenEndpointError,
    UnifiedAuthError,
)

__all__ = ["NOT_VERIFIED", "VERDICTS", "TargetReport", "Verdict", "judge_failure"]

NOT_VERIFIED = "not verified against the API"
_REFUSALS = (401, 403)

Verdict = Literal["accepted", "refused", "failed", "not_verified", "not_probed", "unchecked"]
VERDICTS: dict[str, str] = {
    "accepted": "the API accepted the credentials (acts_as says as whom)",
    "refused": "the API or the token endpoint refused them (401/403, a rejected secret)",
    "failed": "they could not be tried: a secret, config or plugin error",
    "not_verified": "nobody could say (404, 5xx, timeout, no connection, nothing to ask)",
    "not_probed": "obtained, the API not asked (--no-probe)",
    "unchecked": "not looked at yet",
}
"""Each verdict ``check`` gives a target, and what it means. ``refused`` and ``failed``
fail the target (exit 1); the others do not."""
_FAILING = frozenset({"refused", "failed"})


@attrs.frozen
class TargetReport:
    """What ``check`` found about one target. It holds no secret."""

    name: str
    provider: str
    hosts: tuple[str, ...]
    secrets: tuple[tuple[str, str], ...]
    """``(key, where the secret lives)`` for each secret option."""
    warnings: tuple[str, ...] = ()
    verdict: Verdict = "unchecked"
    obtained: bool = False
    """Whether the credentials were obtained (a token issued, a secret resolved)."""
    expires_at: datetime | None = None
    error: str | None = None
    """Why the target failed (``refused`` or ``failed``), one line."""
    acts_as: str | None = None
    """Who the API says the credentials act as (the plugin's ``probe``), if it was asked."""
    why_not_verified: str | None = None
    """Why nobody could say whether the credentials work (``not_verified``), one line."""

    @property
    def checked(self) -> bool:
        return self.verdict != "unchecked"

    @property
    def verification(self) -> str:
        """What the API said of the credentials, for people."""
        if self.acts_as is not None:
            return f"acts as {self.acts_as}"
        if self.verdict == "not_probed":
            return "not probed (--no-probe)"
        if self.why_not_verified is not None:
            return f"not verified: {self.why_not_verified}"
        return NOT_VERIFIED

    @property
    def ok(self) -> bool:
        """Nothing failed: accepted, not probed, or not verified (which is a warning)."""
        return self.checked and self.verdict not in _FAILING

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider,
            "hosts": list(self.hosts),
            "secrets": [{"key": key, "source": source} for key, source in self.secrets],
            "ok": self.ok,
            "verdict": self.verdict,
            "credentials": self.obtained,
            "verified": self.acts_as is not None,
            "acts_as": self.acts_as,
            "not_verified": self.why_not_verified,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "error": self.error,
            "warnings": list(self.warnings),
        }


def judge_failure(report: TargetReport,
                  exc: UnifiedAuthError | requests.RequestException) -> TargetReport:
    """``report`` with the verdict ``exc`` means: refused, failed or not verified."""
    if isinstance(exc, CredentialsRejected | AuthFailed | AccessDenied):
        return attrs.evolve(report, verdict="refused", error=exc.message)
    if isinstance(exc, TokenEndpointError):
        # Down, 5xx, too slow or garbled, after the core's retries (or while the core backs
        # off from it): the endpoint said nothing of the secret. Judged by type alone, as
        # a failure replayed from the backoff or the shared cache carries no answer.
        return attrs.evolve(report, verdict="not_verified",
                            why_not_verified=_first_line(exc.message))
    if isinstance(exc, UnifiedAuthError):
        return attrs.evolve(report, verdict="failed", error=exc.message)
    response = exc.response
    if response is not None and response.status_code in _REFUSALS:
        status = f"{response.status_code} {response.reason or ''}".strip()
        return attrs.evolve(report, verdict="refused", error=(
            f"target {report.name}: {_where(exc)} answered {status}: the API refused the "
            f"credentials"))
    return attrs.evolve(report, verdict="not_verified", why_not_verified=_why_unsure(exc))


def _why_unsure(exc: requests.RequestException) -> str:
    """Why a probe's request says nothing of the credentials, in one line of our words."""
    where = _where(exc)
    response = exc.response
    if response is not None:
        status = f"{response.status_code} {response.reason or ''}".strip()
        if response.status_code == 404:
            return (f"{where} answered {status}: the API is not there, so the "
                    f"credentials were not tried (check the target's hosts)")
        if response.status_code >= 500:
            return f"{where} answered {status}: the API may be having trouble"
        return f"{where} answered {status}"
    if isinstance(exc, requests.Timeout):
        return f"{where} did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return f"cannot connect to {where}: {network_reason(exc)}"
    return f"the request to {where} failed ({type(exc).__name__})"


def _where(exc: requests.RequestException) -> str:
    """``"POST https://host/path"`` of the failed request, never its query (which may
    carry a key) nor a ``user:password@``."""
    request = exc.request if exc.request is not None else getattr(exc.response, "request",
                                                                  None)
    url = getattr(request, "url", None)
    if not isinstance(url, str):
        return "the API"
    try:
        parts = urlsplit(url)
        shown = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query="",
                                          fragment=""))
    except ValueError:
        return "the API"
    method = getattr(request, "method", None)
    return f"{method} {shown}" if isinstance(method, str) else shown


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else message
