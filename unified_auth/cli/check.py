"""``unified-auth check``: each target's config, secret source, credentials, expiry, warnings.

The checks that need no network (config, secret sources, warnings) run first; then every
target's credentials are fetched concurrently, with a progress display on a terminal.

Each target gets one verdict (:data:`VERDICTS`): the API accepted the credentials, the API
or the token endpoint refused them (a failure), or nobody could say (a warning). What a
report holds and how an exception is judged is :mod:`unified_auth.cli.check_report`; this
module gathers the reports and shows them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import attrs
import click
import requests
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from unified_auth import Secret, SecretRef, Target, UnifiedAuth
from unified_auth.cli import logs, output
from unified_auth.cli.check_report import VERDICTS, TargetReport, Verdict, judge_failure
from unified_auth.cli.options import complete_targets, config_option, load_hub, named_targets
from unified_auth.errors import DOCS_URL, UnifiedAuthError
from unified_auth.notices import Notice

__all__ = ["VERDICTS", "TargetReport", "Verdict", "check", "inspect", "obtain",
           "secret_sources"]

CLEAR_TEXT = "config (clear text)"
CONFIG_DOCS = f"see {DOCS_URL}config/"
_MAX_WORKERS = 8
_WIDE = 140
"""Columns from which each field of a target gets its own column."""


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
        return judge_failure(report, exc)
    report = attrs.evolve(report, obtained=True, expires_at=credentials.expires_at)
    if not probe:
        return attrs.evolve(report, verdict="not_probed")
    try:
        acts_as = hub.probe(report.name)
    except (UnifiedAuthError, requests.RequestException) as exc:
        return judge_failure(report, exc)
    if acts_as is None:
        return attrs.evolve(report, verdict="not_verified")
    return attrs.evolve(report, verdict="accepted", acts_as=acts_as)


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
