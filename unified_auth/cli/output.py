"""Rendering for people (rich, on a terminal or captured by CI) and for machines (JSON).

Consoles are made per call, on the streams of the moment, so click's test runner (which
swaps ``sys.stdout``/``sys.stderr``) sees everything. Off a terminal the output is plain
ASCII: no colours, ``+--+`` tables.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "add_row",
    "error",
    "expiry",
    "print_json",
    "stderr_console",
    "stdout_console",
    "table",
]


def stdout_console() -> Console:
    """A console on the current ``sys.stdout``."""
    return Console(file=sys.stdout, highlight=False)


def stderr_console() -> Console:
    """A console on the current ``sys.stderr``."""
    return Console(file=sys.stderr, highlight=False)


def table(console: Console, *columns: str, title: str | None = None,
          numeric: int = 0) -> Table:
    """A table in the house style: rounded on a terminal, ASCII elsewhere.

    Long cells wrap rather than end in an ellipsis; the last ``numeric`` columns are
    right-aligned.
    """
    grid = Table(title=title, box=box.ROUNDED if console.is_terminal else box.ASCII2,
                 title_justify="left", header_style="bold")
    for index, header in enumerate(columns):
        right = index >= len(columns) - numeric
        grid.add_column(header, overflow="fold", justify="right" if right else "left")
    return grid


def add_row(grid: Table, *cells: str, style: str | None = None) -> None:
    """Add a row of plain text: brackets in a message or a path are not rich markup."""
    grid.add_row(*(Text(cell) for cell in cells), style=style)


def print_json(document: Any) -> None:
    """``document`` as indented JSON on stdout (dates in ISO 8601)."""
    click.echo(json.dumps(document, indent=2, default=_json_default))


def error(message: str) -> None:
    """``error: message`` on stderr, the message taken literally (no markup)."""
    stderr_console().print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


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
