"""``unified-auth plugins``: the installed plugins, their versions and their providers."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import attrs
import click

import unified_auth
from unified_auth.cli import logs, output
from unified_auth.hookspecs import PROJECT

__all__ = ["PluginReport", "plugins", "survey"]

_WIDE = 100
"""Columns from which the version gets a column of its own."""


@attrs.frozen
class PluginReport:
    """One plugin as ``plugins`` shows it."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    providers: tuple[str, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "module": self.module, "distribution": self.distribution,
                "version": self.version, "providers": list(self.providers),
                "ok": self.error is None, "error": self.error}


def survey() -> list[PluginReport]:
    """Every entry point of the ``unified_auth`` group, loaded or broken, with its providers."""
    hub = unified_auth.load({"targets": {}})
    providers: dict[str, list[str]] = {}
    for info in hub.provider_info.values():
        providers.setdefault(info.plugin, []).append(info.name)
    errors = {broken.name: broken.error for broken in hub.broken_plugins}
    reports = []
    for ep in sorted(importlib.metadata.entry_points(group=PROJECT), key=lambda e: e.name):
        dist = ep.dist
        reports.append(PluginReport(
            name=ep.name, module=ep.value,
            distribution=dist.name if dist is not None else None,
            version=dist.version if dist is not None else None,
            providers=tuple(sorted(providers.pop(ep.name, []))),
            error=errors.pop(ep.name, None)))
    # Plugins the core registers itself (none registers providers today) or that an entry
    # point listing no longer shows: say what registered the providers all the same.
    for plugin, names in sorted(providers.items()):
        reports.append(PluginReport(plugin, plugin, None, None, tuple(sorted(names))))
    return reports


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def plugins(as_json: bool) -> None:
    """List the installed plugins (distribution, version, module) and their providers.

    A plugin that fails to load is listed with its error; the others still work.
    """
    with logs.mute(lambda notice: notice.kind == "broken_plugin"):
        reports = survey()
    if as_json:
        output.print_json({"plugins": [report.to_json() for report in reports]})
        return
    console = output.stdout_console()
    if not reports:
        console.print("No plugins installed: install a provider plugin (entry-point group "
                      f"{PROJECT!r}).", markup=False)
        return
    # Five columns with module names whole don't fit 80: the version joins the distribution.
    wide = console.width >= _WIDE
    headers = ("plugin", "distribution", "version", "module", "providers") if wide else (
        "plugin", "distribution", "module", "providers")
    grid = output.table(console, *headers, title="Installed plugins")
    for report in reports:
        providers = ", ".join(report.providers) or "-"
        if report.error is not None:
            providers = f"BROKEN: {report.error}"
        distribution = [report.distribution or "-", report.version or "-"]
        if not wide:
            distribution = [" ".join(distribution)]
        output.add_row(grid, report.name, *distribution, report.module, providers,
                       style="red" if report.error is not None else None)
    console.print(grid)
    broken = [report for report in reports if report.error is not None]
    if broken:
        output.stderr_console().print(
            f"{len(broken)} plugin(s) failed to load and are skipped; the others work. "
            f"Reinstall or uninstall the distribution named above.", markup=False)
