"""Markdown tables and bullet lists as sentences, the way ingested tables already read.

A Markdown table joined into one paragraph is one "sentence" of pipes to the sentence
splitter: every row lands in one reading unit, the embedder sees the whole table at once and
an answer span can run across cells ("| Minor surgery | Tuesday afternoon |"). Read through
`ingest_tables.table_lines` instead, each row becomes one sentence that names its columns
("Clinic: Minor surgery; Day: Tuesday afternoon; Room: Room 6."), so a row is retrieved,
shown and read on its own, and a span stops at a cell's ";". A bullet item without a full
stop gets one, so bullets stay separate sentences instead of running together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from prototype.ingest_tables import table_lines

_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_BULLET = re.compile(r"^(?:[-*•]|\d{1,2}[.)])\s+")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def block_sentences(lines: Sequence[str]) -> list[str]:
    """The non-heading lines of one Markdown block as text lines: a table (header row,
    separator row, rows) becomes one sentence per row; a bullet item loses its marker and
    ends with a full stop; any other line is kept as it is."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("|") and i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1]):
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            out += table_lines([_cells(row) for k, row in enumerate(lines[i:j]) if k != 1])
            i = j
            continue
        m = _BULLET.match(ln)
        if m:
            item = ln[m.end() :].strip()
            out.append(item if item.endswith((".", "!", "?", ":")) else f"{item}.")
        else:
            out.append(ln)
        i += 1
    return out
