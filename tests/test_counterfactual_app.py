"""The Recommendation page shows what the confidence means (reliability diagram) and what would
change the answer (issue 17), through st.navigation as a user reaches it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TINY = ROOT / "tests" / "fixtures" / "tiny_corpus"


@pytest.fixture
def page(tmp_store, monkeypatch) -> AppTest:
    monkeypatch.setenv("FTRAG_CORPORA_DIRS", str(TINY.parent))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("ui/pages/recommendation.py").run()
    assert not at.exception, at.exception
    return at


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def test_recommendation_page_shows_reliability_and_counterfactuals(page):
    from advisor.recommend import recommend
    from ui.state import DEFAULT_PROFILE

    rec = recommend(DEFAULT_PROFILE)
    # the confidence shown is the calibrated one, with its meaning under it
    [conf] = [m for m in page.metric if m.label == "Confidence"]
    assert conf.value == f"{rec.confidence:.0%}" and conf.value != "100%"
    captions = [c.value.replace("\\", "") for c in page.caption]  # md() escapes markdown
    assert any(c.startswith("In source-grouped cross-validation") for c in captions)
    # the reliability diagram: CV bins against the diagonal, this confidence marked
    titles = [f["layout"]["title"]["text"] for f in _figures(page)]
    rel = next(f for f in _figures(page) if "confidence means" in f["layout"]["title"]["text"])
    assert "What the confidence means" in " ".join(titles)
    points = rel["data"][1]
    assert len(points["x"]) == sum(1 for b in rec.confidence_info.reliability if b["n"])
    # what would change the answer: one line per other strategy, the advisor's own sentences
    assert any(h.value == "What would change the answer" for h in page.subheader)
    shown = " ".join(m.value for m in page.markdown).replace("\\", "")
    for cf in rec.counterfactuals:
        assert cf.sentence in shown
