"""Render one Decision to Markdown, HTML, PDF, JSON or a Markdown ADR, and write it atomically.

All four formats print the same view model (`report.context.build_context`). HTML is fully
offline: plotly.js is embedded once, each figure travels as JSON and is drawn by
`Plotly.newPlot`, and nothing in the page points outside the file. The PDF is the same HTML in
print mode, with static SVG charts from kaleido (Debian's chromium) laid out by weasyprint.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.decision import Decision
from core.errors import ReportError
from report.context import build_context
from report.table import Table

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("md", "html", "pdf", "json", "adr")
# Plotly's own modebar links out (logo -> plotly.com, "edit in Chart Studio"); switch those off
# so an offline report never shows a link that cannot work. No MathJax is ever loaded.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "showLink": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["sendDataToCloud", "select2d", "lasso2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


# --- Markdown helpers -------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|#&~])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(text: object) -> str:
    """Inline Markdown-safe text: user text cannot open a link, emphasis, HTML or a table cell.
    Newlines fold to spaces so one value stays one line (or one table cell)."""
    s = " ".join(str(text).split())
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return _MD_UNDERSCORE.sub(r"\\_", s)


def md_table(t: Table) -> str:
    head = "| " + " | ".join(md_escape(c) or " " for c in t.columns) + " |"
    sep = "|" + "|".join("---:" if a == "r" else ":---" for a in t.align) + "|"
    lines = [head, sep]
    for i, row in enumerate(t.rows):
        cells = [md_escape(c) for c in row]
        if i in t.highlight and cells and cells[0]:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(c or " " for c in cells) + " |")
    return "\n".join(lines)


def slug(text: str) -> str:
    """GitHub-style heading anchor, so the Markdown table of contents links work there too."""
    s = re.sub(r"[^\w\s-]", "", text.lower()).strip()
    return re.sub(r"\s", "-", s)


@functools.cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=lambda name: name is not None and name.endswith(".html.j2"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_table"] = md_table
    env.filters["slug"] = slug
    return env


# --- formats ----------------------------------------------------------------------------------


def render_markdown(decision: Decision) -> str:
    return _env().get_template("report.md.j2").render(**build_context(decision))


def render_adr(decision: Decision) -> str:
    """The decision as a Markdown Architecture Decision Record in the MADR layout."""
    from report.adr import adr_context

    return _env().get_template("adr.md.j2").render(**adr_context(decision))


def render_json(decision: Decision) -> str:
    return decision.to_json()


def _script_json(obj_json: str) -> str:
    """JSON text safe inside <script type="application/json">: no `</script>` or `<!--` can
    appear, because every `<`, `>` and `&` becomes a JSON unicode escape."""
    return obj_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _html(
    decision: Decision,
    mode: str,
    images: dict[str, str] | None = None,
    chart_note: str | None = None,
) -> str:
    from report.charts import build_charts

    ctx = build_context(decision)
    charts = build_charts(decision)
    plotlyjs = ""
    if mode == "interactive":
        from plotly.offline import get_plotlyjs

        plotlyjs = get_plotlyjs()
    chart_specs = {
        c.id: {
            "id": c.id,
            "title": c.title,
            "caption": c.caption,
            "json": _script_json(c.figure.to_json()) if mode == "interactive" else "",
            "image": (images or {}).get(c.id),
        }
        for c in charts
    }
    by_section: dict[str, list[dict]] = {}
    for c in charts:
        by_section.setdefault(c.section, []).append(chart_specs[c.id])
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            **ctx,
            mode=mode,
            charts=by_section,
            n_charts=len(charts),
            css=css,
            plotlyjs=plotlyjs,
            plotly_config=json.dumps(PLOTLY_CONFIG, sort_keys=True),
            chart_note=chart_note,
        )
    )


def render_html(decision: Decision) -> str:
    """Self-contained interactive HTML (about 5 MB, most of it the one plotly.js bundle)."""
    return _html(decision, "interactive")


def _url_fetcher():
    """weasyprint fetcher for inline `data:` URIs only, so a PDF build never touches the
    network or the file system on behalf of report content."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


def render_print_html(decision: Decision) -> tuple[str, str | None]:
    """The HTML the PDF is made from: static SVG charts (or a note saying why there are none)."""
    from report.charts import build_charts
    from report.static import render_static

    charts = build_charts(decision)
    images, note = render_static({c.id: c.figure for c in charts}) if charts else ({}, None)
    uris = {
        k: f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
        for k, (mime, data) in images.items()
    }
    return _html(decision, "print", uris, note), note


def render_pdf(decision: Decision) -> bytes:
    return render_pdf_with_note(decision)[0]


def render_pdf_with_note(decision: Decision) -> tuple[bytes, str | None]:
    """PDF bytes, and why charts are missing when they are (None when they are all there)."""
    try:
        from weasyprint import HTML
    except ImportError as e:  # the `pdf` extra is optional
        raise ReportError(f"PDF needs weasyprint (pip install 'ftrag[pdf]'): {e}") from None
    import logging

    html, note = render_print_html(decision)
    # weasyprint logs every unsupported CSS property of plotly's SVG at WARNING; keep stderr
    # for problems the user can act on.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    pdf = HTML(string=html, url_fetcher=_url_fetcher(), base_url=str(TEMPLATES)).write_pdf()
    return pdf, note


def render(decision: Decision, fmt: str) -> bytes:
    """One format, as the bytes a file of that format holds."""
    if fmt == "md":
        return render_markdown(decision).encode("utf-8")
    if fmt == "html":
        return render_html(decision).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(decision)
    if fmt == "json":
        return render_json(decision).encode("utf-8")
    if fmt == "adr":
        return render_adr(decision).encode("utf-8")
    raise ReportError(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}")


# --- writing ----------------------------------------------------------------------------------


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` through a temp file in the same directory and `os.replace`, so a
    reader never sees half a report and a failure leaves no file behind. Errors name `path`."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ReportError(f"{p}: is a directory; give a file name for the report")
    if not parent.is_dir():
        raise ReportError(f"{p}: cannot write report (directory {parent} does not exist)")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{p.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
        tmp = None
    except OSError as e:
        raise ReportError(f"{p}: cannot write report ({e.strerror or e})") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return p


@dataclass(frozen=True)
class Written:
    path: Path
    format: str
    size: int
    note: str | None = None  # e.g. why a PDF has no charts


def write_report(decision: Decision, fmt: str, path: str | Path) -> Written:
    """Render fully in memory first, then write atomically: nothing partial on any failure."""
    if fmt not in FORMATS:
        raise ReportError(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
    note = None
    if fmt == "pdf":
        data, note = render_pdf_with_note(decision)
    else:
        data = render(decision, fmt)
    return Written(write_atomic(path, data), fmt, len(data), note)


def format_for(path: str | Path) -> str | None:
    """The format a file name implies (`.md`, `.html`, `.pdf`, `.json`), else None."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return (
        {"markdown": "md", "htm": "html"}.get(suffix, suffix)
        if suffix in (*FORMATS, "markdown", "htm")
        else None
    )
