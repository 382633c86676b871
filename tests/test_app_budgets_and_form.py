"""Issue 19 through the app's own pages (AppTest): the budgets warning first on the
Recommendation page, the Cost page's summary and plain monthly table, and a Profile form
that refuses instead of coercing and saves one History row per distinct profile."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import VALID_PROFILE

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")


def _app(**profile_changes) -> AppTest:
    """The app opened from a shared link carrying the first-visit profile with `changes`."""
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in {**VALID_PROFILE, **profile_changes}.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception
    return at


def _goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"ui/pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize(
    ("latency", "first_warning", "pick", "score_label"),
    [
        (1, "No strategy meets the 1 ms p95 latency budget", "RAG", "Confidence"),
        (3000, "No strategy meets the 3,000 ms p95 latency budget", "RAG", "Confidence"),
        # only fine-tuning fits 7,000 ms, but this use case rules it out (0%): flagged, kept
        (7000, "scores only 0% for this use case", "RAG", "Confidence"),
        (8000, None, "RAG", "Confidence"),
    ],
)
def test_recommendation_page_puts_the_budgets_first(
    tmp_store, latency, first_warning, pick, score_label
):
    at = _goto(_app(latency_budget_ms=latency), "recommendation")
    budgets = [w.value for w in at.warning if "Check the budgets first" in w.value]
    if first_warning is None:
        assert not budgets
    else:
        assert at.warning[0].value == budgets[0] and first_warning in budgets[0]
    metrics = _metrics(at)
    assert metrics["Recommended strategy"] == pick and score_label in metrics
    assert (
        at.selectbox(key="w.rec.chosen").value == {"RAG": "rag", "Fine-tuning": "fine_tuning"}[pick]
    )


def test_cost_page_has_the_summary_and_a_plain_monthly_table(tmp_store):
    at = _goto(_app(monthly_budget_usd=100), "cost")
    [summary] = at.table
    frame = summary.value
    assert list(frame.index) == ["Fine-tuning", "RAG", "Hybrid (FT + RAG)"]
    assert {"Total, 36 mo (P50)", "P10 - P90 total", "Within 3,000 ms", "Within $100/month"} <= set(
        frame.columns
    )
    assert set(frame["Within 3,000 ms"]) == {"NO"}  # every strategy is over 3 s here
    [monthly] = [d for d in at.dataframe if "month" in d.value.columns]
    assert "cumulative_cost_usd_p50" in monthly.value.columns  # keys stay; headers are labels
    assert "Cumulative cost (USD), P50" in str(monthly.proto.columns)
    assert not any("ft.training" in (c.value or "") for c in at.caption)


@pytest.mark.parametrize(
    ("key", "text", "line"),
    [
        ("name", "   ", "Name: must not be blank, got '   '"),
        ("queries_per_month", "", "Queries per month: required; enter a number"),
        ("latency_budget_ms", "", "Latency budget, p95 (ms): required; enter a number"),
        ("queries_per_month", "1e15", "Queries per month: must be at most 1,000,000,000,000"),
        ("latency_budget_ms", "0", "Latency budget, p95 (ms): must be more than 0, got '0'"),
    ],
)
def test_profile_form_refuses_and_says_why(tmp_store, key, text, line):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    before = at.session_state["ftrag.profile"]
    at.text_input(key=f"w.profile.{key}").set_value(text)
    [submit] = [b for b in at.button if b.label == "Apply profile"]
    submit.click().run()
    [err] = at.error
    assert "Not applied" in err.value and line in err.value.replace("\\", "")
    assert at.session_state["ftrag.profile"] == before  # the current profile is unchanged
    assert tmp_store.list_profiles() == []  # nothing saved
    assert at.text_input(key=f"w.profile.{key}").value == text  # what was typed is kept


def test_an_example_clicked_twice_is_one_history_row(tmp_store):
    """Before, only an identical *latest* row was skipped: A, B, A saved three rows."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for stem in (
        "internal_wiki_qa",
        "brand_voice_copywriter",
        "internal_wiki_qa",
        "internal_wiki_qa",
    ):
        [ex] = [b for b in at.button if b.key == f"w.profile.example.{stem}"]
        ex.click().run()
        assert not at.exception
    rows = tmp_store.list_profiles()
    assert len(rows) == 2 and "wiki" in rows[0]["name"].lower()  # newest first
