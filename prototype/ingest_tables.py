"""Tables as text: one line per row, "header: value; header: value.", the way CSV rows read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_SPACE = re.compile(r"\s+")


def clean_cell(value: object) -> str:
    """A cell's text on one line (cells may hold line breaks), or "" for an empty cell."""
    return _SPACE.sub(" ", "" if value is None else str(value)).strip()


def _sentence(text: str) -> str:
    """End a row with a full stop, so the chunker's sentence splitter keeps rows apart."""
    return text if text.endswith((".", "!", "?")) else f"{text}."


def table_lines(rows: Iterable[Sequence[object]]) -> list[str]:
    """Rows -> lines; the first row names the columns ("column 3" where a header is blank).

    Extractors repeat a cell merged across columns once per column; where the header is
    merged the same way, the repeated "header: value" is dropped.
    A one-column table, or a table of one row, reads as plain lines.
    """
    grid = [[clean_cell(c) for c in row] for row in rows]
    grid = [row for row in grid if any(row)]
    if not grid:
        return []
    if len(grid) == 1 or max(len(r) for r in grid) == 1:
        return [_sentence("; ".join(c for c in row if c)) for row in grid]
    header, out = grid[0], []
    for row in grid[1:]:
        cells: list[str] = []
        last: tuple[str, str] | None = None
        for i, value in enumerate(row):
            name = header[i] if i < len(header) and header[i] else f"column {i + 1}"
            if not value or (name, value) == last:
                continue
            last = (name, value)
            cells.append(f"{name}: {value}")
        if cells:
            out.append(_sentence("; ".join(cells)))
    return out
