"""Render a Decision as Markdown, HTML (offline, interactive), PDF, JSON or a MADR ADR.

from pipeline.decide import build_decision
from report import write_report
write_report(build_decision(profile), "html", "decision.html")
"""

from report.formats import (
    FORMATS,
    ReportError,
    Written,
    format_for,
    render,
    render_adr,
    render_html,
    render_json,
    render_markdown,
    render_pdf,
    write_atomic,
    write_report,
)

__all__ = [
    "FORMATS",
    "ReportError",
    "Written",
    "format_for",
    "render",
    "render_adr",
    "render_html",
    "render_json",
    "render_markdown",
    "render_pdf",
    "write_atomic",
    "write_report",
]
