"""The README's "Adding a strategy", done end to end with a toy strategy registered only here.

Registry entry, one rule column, one simulator cost model and one prototype row (the four
places README lists besides the case library) are enough for the recommendation, the
simulation, the prototype table, every report format and the app to show it. Nothing in ui/
or report/ is edited. Everything is unregistered afterwards.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, VALID_PROFILE

from core.registry import ROWS, STRATEGIES, RowSpec, StrategySpec

TINY = ROOT / "tests" / "fixtures" / "tiny_corpus"
FEE = 100.0  # the toy's whole bill: a fixed monthly fee
TOY_RULE = {
    "id": "toy_for_permissions",
    "when": {"field": "access_control", "op": "==", "value": True},
    "effect": {"toy": 2.0},
    "sentence": "A toy reason that fires on per-user permissions.",
    "principle": "test only",
    "citation": "this test",
}


@pytest.fixture
def toy(monkeypatch):
    import yaml

    from advisor import recommend as rec_mod
    from advisor.rules import RULES_PATH, parse_rules
    from prototype.evaluate import Answer, evaluate_strategy
    from prototype.rows import register_row, unregister_row
    from simulator.strategies import COST_MODELS, BaseAccuracy, StrategyModel

    # 1. core/registry.py
    STRATEGIES.register(StrategySpec("toy", "Toy", "a toy", "#123456", rows=("toy",), tie_rank=3))
    ROWS.register(RowSpec("toy", "Toy", "#123456", strategy="toy"))
    # 2. data/rules.yaml: one more column (here: one more rule carrying it)
    raw = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    book = parse_rules({**raw, "rules": [*raw["rules"], TOY_RULE]})
    monkeypatch.setattr(rec_mod, "load_rules", lambda *a, **k: book)
    # 3. simulator/strategies.py
    COST_MODELS["toy"] = StrategyModel(
        costs=lambda ctx: {"hosting_usd": FEE},
        base_accuracy=BaseAccuracy(0.8, 0.7, 0.9, "judgment: toy"),
    )

    # 4. prototype/<toy>.py: answers every question with the first document's id, through the
    # shared evaluation protocol (so its metrics are real, if poor)
    @register_row("toy")
    def run_toy(corpus, ctx):
        doc = next(iter(corpus.docs))  # the first document id

        def answer(questions):
            return [Answer(f'{{"answer": "?", "source": "{doc}"}}', 7, 0.002) for _ in questions]

        return evaluate_strategy("toy", corpus, answer, build_seconds=0.0, progress=ctx.progress)

    try:
        yield
    finally:
        unregister_row("toy")
        COST_MODELS.pop("toy", None)
        ROWS.unregister("toy")
        STRATEGIES.unregister("toy")


def _decision():
    from pipeline.decide import build_decision
    from prototype.corpus import load_corpus
    from prototype.runner import run_strategy

    run = {"results": [run_strategy("toy", load_corpus(TINY), device="cpu").to_dict()]}
    profile = {**VALID_PROFILE, "access_control": True}
    return build_decision(profile, months=24, draws=200, prototype=run)


def test_a_toy_strategy_reaches_every_layer(toy, tmp_path):
    from report import render_html, render_markdown

    d = _decision()
    rec = d.recommendation
    assert rec.rule_scores["toy"] == 2.0 and "toy" in rec.scores
    assert "toy_for_permissions" in {r.id for r in rec.rules}
    assert sum(rec.scores.values()) == pytest.approx(1.0, abs=1e-3)

    sim = d.simulation
    toy_rows = [r for r in sim.rows if r["strategy"] == "toy"]
    assert [r["month"] for r in toy_rows] == list(range(1, 25))
    assert toy_rows[-1]["cumulative_cost_usd"] == pytest.approx(24 * FEE)  # cloud: fee only
    assert {"toy"} < {r["strategy"] for r in sim.rows}
    assert sum(1 for b in sim.break_even if "toy" in (b.a, b.b)) == 3  # one per other strategy
    assert "toy" in sim.latency

    [res] = d.prototype.results
    assert res.strategy == "toy"
    assert res.metrics["accuracy"] == 0.0  # it answers "?" to everything
    assert 0.0 < res.metrics["source_accuracy"] < 1.0  # right only where doc 1 is the gold

    md = render_markdown(d)
    assert "| Toy |" in md  # the scores table, the cost table and the prototype table
    assert md.count("Toy") >= 4
    html = render_html(d)
    assert "#123456" in html  # its colour reaches the charts


def test_the_app_shows_the_toy_strategy(toy, tmp_store, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()  # results cached before the toy existed must not be served
    monkeypatch.setenv("FTRAG_CORPORA_DIRS", str(TINY.parent))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["w.profile.access_control"] = True
    at.run()
    at.switch_page("ui/pages/recommendation.py").run()
    assert not at.exception, at.exception
    assert "Toy" in at.selectbox(key="w.rec.chosen").options
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any('"Toy"' in s and "#123456" in s for s in specs)  # the score chart
    at.switch_page("ui/pages/cost.py").run()
    assert not at.exception, at.exception
    assert len(at.metric) == 6  # break-even for every pair of four strategies
    assert "Toy" in at.radio(key="w.cost.tornado").options
    st.cache_data.clear()
