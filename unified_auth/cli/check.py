"""``unified-auth check``: each target's config, secret source, credentials, expiry, warnings.

The checks that need no network (config, secret sources, warnings) run first; then every
target's credentials are fetched concurrently, with a progress display on a terminal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import click
import requests
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from unified_auth import Secret, SecretRef, Target, UnifiedAuth
from unified_auth.cli import logs, output
from unified_auth.cli.options import complete_targets, config_option, load_hub
from unified_auth.errors import DOCS_URL, UnifiedAuthError
from unified_auth.notices import Notice

__all__ = ["TargetReport", "check", "inspect", "obtain", "secret_sources"]

CLEAR_TEXT = "config (clear text)"
NOT_VERIFIED = "not verified against the API"
CONFIG_DOCS = f"see {DOCS_URL}config/"
_MAX_WORKERS = 8
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
    checked: bool = False
    expires_at: datetime | None = None
    error: str | None = None
    acts_as: str | None = None
    """Who the API says the credentials act as (the plugin's ``probe``), if it was asked."""
    probed: bool = False
    """Whether ``probe`` was called (not with ``--no-probe``)."""

    @property
    def verification(self) -> str:
        """What the API said of the credentials, for people."""
        if self.acts_as is not None:
            return f"acts as {self.acts_as}"
        if self.probed:
            return NOT_VERIFIED
        return "not probed (--no-probe)"

    @property
    def ok(self) -> bool:
        return self.checked and self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider,
            "hosts": list(self.hosts),
            "secrets": [{"key": key, "source": source} for key, source in self.secrets],
            "ok": self.ok,
            "credentials": self.ok,
            "verified": self.acts_as is not None,
            "acts_as": self.acts_as,
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
        return attrs.evolve(report, checked=True, error=exc.message)
    return attrs.evolve(report, warnings=tuple(warnings))


def obtain(hub: UnifiedAuth, report: TargetReport, *, probe: bool = True) -> TargetReport:
    """``report`` completed with the outcome of fetching the target's credentials.

    With ``probe``, the target's plugin then asks the API who the credentials act as: a
    refusal fails the target even though a token was issued.
    """
    if report.checked:
        return report
    try:
        credentials = hub.credentials(report.name)
        acts_as = hub.probe(report.name) if probe else None
    except (UnifiedAuthError, requests.RequestException) as exc:
        return attrs.evolve(report, checked=True, error=_message(exc), probed=probe)
    return attrs.evolve(report, checked=True, expires_at=credentials.expires_at,
                        acts_as=acts_as, probed=probe)


def _message(exc: BaseException) -> str:
    if isinstance(exc, UnifiedAuthError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


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
    where they live, never shown. Exit status: 0 all good, 1 some target failed or there is
    no target, 2 config error.
    """
    shown: set[str] = set()

    def already_shown(notice: Notice) -> bool:
        # The report shows clear-text secrets and each inspected target's warnings.
        return notice.kind == "clear_text_secret" or (
            notice.kind == "target_warning" and notice.target in shown)

    with logs.mute(already_shown):
        hub = load_hub(config_path)
        with hub:
            names = list(dict.fromkeys(targets)) or sorted(hub.targets)
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
                           cells["warnings"], style=None if report.ok else "red")
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
            obtained = "ok" if report.ok else "FAILED"
            if not report.ok:
                details.append(f"error: {report.error}")
            else:
                details.insert(0, report.verification)
                obtained += f"\nexpires: {cells['expires']}"
            output.add_row(grid, report.name, report.provider, obtained,
                           "\n".join(details), style=None if report.ok else "red")
    console.print(grid)
    failed = sum(not r.ok for r in reports)
    warned = sum(bool(r.warnings) for r in reports)
    console.print(f"{len(reports)} target(s): {len(reports) - failed} ok, {failed} failed, "
                  f"{warned} with warnings.", markup=False)


def _cells(report: TargetReport) -> dict[str, str]:
    return {
        "hosts": ", ".join(report.hosts),
        "secrets": ", ".join(f"{key}: {where}" for key, where in report.secrets) or "none",
        "credentials": (f"ok, {report.verification}" if report.ok
                        else f"FAILED: {report.error}"),
        "expires": output.expiry(report.expires_at) if report.ok else "-",
        "warnings": "\n".join(f"- {w}" for w in report.warnings) or "-",
    }
