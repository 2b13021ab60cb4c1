"""What every section shares: run options, result tables, the machine they ran on."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
import sys
import timeit
from collections.abc import Callable, Sequence

import attrs


@attrs.frozen
class Options:
    """How long to measure: ``quick`` is a smoke run of a few seconds, not a measurement."""

    quick: bool = False

    def pick(self, full: int, quick: int) -> int:
        return quick if self.quick else full


class Skipped(Exception):
    """A section (or one of its rows) cannot run here: the reason is shown instead."""


@attrs.frozen
class Table:
    """One result table: a title, column names and rows of already formatted cells."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()

    def render(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |",
                 "| " + " | ".join("---" for _ in self.columns) + " |"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        lines += [""] + [f"- {note}" for note in self.notes] if self.notes else []
        return "\n".join(lines)


@attrs.frozen
class Verdict:
    """One of issue 16's targets, against the figure this run measured."""

    criterion: str
    url: str
    figure: str
    target: str
    met: bool

    @property
    def row(self) -> tuple[str, ...]:
        return (self.criterion, self.url, self.figure, self.target,
                "met" if self.met else "**NOT met**")


VERDICTS: list[Verdict] = []
"""What the sections of this run recorded, for the summary section (``targets``)."""


def record(criterion: str, url: str, figure: str, target: str, met: bool) -> str:
    """Note a verdict for the summary; returns the cell for the section's own table."""
    VERDICTS.append(Verdict(criterion, url, figure, target, met))
    return "met" if met else "**NOT met**"


def within(ratio: float, limit: float) -> bool:
    """Whether ``ratio`` meets ``limit`` as the tables print it (three decimals): a row
    that reads 1.030x is not called "NOT met" against 1.03x for a digit nobody sees."""
    return round(ratio, 3) <= limit + 1e-9


def ns(seconds: float) -> str:
    return f"{seconds * 1e9:,.0f}"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile by nearest rank (``nan`` for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def best_per_call(call: Callable[[], object], number: int, repeat: int) -> float:
    """Seconds per call: the fastest of ``repeat`` runs of ``number`` calls (timeit's way)."""
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number


def version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> str:
    """The machine and versions, for the header of a run."""
    packages = ", ".join(f"{name} {version(name)}" for name in (
        "unified-auth", "requests", "urllib3", "pluggy", "Authlib", "requests-auth",
        "requests-oauthlib", "httpx", "httpx-auth", "aiohttp", "trustme"))
    load = (", load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())
            if hasattr(os, "getloadavg") else "")
    return (f"{platform.platform()}, {os.cpu_count()} CPUs, {platform.processor() or '?'}"
            f"{load}; Python {sys.version.split()[0]}; {packages}")
