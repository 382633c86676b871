"""Benchmark: render time and size of one decision report in every format.

References, in the same process:
- HTML: plotly's own `to_html(include_plotlyjs=True)` once per chart, the obvious way to make
  a self-contained page of several figures; it embeds plotly.js once per chart, ours once.
- PDF charts: plotly's `fig.to_image()` per chart (kaleido starts a browser per call) against
  our one Chromium session for all charts.
Skips the static-chart comparison, saying so, when no Chromium is installed.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROFILE = ROOT / "tests" / "golden" / "example_profile.json"
PROTOTYPE = ROOT / "tests" / "golden" / "prototype_run.json"


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    from pipeline.decide import build_decision
    from report import render_html, render_json, render_markdown
    from report.charts import build_charts
    from report.formats import render_pdf_with_note
    from report.static import find_browser, render_static

    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"python {platform.python_version()}"
    )
    profile = json.loads(PROFILE.read_text())
    d, t = _timed(lambda: build_decision(profile, prototype=PROTOTYPE))
    print(f"build_decision (recommend + simulate 36 months, 2000 draws): {t:.2f} s")

    print(f"{'format':<6} {'seconds':>8} {'bytes':>11}")
    for name, fn in (
        ("md", lambda: render_markdown(d)),
        ("json", lambda: render_json(d)),
        ("html", lambda: render_html(d)),
    ):
        out, t = _timed(fn)
        print(f"{name:<6} {t:>8.2f} {len(out.encode()):>11,}")
        if name == "html":
            html_bytes = len(out.encode())
    (pdf, note), t = _timed(lambda: render_pdf_with_note(d))
    print(f"{'pdf':<6} {t:>8.2f} {len(pdf):>11,}" + (f"  ({note})" if note else ""))

    import plotly.io as pio

    charts = build_charts(d)
    ref = sum(
        len(pio.to_html(c.figure, include_plotlyjs=True, full_html=True).encode()) for c in charts
    )
    print(
        f"html size vs per-chart plotly.to_html ({len(charts)} charts): {html_bytes:,} vs "
        f"{ref:,} bytes, ratio {ref / html_bytes:.1f}x smaller"
    )

    if find_browser() is None:
        print("static charts: skipped (no Chromium installed)")
        return
    figs = {c.id: c.figure for c in charts}
    _, ours = _timed(lambda: render_static(figs))
    _, theirs = _timed(
        lambda: [f.to_image(format="svg", width=1000, height=460) for f in figs.values()]
    )
    print(
        f"static charts, one browser session: {ours:.2f} s; fig.to_image per chart: "
        f"{theirs:.2f} s; ratio {theirs / ours:.1f}x"
    )


if __name__ == "__main__":
    main()
