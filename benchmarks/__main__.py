"""``python -m benchmarks``: run every section of :data:`benchmarks.SECTIONS`, print tables."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence

from benchmarks import SECTIONS
from benchmarks._report import Options, Skipped, Table, machine


def run_section(name: str, options: Options) -> list[Table] | str:
    """The section's tables, or why it was skipped."""
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"benchmarks.{name}":
            return "not written yet"
        return f"needs {exc.name}, which is not installed"
    except ImportError as exc:
        return f"cannot be imported: {exc}"
    try:
        return list(module.run(options))
    except Skipped as exc:
        return str(exc)


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
