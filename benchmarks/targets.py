"""Issue 16's per-request targets, each against the figure this run measured.

The sections before this one record a verdict for each of unified-auth's rows that has a
target (:func:`benchmarks._report.record`); this section lists them, the ones not met
first. Run alone (``--only targets``) it has nothing to show.
"""

from __future__ import annotations

from benchmarks._report import VERDICTS, Options, Skipped, Table

TITLE = "targets of issue 16"


def run(options: Options) -> list[Table]:
    if not VERDICTS:
        raise Skipped("no section with targets ran")
    ordered = sorted(VERDICTS, key=lambda verdict: verdict.met)
    missed = sum(1 for verdict in VERDICTS if not verdict.met)
    notes = [f"{missed} of {len(VERDICTS)} not met"]
    if options.quick:
        notes.append("quick run: too short to judge anything")
    return [Table(TITLE, ("criterion", "URL", "this run", "target", "verdict"),
                  tuple(verdict.row for verdict in ordered), tuple(notes))]
