"""Markdown, plain text and CSV -> Markdown: decoded (UTF-8, else the detected encoding)."""

from __future__ import annotations

import codecs
import csv
import io

from core.errors import CorpusError
from prototype.ingest_tables import table_lines

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip


def decode_text(label: str, data: bytes) -> str:
    """UTF-8 (a BOM tolerated), UTF-16/32 with a BOM, else charset-normalizer's best guess
    (Windows-1252 exports are common); CorpusError for binary data."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec).replace("\r\n", "\n")
            except UnicodeDecodeError:
                break
    if b"\x00" in data:
        raise CorpusError(f"{label}: binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise CorpusError(f"{label}: not text in any encoding found (binary file?)") from None
        text = str(best)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(label: str, data: bytes) -> str:
    """Plain text and Markdown are already the corpus format: decoded, kept as they are."""
    return decode_text(label, data)


def read_csv(label: str, data: bytes) -> str:
    """One line per row, "column: value; ...", the header naming the columns."""
    text = decode_text(label, data)
    try:
        dialect = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel  # one column, or a sample the sniffer cannot read: plain commas
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as e:
        raise CorpusError(f"{label}: not a readable CSV ({e})") from None
    if sum(1 for r in rows if any(c.strip() for c in r)) < 2:
        raise CorpusError(f"{label}: CSV has no data rows (a header row, then one row a line)")
    lines = table_lines(rows)
    return "\n".join(lines) + "\n"
