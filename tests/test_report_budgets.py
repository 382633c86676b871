"""The report says what the app says (issue 19): the budgets check first, the verdict that
follows from it, and the horizon summary whose totals lie inside their bands."""

from __future__ import annotations

import re

import pytest
from conftest import VALID_PROFILE

from pipeline.decide import build_decision
from report import render_html, render_markdown

FIXED = dict(created_at="2026-01-15T09:30:00+00:00", versions={"ftrag": "0.1.0"}, draws=500)


@pytest.fixture(scope="module")
def reports():
    """Markdown and HTML of the first-visit profile at three latency budgets."""
    out = {}
    for ms in (1, 7000, 8000):
        d = build_decision({**VALID_PROFILE, "latency_budget_ms": ms}, **FIXED)
        out[ms] = (render_markdown(d), render_html(d))
    return out


def test_an_unmeetable_budget_is_the_first_thing_the_report_says(reports):
    md, html = reports[1]
    warning = "No strategy meets the 1 ms p95 latency budget"
    assert md.index("> **Check the budgets first.**") < md.index("**At a glance**")
    rec = md[md.index("## Recommendation") :]
    assert rec.index(warning) < rec.index("**Recommended strategy: RAG**")
    assert "Recommended: RAG (confidence" in md and "although it does not meet the budgets" in md
    cover = html[html.index('<header class="cover">') : html.index("</header>")]
    assert cover.index('class="callout budgets"') < cover.index('class="verdict')
    assert warning in cover


def test_a_budget_only_a_ruled_out_strategy_meets_is_flagged_not_followed(reports):
    """At 7,000 ms only fine-tuning fits, but the advisor gives it 0% for this use case
    (weekly-changing policies): the verdict stays RAG and the report says why."""
    md, html = reports[7000]
    assert "**Recommended strategy: RAG**" in md
    assert "RAG, the best fit for the use case, takes 7,450 ms p95 against the 7,000 ms" in md
    assert "Fine-tuning, scores only 0% for this use case, so it is not recommended" in md
    assert '<span class="verdict-strategy">RAG</span>' in html


def test_a_met_budget_adds_nothing(reports):
    md, html = reports[8000]
    assert "Check the budgets first" not in md and "callout budgets" not in html
    assert "**Recommended strategy: RAG** (confidence" in md


def test_summary_totals_lie_inside_their_bands(reports):
    md, _ = reports[8000]
    table = md[md.index("| Strategy | Total, 36 mo (P50) | P10 - P90 total |") :]
    rows = [line for line in table.splitlines()[2:5]]
    money = re.compile(r"\$([\d,]+)")
    for row in rows:
        total, lo, hi = (float(m.replace(",", "")) for m in money.findall(row)[:3])
        assert lo <= total <= hi, row
    assert "Within 8,000 ms" in table.splitlines()[0]
