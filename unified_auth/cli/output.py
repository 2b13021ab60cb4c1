"""Rendering for people (rich, on a terminal or captured by CI) and for machines (JSON).

Consoles are made per call, on the streams of the moment, so click's test runner (which
swaps ``sys.stdout``/``sys.stderr``) sees everything. Off a terminal the output is plain
ASCII: no colours, ``+--+`` tables.
"""

from __future__ import annotations

import json
import math
import re
import sys
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import click
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from unified_auth.cli.logs import error

__all__ = [
    "add_row",
    "error",
    "expiry",
    "print_json",
    "stderr_console",
    "stdout_console",
    "table",
    "wrap",
]

ELLIPSIS = "..."
_BREAK_AFTER = re.compile(r"(?<=[\s/\\])")
"""Where a line may break: after a space or a path separator, never inside a name."""

_LAYOUTS: weakref.WeakKeyDictionary[Table, _Layout] = weakref.WeakKeyDictionary()
"""Each house table's layout: :func:`add_row` keeps its columns fitted to the console."""


def stdout_console() -> Console:
    """A console on the current ``sys.stdout``."""
    return Console(file=sys.stdout, highlight=False)


def stderr_console() -> Console:
    """A console on the current ``sys.stderr``."""
    return Console(file=sys.stderr, highlight=False)


def table(console: Console, *columns: str, title: str | None = None,
          numeric: int = 0) -> Table:
    """A table in the house style: rounded on a terminal, ASCII elsewhere.

    Long cells wrap at spaces and path separators (see :func:`wrap`); the last ``numeric``
    columns are right-aligned. A table too wide for ``console`` gives each column its
    minimum (its longest name) first and shares the rest out: rich alone would shrink the
    widest columns below their minimum, cutting names while a neighbour has room to spare.
    Rows go in through :func:`add_row`, which keeps that fit.
    """
    grid = Table(title=title, box=box.ROUNDED if console.is_terminal else box.ASCII2,
                 title_justify="left", header_style="bold")
    for index, header in enumerate(columns):
        right = index >= len(columns) - numeric
        grid.add_column(header, overflow="fold", justify="right" if right else "left")
    _LAYOUTS[grid] = _Layout(console)
    _fit(grid)
    return grid


def add_row(grid: Table, *cells: str, style: str | None = None) -> None:
    """Add a row of plain text: brackets in a message or a path are not rich markup."""
    grid.add_row(*(_Cell(cell) for cell in cells), style=style)
    _fit(grid)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells, broken after spaces or path separators.

    A name is never split: one too long for a line of its own is cut with ``...``.
    """
    width = max(width, len(ELLIPSIS) + 1)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for piece in filter(None, _BREAK_AFTER.split(paragraph)):
            if cell_len((line + piece).rstrip()) <= width:
                line += piece
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = piece.lstrip()
            if cell_len(line.rstrip()) > width:
                # Cut the name, keep its separator: the path still reads folder by folder.
                name = line.rstrip()
                separator = name[-1] if name[-1] in "/\\" else ""
                lines.append(_truncate(name.removesuffix(separator), width - len(separator))
                             + separator)
                line = ""
        if line.strip() or not lines:
            lines.append(line.rstrip())
    return lines


def _truncate(text: str, width: int) -> str:
    while cell_len(text) > width - len(ELLIPSIS):
        text = text[:-1]
    return text + ELLIPSIS


class _Layout:
    """The console a table is made for, and what its last fit changed on its columns."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.ratios: dict[int, int | None] = {}
        """Column index -> the caller's ``ratio``, for each column the fit gave a width."""


def _fit(grid: Table) -> None:
    """Size ``grid``'s columns for its console, through rich's public ``Column`` fields.

    Only a squeezed table (the widest cells don't fit, the longest names do) is sized here,
    as fixed widths; any other table is left to rich. Recomputed on every row, so a row that
    ends the squeeze gives the columns back to rich.
    """
    layout = _LAYOUTS.get(grid)
    if layout is None:
        return
    for index, ratio in layout.ratios.items():  # undo the last fit, measure the caller's
        grid.columns[index].width, grid.columns[index].ratio = None, ratio
    layout.ratios.clear()
    room = (grid.width or layout.console.width) - _border_width(grid)
    ranges = [_measure(layout.console, grid, index, room) for index in range(len(grid.columns))]
    minimums = [low for low, _ in ranges]
    if sum(high for _, high in ranges) <= room or sum(minimums) > room:
        return
    wanted = [high - low for low, high in ranges]
    extra = _share(room - sum(minimums), wanted)
    for index, (low, add, want) in enumerate(zip(minimums, extra, wanted, strict=True)):
        column = grid.columns[index]
        layout.ratios[index] = column.ratio
        # A fixed width is what rich gives a column as is; no ratio, or expand would reshare.
        column.width = low + min(add, want) - _padding_width(grid, index)
        column.ratio = None


def _measure(console: Console, grid: Table, index: int, room: int) -> tuple[int, int]:
    """The narrowest and widest ``grid.columns[index]`` can be, padding included."""
    column = grid.columns[index]
    padding = _padding_width(grid, index)
    options = console.options.update_width(max(room - padding, 1))
    cells = [column.header, *column.cells] if grid.show_header else list(column.cells)
    sizes = [Measurement.get(console, options, cell) for cell in cells]
    if not sizes:
        return 1, room
    low = max(size.minimum for size in sizes) + padding
    high = max(size.maximum for size in sizes) + padding
    return min(low, room), min(high, room)


def _padding_width(grid: Table, index: int) -> int:
    _, right, _, left = grid.padding
    if not grid.pad_edge:
        left = 0 if index == 0 else left
        right = 0 if index == len(grid.columns) - 1 else right
    return left + right


def _border_width(grid: Table) -> int:
    """Characters of a row that are borders: both edges, one between each two columns."""
    if not grid.box:
        return 0
    return len(grid.columns) - 1 + (2 if grid.show_edge else 0)


def _share(total: int, weights: list[int]) -> list[int]:
    """``total`` in integer parts proportional to ``weights``, summing to ``total``."""
    left, parts = sum(weights), []
    for weight in weights:
        part = math.ceil(weight * total / left) if left > 0 else total
        parts.append(part)
        left -= weight
        total -= part
    return parts


class _Cell:
    """A table cell that wraps like :func:`wrap`: rich alone would fold names mid-word."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        lines = self.text.splitlines() or [""]
        pieces = [p for line in lines for p in _BREAK_AFTER.split(line)] or [""]
        longest_piece = max(cell_len(p.rstrip()) for p in pieces)
        longest_line = max(cell_len(line) for line in lines)
        return Measurement(min(longest_piece, options.max_width),
                           min(longest_line, options.max_width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        yield Text("\n".join(wrap(self.text, options.max_width)), no_wrap=True,
                   overflow="ignore")


def print_json(document: Any) -> None:
    """``document`` as indented JSON on stdout (dates in ISO 8601)."""
    click.echo(json.dumps(document, indent=2, default=_json_default))


def expiry(expires_at: datetime | None, now: datetime | None = None) -> str:
    """When credentials expire, for people: ``2026-11-22 07:40:13 UTC (in 15 min)`` or never."""
    if expires_at is None:
        return "never"
    now = now or datetime.now(UTC)
    seconds = (expires_at - now).total_seconds()
    when = expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{when} ({_relative(seconds)})"


def _relative(seconds: float) -> str:
    span = abs(seconds)
    if span < 90:
        amount = f"{span:.0f} s"
    elif span < 90 * 60:
        amount = f"{span / 60:.0f} min"
    elif span < 48 * 3600:
        amount = f"{span / 3600:.0f} h"
    else:
        amount = f"{span / 86400:.0f} days"
    return f"in {amount}" if seconds >= 0 else f"{amount} ago"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
