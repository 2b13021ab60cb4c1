"""``python -m benchmarks``: run every section of :data:`benchmarks.SECTIONS`, print tables."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from typing import Any

from benchmarks import SECTIONS
from benchmarks._report import Options, Skipped, Table, machine


def run_section(name: str, options: Options) -> list[Any] | str:
    """The section's tables (anything with a ``render()``), or why it was skipped."""
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"benchmarks.{name}":
            return "not written yet"
        return f"needs {exc.name}, which is not installed"
    except ImportError as exc:
        return f"cannot be imported: {exc}"
    try:
        result = list(module.run(options))
    except Skipped as exc:
        return str(exc)
    return _as_tables(getattr(module, "TITLE", name), result)


def _as_tables(title: str, result: list[Any]) -> list[Any]:
    """Tables as they are; plain rows (named tuples) gathered into one table of their own."""
    tables = [item for item in result if hasattr(item, "render")]
    rows = [item for item in result if not hasattr(item, "render")]
    if rows:
        kind = type(rows[0])
        columns = [*getattr(kind, "_fields", ()),
                   *(attr for attr, value in vars(kind).items()
                     if isinstance(value, property) and not attr.startswith("_"))]
        tables.append(Table(title, tuple(columns), tuple(
            tuple(_cell(getattr(row, column)) for column in columns) for row in rows)))
    return tables


def _cell(value: object) -> str:
    return f"{value:,.3f}" if isinstance(value, float) else str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run of a few seconds (no meaningful figures)")
    parser.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    options = Options(quick=args.quick)
    print(f"# unified-auth benchmarks{' (quick: not a measurement)' if args.quick else ''}")
    print()
    print(f"Machine: {machine()}")
    print(f"Command: python -m benchmarks {' '.join(argv or sys.argv[1:])}".rstrip())
    for name in args.only or SECTIONS:
        started = time.monotonic()
        result = run_section(name, options)
        print()
        if isinstance(result, str):
            print(f"### {name}: skipped, {result}")
            continue
        for table in result:
            print(table.render())
            print()
        print(f"({name}: {time.monotonic() - started:.1f} s)")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
