"""PDF -> Markdown: the text layer by PDFium, ruled tables by pdfplumber, headings by font size."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass

from core.errors import CorpusError
from prototype.ingest_limits import MAX_PDF_PAGES
from prototype.ingest_tables import table_lines

# A line is a heading when its font is at least this much larger than the body font and it
# is short: Word's Heading 2 is 13 pt over 11 pt body (1.18x), LaTeX's subsection 12 pt over
# 10 pt (1.2x), reportlab's Heading3 12 pt over 10 pt; bold body text stays at 1.0x.
HEADING_RATIO = 1.15
HEADING_MAX_WORDS = 15
MAX_LEVEL = 3  # deeper levels add nothing: the chunker keeps one section heading per chunk
# Running headers and footers sit in the page margins: Word and LaTeX put them within about
# 0.5 inch of the edge, body text starts 1 inch in (72 pt of an 842 pt A4 page is 8.5 %).
EDGE = 0.07
RUNNING_SHARE = 0.6  # the same margin line (digits aside) on this share of pages, 3 at least
_PAGE_NUMBER = re.compile(r"^\W*(page\s*)?\d+(\s*(/|of)\s*\d+)?\W*$", re.IGNORECASE)
_PDFIUM_WRONG_PASSWORD = 4  # FPDF_ERR_PASSWORD


@dataclass
class _Line:
    text: str
    size: float  # the line's most common font size in points (0: unknown)
    page: int
    margin: bool = False  # within EDGE of the top or bottom of the page


@dataclass
class _Rows:
    lines: list[str]  # a table, one line per row
    page: int


def _mode(sizes) -> float:
    counts = Counter(round(s, 1) for s in sizes if s > 1.5)  # PDFium's generated chars are 1 pt
    return counts.most_common(1)[0][0] if counts else 0.0


def _pdfium_lines(page, number: int) -> list[_Line]:
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        n = textpage.count_chars()
        sized = len(text) == n  # each char of the text is one char index: sizes line up
        height = page.get_height()
        out = []
        for m in re.finditer(r"[^\r\n]+", text):
            line = m.group().strip()
            if not line:
                continue
            sizes, margin = [], False
            if sized:
                chars = range(m.start(), m.end())
                sizes = [pdfium_c.FPDFText_GetFontSize(textpage.raw, i) for i in chars]
                first = m.start() + len(m.group()) - len(m.group().lstrip())
                _, bottom, _, top = textpage.get_charbox(first)
                margin = top > height * (1 - EDGE) or bottom < height * EDGE
            out.append(_Line(line, _mode(sizes), number, margin))
        return out
    finally:
        textpage.close()


def _has_rules(page) -> bool:
    """Whether the page draws any line or box: a ruled table needs them."""
    import pypdfium2.raw as pdfium_c

    objs = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2)
    return next(iter(objs), None) is not None


def _plumber_items(plumber_page, number: int) -> list[_Line | _Rows] | None:
    """Text lines and ruled tables in reading order, or None when the page holds no table."""
    tables = plumber_page.find_tables()
    if not tables:
        return None
    boxes = [t.bbox for t in tables]

    def outside(obj) -> bool:
        if obj.get("object_type") != "char":
            return True
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    rest = plumber_page.filter(outside)
    placed: list[tuple[float, _Line | _Rows]] = []
    height = plumber_page.height
    for ln in rest.extract_text_lines(return_chars=True):
        if ln["text"].strip():
            size = _mode(c["size"] for c in ln["chars"])
            margin = ln["top"] < height * EDGE or ln["bottom"] > height * (1 - EDGE)
            placed.append((ln["top"], _Line(ln["text"].strip(), size, number, margin)))
    for t in tables:
        placed.append((t.bbox[1], _Rows(table_lines(t.extract()), number)))
    return [item for _, item in sorted(placed, key=lambda p: p[0])]


def _drop_running_lines(items: list[_Line | _Rows], pages: int) -> list[_Line | _Rows]:
    """Page numbers, and header or footer lines repeated in the margins of most pages (digits
    aside: "Handbook - page 3")."""
    key = lambda ln: re.sub(r"\d+", "#", ln.text.casefold())  # noqa: E731
    margins = [it for it in items if isinstance(it, _Line) and it.margin]
    on_pages = Counter(k for k, _ in {(key(ln), ln.page) for ln in margins})
    least = max(3, RUNNING_SHARE * pages)
    drop = {id(ln) for ln in margins if on_pages[key(ln)] >= least or _PAGE_NUMBER.match(ln.text)}
    return [it for it in items if id(it) not in drop]


def _markdown(items: list[_Line | _Rows]) -> str:
    sizes: Counter = Counter()
    for it in items:
        if isinstance(it, _Line) and it.size:
            sizes[it.size] += len(it.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0

    def is_heading(ln: _Line) -> bool:
        words = ln.text.split()
        return (
            bool(body)
            and ln.size >= body * HEADING_RATIO
            and len(words) <= HEADING_MAX_WORDS
            and any(ch.isalpha() for ch in ln.text)
        )

    levels = sorted(
        {ln.size for ln in items if isinstance(ln, _Line) and is_heading(ln)}, reverse=True
    )
    blocks: list[str] = []
    para: list[str] = []
    last_page = None

    def flush():
        if para:
            blocks.append(" ".join(para))
            para.clear()

    for it in items:
        if it.page != last_page:
            flush()
            last_page = it.page
        if isinstance(it, _Rows):
            flush()
            if it.lines:
                blocks.append("\n".join(it.lines))
        elif is_heading(it):
            flush()
            blocks.append("#" * min(levels.index(it.size) + 1, MAX_LEVEL) + " " + it.text)
        elif (
            para and para[-1].endswith("-") and para[-1][-2:-1].isalpha() and it.text[:1].islower()
        ):
            para[-1] = para[-1][:-1] + it.text  # a word hyphenated across lines
        else:
            para.append(it.text)
    flush()
    return "\n\n".join(blocks) + "\n" if blocks else ""


def read_pdf(label: str, data: bytes) -> str:
    """The PDF's text layer as Markdown; CorpusError naming `label` when there is none.

    PDFium (pypdfium2) reads a page's text and each character's font size in about 2 ms;
    pdfplumber (pdfminer) takes ~45 ms a page but finds ruled tables cell by cell, so it reads
    only the pages that draw lines or boxes, and only where it finds a table does its text
    replace PDFium's.
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if getattr(e, "err_code", None) == _PDFIUM_WRONG_PASSWORD:
            raise CorpusError(
                f"{label}: encrypted PDF (a password is needed to open it); save an unprotected "
                "copy and import that"
            ) from None
        raise CorpusError(f"{label}: not a readable PDF (corrupt or truncated: {e})") from None
    plumber = None
    try:
        n = len(pdf)
        if n > MAX_PDF_PAGES:
            raise CorpusError(f"{label}: {n:,} pages, the limit is {MAX_PDF_PAGES:,}")
        items: list[_Line | _Rows] = []
        for number in range(n):
            page = pdf[number]
            try:
                found = None
                if _has_rules(page):
                    if plumber is None:
                        import pdfplumber

                        plumber = pdfplumber.open(io.BytesIO(data))
                    found = _plumber_items(plumber.pages[number], number)
                    plumber.pages[number].close()
                items += found if found is not None else _pdfium_lines(page, number)
            finally:
                page.close()
    finally:
        if plumber is not None:
            plumber.close()
        pdf.close()
    if not any(ch.isalnum() for it in items if isinstance(it, _Line) for ch in it.text) and not any(
        isinstance(it, _Rows) and it.lines for it in items
    ):
        raise CorpusError(
            f"{label}: no text layer in {n} page(s) (a scanned PDF?); OCR is not supported, "
            "so run OCR or export the text first"
        )
    return _markdown(_drop_running_lines(items, n))
