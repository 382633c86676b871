"""Static chart images for the PDF, through kaleido 1.x and an already-installed Chromium.

Never downloads a browser (kaleido's `get_chrome` helpers are not called): without a local
Chromium the PDF keeps every table and says, in place of each chart, why it has none. One
browser session renders all charts, because starting Chromium costs seconds and charts are
about 0.3 s each after that.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from report.charts import STATIC_HEIGHT, STATIC_WIDTH

CANDIDATES = (
    "/usr/bin/chromium",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)
TIMEOUT_S = 90
# weasyprint lays out every SVG element: a chart with hundreds of bars (the monthly cost
# breakdown) takes seconds as SVG, so charts bigger than this go into the PDF as 2x PNG.
MAX_SVG_BYTES = 120_000


def find_browser() -> str | None:
    """`BROWSER_PATH` (the variable choreographer reads) when it names a file, else the first
    Chromium on this machine."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if Path(env).is_file() else None
    for c in CANDIDATES:
        found = c if Path(c).is_file() else shutil.which(c)
        if found:
            return found
    return None


def render_static(figures: dict) -> tuple[dict[str, tuple[str, bytes]], str | None]:
    """id -> (mime type, image bytes) for every figure, or ({}, reason) when charts cannot be
    drawn. SVG (sharp, text searchable) unless it is too heavy for weasyprint, then PNG."""
    browser = find_browser()
    if browser is None:
        where = os.environ.get("BROWSER_PATH")
        why = (
            f"BROWSER_PATH={where} is not a file"
            if where
            else "no Chromium found (install Debian's chromium, or set BROWSER_PATH)"
        )
        return {}, f"Charts are not included in this PDF: {why}. The tables carry every number."
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return {}, (
            "Charts are not included in this PDF: kaleido is not installed "
            "(pip install 'ftrag[pdf]'). The tables carry every number."
        )
    import asyncio

    async def _all() -> dict[str, tuple[str, bytes]]:
        from kaleido import Kaleido

        out = {}
        # mathjax=False: the default points at a CDN; no chart here uses LaTeX.
        async with Kaleido(n=1, timeout=TIMEOUT_S, mathjax=False, path=browser) as k:
            for key, fig in figures.items():
                size = dict(width=STATIC_WIDTH, height=STATIC_HEIGHT)
                img = await k.calc_fig(fig, opts=dict(format="svg", **size))
                out[key] = ("image/svg+xml", img)
                if len(img) > MAX_SVG_BYTES:
                    png = await k.calc_fig(fig, opts=dict(format="png", scale=2, **size))
                    out[key] = ("image/png", png)
        return out

    try:
        os.environ.setdefault("BROWSER_PATH", browser)
        return asyncio.run(_all()), None
    except Exception as e:  # noqa: BLE001 - any browser failure degrades to a note
        reason = " ".join(str(e).split())[:200] or type(e).__name__
        return {}, (
            f"Charts are not included in this PDF: the browser at {browser} could not "
            f"render them ({reason}). The tables carry every number."
        )
