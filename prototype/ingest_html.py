"""HTML -> Markdown: trafilatura keeps the main content (no navigation, footer, ads)."""

from __future__ import annotations

from core.errors import CorpusError
from prototype.ingest_tables import table_lines

_HEADS = {f"h{n}": n for n in range(1, 7)}


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def _blocks(el):
    """Markdown blocks from trafilatura's XML (head, p, list/item, table/row/cell, quote...)."""
    for child in el:
        tag = child.tag
        if tag == "head":
            text = _text(child)
            if text:
                yield "#" * _HEADS.get(child.get("rend", ""), 2) + " " + text
        elif tag == "list":
            items = [_text(i) for i in child.iter("item")]
            if any(items):
                yield "\n".join(f"- {i}" for i in items if i)
        elif tag == "table":
            rows = [[_text(c) for c in row.iter("cell")] for row in child.iter("row")]
            lines = table_lines(rows)
            if lines:
                yield "\n".join(lines)
        elif tag in ("lb", "graphic"):
            continue
        elif len(child) and any(c.tag in ("p", "head", "list", "table") for c in child):
            yield from _blocks(child)  # a container: its blocks, not one run-on paragraph
        else:
            text = _text(child)
            if text:
                yield text


def read_html(label: str, data: bytes) -> str:
    """The page's main content as Markdown; its <title> leads when the content has no h1."""
    import trafilatura
    from lxml import etree

    def extract(favor_recall: bool):
        return trafilatura.extract(
            data,
            output_format="xml",
            include_tables=True,
            include_comments=False,
            include_images=False,
            with_metadata=True,
            favor_recall=favor_recall,
            deduplicate=False,
        )

    xml = extract(False) or extract(True)  # precision first; recall for short or odd pages
    if not xml:
        raise CorpusError(f"{label}: no main text found in the HTML (empty, or navigation only)")
    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    blocks = list(_blocks(main if main is not None else root))
    title = " ".join((root.get("title") or "").split())
    if title and not (blocks and blocks[0].startswith("# ")):
        blocks.insert(0, f"# {title}")
    if not any(not b.startswith("#") for b in blocks):
        raise CorpusError(f"{label}: no main text found in the HTML (empty, or navigation only)")
    return "\n\n".join(blocks) + "\n"
