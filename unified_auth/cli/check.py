"""``unified-auth check``: each target's config, secret source, credentials, expiry, warnings.

The checks that need no network (config, secret sources, warnings) run first; then every
target's credentials are fetched concurrently, with a progress display on a terminal.

Each target gets one verdict (:data:`VERDICTS`): the API accepted the credentials, the API
or the token endpoint refused them (a failure), or nobody could say (a 404, a 5xx, a
timeout, no connection: a warning, never a failure, since it says nothing about the
credentials). Messages are the library's own sentences, never a raw exception's text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import attrs
import click
import requests
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from unified_auth import Secret, SecretRef, Target, UnifiedAuth
from unified_auth.cli import logs, output
from unified_auth.cli.options import (
    complete_targets,
    config_option,
    load_hub,
    named_targets,
    network_reason,
)
from unified_auth.errors import (
    DOCS_URL,
    AccessDenied,
    AuthFailed,
    CredentialsRejected,
    TokenEndpointError,
    UnifiedAuthError,
)
from unified_auth.notices import Notice

__all__ = ["VERDICTS", "TargetReport", "Verdict", "check", "inspect", "obtain",
           "secret_sources"]

CLEAR_TEXT = "config (clear text)"
NOT_VERIFIED = "not verified against the API"
CONFIG_DOCS = f"see {DOCS_URL}config/"
_MAX_WORKERS = 8
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
_WIDE = 140
"""Columns from which each field of a target gets its own column."""


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


def secret_sources(target: Target) -> tuple[tuple[str, str], ...]:
    """Where each of the target's secrets lives, fit for display: never the value."""
    found = []
    for field in attrs.fields(type(target.options)):
        value = getattr(target.options, field.name)
        if isinstance(value, SecretRef):
            found.append((field.alias, value.describe()))
        elif isinstance(value, Secret):
            found.append((field.alias, CLEAR_TEXT))
    return tuple(found)


def inspect(hub: UnifiedAuth, name: str) -> TargetReport:
    """The checks that need no network: provider, hosts, secret sources and warnings."""
    target = hub.target(name)
    report = TargetReport(target.name, target.provider, target.hosts, secret_sources(target))
    try:
        warnings = hub.warnings(name)
    except UnifiedAuthError as exc:
        return attrs.evolve(report, verdict="failed", error=exc.message)
    return attrs.evolve(report, warnings=tuple(warnings))


def obtain(hub: UnifiedAuth, report: TargetReport, *, probe: bool = True) -> TargetReport:
    """``report`` completed with the outcome of fetching the target's credentials.

    With ``probe``, the target's plugin then asks the API who the credentials act as: a
    refusal fails the target even though a token was issued; an API that cannot say (a
    404, a 5xx, a timeout) leaves it "not verified", which is no failure.
    """
    if report.checked:
        return report
    try:
        credentials = hub.credentials(report.name)
    except (UnifiedAuthError, requests.RequestException) as exc:
        return _judged(report, exc)
    report = attrs.evolve(report, obtained=True, expires_at=credentials.expires_at)
    if not probe:
        return attrs.evolve(report, verdict="not_probed")
    try:
        acts_as = hub.probe(report.name)
    except (UnifiedAuthError, requests.RequestException) as exc:
        return _judged(report, exc)
    if acts_as is None:
        return attrs.evolve(report, verdict="not_verified")
    return attrs.evolve(report, verdict="accepted", acts_as=acts_as)


def _judged(report: TargetReport,
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


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--no-probe", "no_probe", is_flag=True,
              help="Don't ask the APIs who the credentials act as; only obtain them.")
@click.argument("targets", nargs=-1, metavar="[TARGET]...", shell_complete=complete_targets)
def check(config_path: Path | None, as_json: bool, no_probe: bool,
          targets: tuple[str, ...]) -> None:
    """Check each target (default: all): secret source, credentials, expiry and warnings.

    Credentials are fetched for real, concurrently, then each target's plugin makes one
    harmless call to its API to show who the credentials act as. Secrets are described by
    where they live, never shown.

    Each target is accepted ("acts as ..."), refused (FAILED) or "not verified" (the API
    or the token endpoint could not say: 404, 5xx, timeout, no connection), which is a
    warning. Exit status: 0 none refused or failed, 1 some target refused or failed or
    there is no target, 2 config error.
    """
    shown: set[str] = set()

    def already_shown(notice: Notice) -> bool:
        # The report shows clear-text secrets and each inspected target's warnings.
        return notice.kind == "clear_text_secret" or (
            notice.kind == "target_warning" and notice.target in shown)

    with logs.mute(already_shown):
        hub = load_hub(config_path)
        with hub:
            names = named_targets(hub, targets) or sorted(hub.targets)
            reports = [inspect(hub, name) for name in names]
            shown.update(report.name for report in reports)
            reports = _obtain_all(hub, reports, probe=not no_probe)
    ok = bool(reports) and all(report.ok for report in reports)
    if as_json:
        output.print_json({"config": hub.config.source, "ok": ok,
                           "targets": [report.to_json() for report in reports]})
    else:
        _render(hub.config.source, reports)
    if not reports:
        output.error(f"{hub.config.source}: no targets configured, so nothing was checked; "
                     f"add a [targets.NAME] table ({CONFIG_DOCS})")
    if not ok:
        raise click.exceptions.Exit(1)


def _obtain_all(hub: UnifiedAuth, reports: list[TargetReport], *,
                probe: bool) -> list[TargetReport]:
    if not reports:
        return []
    done = list(reports)
    with (ThreadPoolExecutor(min(_MAX_WORKERS, len(reports)),
                             thread_name_prefix="unified-auth-check") as pool,
          _progress(len(reports)) as advance):
        futures = {pool.submit(obtain, hub, report, probe=probe): i
                   for i, report in enumerate(reports)}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            advance()
    return done


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr for several targets, only when stderr is a terminal."""
    console = output.stderr_console()
    if total < 2 or not console.is_terminal:
        yield lambda: None
        return
    columns = (TextColumn("fetching credentials"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("fetch", total=total)
        yield lambda: progress.advance(task)


def _render(source: str, reports: list[TargetReport]) -> None:
    console = output.stdout_console()
    if not reports:
        return
    # Not the table's title: rich would split the path mid-name.
    console.print("\n".join(output.wrap(f"Targets in {source}", console.width)),
                  markup=False, highlight=False)
    title = None
    if console.width >= _WIDE:
        grid = output.table(console, "target", "provider", "hosts", "secret source",
                            "credentials", "expires", "warnings", title=title)
        for report in reports:
            cells = _cells(report)
            output.add_row(grid, report.name, report.provider, cells["hosts"],
                           cells["secrets"], cells["credentials"], cells["expires"],
                           cells["warnings"], style=_style(report))
    else:
        # Seven columns don't fit 80: the long cells share one column, a line each.
        grid = output.table(console, title=title)
        grid.show_lines = grid.expand = True
        grid.add_column("target", no_wrap=True)
        grid.add_column("provider", no_wrap=True)
        grid.add_column("credentials", ratio=2)
        grid.add_column("details", ratio=5)
        for report in reports:
            cells = _cells(report)
            details = [f"hosts: {cells['hosts']}", f"secret source: {cells['secrets']}"]
            details += [f"warning: {w}" for w in report.warnings]
            if not report.ok:
                obtained = "FAILED"
                details.append(f"error: {report.error}")
            else:
                details.insert(0, report.verification)
                obtained = _obtained(report)
                if report.obtained:
                    obtained += f"\nexpires: {cells['expires']}"
            output.add_row(grid, report.name, report.provider, obtained,
                           "\n".join(details), style=_style(report))
    console.print(grid)
    failed = sum(not r.ok for r in reports)
    unsure = sum(r.verdict == "not_verified" for r in reports)
    warned = sum(bool(r.warnings) for r in reports)
    console.print(f"{len(reports)} target(s): {len(reports) - failed - unsure} ok, {failed} "
                  f"failed, {unsure} not verified, {warned} with warnings.", markup=False)


def _obtained(report: TargetReport) -> str:
    return "ok" if report.obtained else "not obtained"


def _style(report: TargetReport) -> str | None:
    if not report.ok:
        return "red"
    return "yellow" if report.verdict == "not_verified" else None


def _cells(report: TargetReport) -> dict[str, str]:
    return {
        "hosts": ", ".join(report.hosts),
        "secrets": ", ".join(f"{key}: {where}" for key, where in report.secrets) or "none",
        "credentials": (f"{_obtained(report)}, {report.verification}" if report.ok
                        else f"FAILED: {report.error}"),
        "expires": output.expiry(report.expires_at) if report.obtained else "-",
        "warnings": "\n".join(f"- {w}" for w in report.warnings) or "-",
    }
