"""DOCX -> Markdown with python-docx: paragraphs, headings (by style) and tables, in order."""

from __future__ import annotations

import io
import re

from core.errors import CorpusError
from prototype.ingest_limits import open_zip
from prototype.ingest_tables import table_lines

_HEADING = re.compile(r"^heading (\d)$", re.IGNORECASE)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an encrypted DOCX, or a legacy .doc, is an OLE container


def _heading_level(style_name: str) -> int:
    """1 for Title, N for "Heading N", 0 for body text."""
    if style_name.casefold() == "title":
        return 1
    m = _HEADING.match(style_name.strip())
    return min(int(m.group(1)), 6) if m else 0


def _blocks(container):
    """Markdown blocks of a body or a table cell, paragraphs and tables in document order."""
    from docx.table import Table

    for item in container.iter_inner_content():
        if isinstance(item, Table):
            rows = [[cell.text for cell in row.cells] for row in item.rows]
            lines = table_lines(rows)
            if lines:
                yield "\n".join(lines)
            continue
        text = " ".join(item.text.split())
        if not text:
            continue
        style = item.style.name if item.style is not None else ""
        level = _heading_level(style or "")
        if level:
            yield "#" * level + " " + text
        elif style.casefold().startswith("list"):
            yield f"- {text}"
        else:
            yield text


def read_docx(label: str, data: bytes) -> str:
    """The document's text as Markdown; CorpusError naming `label` for an unreadable file."""
    if data.startswith(_OLE_MAGIC):
        raise CorpusError(
            f"{label}: encrypted DOCX or legacy Word .doc (an OLE container); save it as an "
            "unprotected .docx and import that"
        )
    open_zip(label, data, "DOCX").close()  # limits before python-docx decompresses anything
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as e:
        raise CorpusError(f"{label}: not a valid DOCX (corrupt or not a Word file: {e})") from None
    return "\n\n".join(_blocks(document)) + "\n"
