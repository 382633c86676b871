"""The app side of issue 17: the Cost page names old prices, says which fine-tuning path it
priced, shows people beside infrastructure and lets the people rates be overridden; the
Report page offers the ADR download."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny_corpus"


@pytest.fixture
def app(tmp_store, monkeypatch) -> AppTest:
    monkeypatch.setenv("FTRAG_CORPORA_DIRS", str(TINY.parent))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
    at.run()
    assert not at.exception
    return at


def _goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"ui/pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def test_cost_page_warns_names_the_path_and_shows_people(app):
    at = _goto(app, "cost")
    warnings = [w.value.replace("\\", "") for w in at.warning]
    if date.today() > date(2026, 7, 15):  # the throughput estimates are from 2026-01-15
        assert any("models.llama-3.1-8b-selfhosted (as of 2026-01-15" in w for w in warnings)
    assert not any("embeddings.text-embedding-3-small" in w for w in warnings)
    captions = " ".join(c.value for c in at.caption)
    assert "priced as LoRA on" in captions
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("People and data" in s and "labelling" in s for s in specs)


def test_people_rate_override_reaches_the_totals(app):
    at = _goto(app, "cost")
    [rate] = [
        n
        for n in at.number_input
        if n.key and n.key.endswith("prices.people.engineering.hourly_rate_usd")
    ]
    assert rate.value == 90.0  # prices/people.yaml, range 50-150
    before = [c.proto.spec for c in at.get("plotly_chart")]
    rate.set_value(140.0).run()
    assert not at.exception, at.exception
    assert any("prices.people.engineering.hourly_rate_usd" in c.value for c in at.caption)
    assert [c.proto.spec for c in at.get("plotly_chart")] != before  # the figures recomputed


def test_report_page_offers_the_adr(app):
    at = _goto(app, "report")
    buttons = {d.key: d for d in at.get("download_button")}
    assert "w.report.dl_adr" in buttons
    assert buttons["w.report.dl_adr"].proto.label == "Download ADR"


def test_review_share_slider_costs_answers_checked_at_random(app):
    at = _goto(app, "cost")
    [share] = [s for s in at.slider if s.key and s.key.endswith(".review_share")]
    assert share.value == 0.0  # off by default
    share.set_value(0.2).run()
    assert not at.exception, at.exception
    assert at.session_state["ftrag.sim"]["overrides"] == {"review_share": 0.2}
    assert any("Picked at random" in c.value for c in at.caption)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("answer review" in s for s in specs)
