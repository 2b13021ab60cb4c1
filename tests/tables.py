"""Reading the CLI's ASCII tables back, for assertions that don't depend on wrapping."""

from __future__ import annotations

__all__ = ["table_rows"]


def table_rows(table: str) -> list[list[str]]:
    """The cells of an ASCII table's rows, each cell's wrapped lines joined again."""
    rows: list[list[list[str]]] = []
    for line in table.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] or not rows:
            rows.append([[c] if c else [] for c in cells])
        else:
            for parts, cell in zip(rows[-1], cells, strict=True):
                if cell:
                    parts.append(cell)
    return [["".join(p + ("" if p.endswith("/") or i == len(parts) - 1 else " ")
                     for i, p in enumerate(parts)) for parts in row] for row in rows]
