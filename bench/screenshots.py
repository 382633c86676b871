"""Full-page screenshots of the Recommendation, Cost and Prototype pages of a running app, for
before/after comparisons in docs/screenshots/ (issue 19's closing note).

    python bench/screenshots.py URL OUTDIR PREFIX

Shoots Cost & freshness on the first-visit profile (printing where each central line lies
against its P10-P90 band), loads the example profile `internal_wiki_qa`, then shoots
Recommendation, Cost & freshness and Prototype (demo corpus `aurora_handbook`, no model run),
and Recommendation again with a 1 ms latency budget. Works against older trees of the app
too: it finds controls by the labels both versions share. Uses Debian's chromium (never
`playwright install`).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from PIL import Image

# The browser tests' helpers: Debian's chromium and its flags, the full-page shot.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from e2e_app import ARGS, CHROMIUM, full_page_shot  # noqa: E402

WIDTH = 1400
MAX_BYTES = 1_500_000  # larger shots are quantised to a 256-colour palette
SLOW_MS = 180_000  # a corpus index build on a shared CPU core can take a while


def idle(page, timeout_ms: int = SLOW_MS) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_timeout(400)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )


def goto(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    idle(page)


def shot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main container, so the viewport is
    stretched to the content's height first; then the PNG is kept under MAX_BYTES."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    full_page_shot(page, path)
    if path.stat().st_size > MAX_BYTES:
        img = Image.open(path).convert("RGB")
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path} {path.stat().st_size / 1e6:.2f} MB", flush=True)


def band_check(page) -> None:
    """Print, per strategy on the cumulative-cost chart, the months where the central line
    lies outside its own P10-P90 band (each band is filled to the trace just before it)."""
    traces = page.locator(".js-plotly-plot").first.evaluate(
        "el => el._fullData.map(t => ({name: t.name, y: t.y ? Array.from(t.y) : []}))"
    )
    by_name = {t["name"]: t["y"] for t in traces}
    for i, t in enumerate(traces):
        if not str(t["name"]).endswith(" P10-P90"):
            continue
        name = t["name"].removesuffix(" P10-P90")
        a, b, mid = traces[i - 1]["y"], t["y"], by_name[name]
        out = [
            m + 1
            for m, (x, y, c) in enumerate(zip(a, b, mid, strict=True))
            if not min(x, y) <= c <= max(x, y)
        ]
        print(
            f"  {name}: month {len(mid)} central ${mid[-1]:,.0f}, band "
            f"${min(a[-1], b[-1]):,.0f}-${max(a[-1], b[-1]):,.0f}; "
            f"months outside the band: {out or 'none'}",
            flush=True,
        )


def load_example(page, stem: str) -> None:
    label = stem.replace("_", " ").capitalize()  # both trees label it name.capitalize()
    page.get_by_role("button", name=re.compile(f"^{re.escape(label)}$", re.I)).click()
    page.get_by_text("Loaded example").first.wait_for()
    idle(page)


def pick_corpus(page, corpus: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Demo corpus").first
    box.wait_for(timeout=SLOW_MS)
    if corpus not in box.inner_text():
        box.click()
        page.get_by_role("option", name=corpus, exact=True).click()
    idle(page)


def set_latency(page, ms: str) -> bool:
    """Apply a latency budget on the Profile page; False when the app refused it."""
    goto(page, "Profile")
    field = page.get_by_label(re.compile(r"^Latency budget"), exact=False).first
    field.fill(ms)
    field.press("Enter")
    idle(page)
    refused = page.locator('[data-testid="stAlert"]').filter(has_text="Not applied")
    return refused.count() == 0


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("outdir", type=Path)
    ap.add_argument("prefix")
    ap.add_argument("--example", default="internal_wiki_qa")
    ap.add_argument("--corpus", default="aurora_handbook")
    args = ap.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    out = args.outdir
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(args.url)
        page.get_by_role("heading", name="Use-case profile").wait_for()
        idle(page)

        goto(page, "Cost & freshness")  # the first-visit profile, before any example
        page.locator(".js-plotly-plot").first.wait_for()
        idle(page)
        shot(page, out / f"{args.prefix}_cost_first_visit.png")
        band_check(page)

        goto(page, "Profile")
        load_example(page, args.example)

        goto(page, "Recommendation")
        page.locator('[data-testid="stMetric"]').first.wait_for()
        shot(page, out / f"{args.prefix}_recommendation.png")

        goto(page, "Cost & freshness")
        page.locator(".js-plotly-plot").first.wait_for()
        idle(page)
        shot(page, out / f"{args.prefix}_cost.png")
        band_check(page)

        goto(page, "Prototype")
        pick_corpus(page, args.corpus)
        shot(page, out / f"{args.prefix}_prototype.png")

        if set_latency(page, "1"):
            goto(page, "Recommendation")
            page.locator('[data-testid="stMetric"]').first.wait_for()
            shot(page, out / f"{args.prefix}_recommendation_1ms.png")
        else:
            print("the app refused a 1 ms latency budget; no 1 ms shot", flush=True)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
