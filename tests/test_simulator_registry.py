"""Adding a strategy is a local change: register it and its cost model, and every part of the
simulator (rows, bands, break-even, latency, tornado, `--set`, calibration) picks it up."""

from __future__ import annotations

import numpy as np
import pytest
from test_simulator_profiles import BOOK, make_profile

from core.errors import ConfigError
from core.registry import STRATEGIES, StrategySpec
from simulator import derive_assumptions, simulate
from simulator.calibration import parse_calibration
from simulator.runner import run
from simulator.simulate import break_even
from simulator.strategies import COST_MODELS, BaseAccuracy, StrategyModel

FEE = 100.0  # USD a month, whatever the traffic
REAL = ("fine_tuning", "rag", "hybrid")


def band_columns(rows):
    return [c for c in rows.columns if c.endswith(("_p10", "_p50", "_p90"))]


@pytest.fixture(scope="module")
def before():
    """The three real strategies with nothing else registered (computed before `toy`)."""
    return run(make_profile(), months=6, draws=200, seed=1)


@pytest.fixture
def toy():
    # The README's "adding a strategy", as it is shown there.
    STRATEGIES.register(StrategySpec("toy", "Toy", "a toy", "#000000"))
    COST_MODELS["toy"] = StrategyModel(
        costs=lambda ctx: {"hosting_usd": FEE},  # a fixed monthly fee; as fresh as RAG
        base_accuracy=BaseAccuracy(0.8, 0.7, 0.9, "judgment: toy"),
    )
    yield "toy"
    STRATEGIES.unregister("toy")
    COST_MODELS.pop("toy", None)


def test_toy_strategy_is_simulated_everywhere(before, toy):
    r = run(make_profile(), months=6, draws=200, seed=1)
    rows = r.rows.set_index(["strategy", "month"])
    t, rag = rows.loc["toy"], rows.loc["rag"]
    # Cloud API (per-token billing): no reserved GPUs, so hosting is the fee alone.
    # Cumulative cost = months x fee: 100, 200, ..., 600.
    assert t.monthly_cost_usd.tolist() == pytest.approx([FEE] * 6)
    assert t.cumulative_cost_usd.tolist() == pytest.approx(FEE * np.arange(1, 7))
    assert t.hosting_usd.tolist() == pytest.approx([FEE] * 6)
    assert (t.training_usd == 0).all() and (t.inference_input_usd == 0).all()
    # Default freshness: as fresh as the index, like RAG; accuracy 0.8 x fresh share.
    assert np.array_equal(t.stale_fraction, rag.stale_fraction)
    assert t.expected_accuracy.tolist() == pytest.approx(0.8 * (1 - t.stale_fraction))
    # Nothing drawn moves a fixed fee: its cost band is the fee line itself.
    assert t.cumulative_cost_usd_p10.tolist() == pytest.approx(FEE * np.arange(1, 7))
    assert t.cumulative_cost_usd_p90.tolist() == pytest.approx(FEE * np.arange(1, 7))

    assert r.assumptions.base_accuracy_toy == 0.8
    assert r.assumptions.ranges["base_accuracy_toy"] == (0.7, 0.9)
    assert r.assumptions.to_dict()["values"]["base_accuracy_toy"] == 0.8
    assert {b["pair"] for b in r.break_even} == {
        "fine_tuning_vs_rag",
        "fine_tuning_vs_hybrid",
        "fine_tuning_vs_toy",
        "rag_vs_hybrid",
        "rag_vs_toy",
        "hybrid_vs_toy",
    }
    # Default latency path: retrieval, with RAG's prompt.
    assert r.latency["toy"]["p50_ms"] == pytest.approx(r.latency["rag"]["p50_ms"])
    assert "search_ms" in r.latency["toy"]["components_ms"]
    assert {x["strategy"] for x in r.sensitivity} == {*REAL, "toy"}
    assert r.to_dict()["bands"]["toy"]["cumulative_cost_usd_p50"] == pytest.approx(
        list(FEE * np.arange(1, 7))
    )

    # The real strategies' numbers are unchanged. (Their bands are not compared: the toy's
    # base_accuracy_toy joins the sorted draw order, so the same seed gives another sample.
    # `r.break_even` reads the P50 line, a band, so it is compared on the central-input run.)
    real = r.rows[r.rows.strategy.isin(REAL)].reset_index(drop=True)
    cols = [c for c in before.rows.columns if c not in band_columns(before.rows)]
    assert real[cols].equals(before.rows[cols])
    assert break_even(real) == break_even(before.rows)
    assert [b["pair"] for b in r.break_even if "toy" not in b["pair"]] == [
        b["pair"] for b in before.break_even
    ]
    assert {s: r.latency[s] for s in REAL} == before.latency
    assert [
        x for x in r.sensitivity if x["strategy"] != "toy" and x["parameter"] != "base_accuracy_toy"
    ] == list(before.sensitivity)


def test_toy_fee_on_top_of_reserved_gpus_when_self_hosted(toy):
    # private_cloud: one A100 at 1.79 USD/h reserved = 730 x 1.79 = 1306.70 a month, idle for a
    # strategy that spends no tokens, plus the fee.
    r = run(make_profile(deployment="private_cloud"), months=2, draws=0)
    t = r.rows[r.rows.strategy == "toy"]
    assert t.monthly_cost_usd.tolist() == pytest.approx([1306.70 + FEE] * 2)


def test_toy_base_accuracy_is_an_assumption(toy):
    r = run(make_profile(), months=2, draws=0, sets=["base_accuracy_toy=0.5"])
    t = r.rows[r.rows.strategy == "toy"]
    assert t.expected_accuracy.tolist() == pytest.approx(0.5 * (1 - t.stale_fraction))
    assert r.assumptions.sources["base_accuracy_toy"] == "override: --set"
    with pytest.raises(ConfigError, match="base_accuracy_toy: must be between 0 and 1"):
        run(make_profile(), months=2, draws=0, sets=["base_accuracy_toy=2"])
    cal = {"results": [{"strategy": "toy", "metrics": {"accuracy": 0.3}}]}
    r = run(make_profile(), months=2, draws=0, calibration_file=cal)
    assert r.assumptions.base_accuracy_toy == 0.3


def test_strategy_without_cost_model_is_named():
    STRATEGIES.register(StrategySpec("orphan", "Orphan", "an orphan", "#000000"))
    try:
        with pytest.raises(ConfigError, match="strategy `orphan` .* has no simulator cost model"):
            run(make_profile(), months=2, draws=0)
    finally:
        STRATEGIES.unregister("orphan")


def test_unknown_cost_component_is_named(toy):
    COST_MODELS["toy"] = StrategyModel(
        costs=lambda ctx: {"fee_usd": FEE}, base_accuracy=BaseAccuracy(0.8, 0.7, 0.9, "judgment")
    )
    with pytest.raises(ConfigError, match="strategy `toy`: .* unknown component `fee_usd`"):
        run(make_profile(), months=2, draws=0)


def test_assumptions_derived_before_registration_are_refused(toy):
    p = make_profile()
    STRATEGIES.unregister("toy")
    a = derive_assumptions(p, BOOK)
    STRATEGIES.register(StrategySpec("toy", "Toy", "a toy", "#000000"))
    with pytest.raises(ConfigError, match="base_accuracy_toy: .* derive them again"):
        simulate(p, a, months=2, draws=0)


def test_bad_base_accuracy_is_named():
    with pytest.raises(ConfigError, match="low=0.9, value=0.8, high=0.95"):
        BaseAccuracy(0.8, 0.9, 0.95, "judgment")


@pytest.mark.parametrize(
    "rows, expected",
    [
        # A row counts for the strategy it measures (core.registry.ROWS).
        ([("rag+constrained", 0.9)], {"rag": 0.9}),
        # The strategy's first-listed row wins, wherever it sits in the file.
        ([("rag+constrained", 0.9), ("rag", 0.8)], {"rag": 0.8}),
        ([("rag", 0.8), ("rag+constrained", 0.9)], {"rag": 0.8}),
        # The closed-book base row measures no strategy.
        ([("base", 0.1), ("hybrid", 0.7)], {"hybrid": 0.7}),
    ],
)
def test_calibration_maps_rows_to_strategies(rows, expected):
    data = {"results": [{"strategy": s, "metrics": {"accuracy": acc}} for s, acc in rows]}
    assert parse_calibration(data, "c.json").accuracies() == expected


def test_calibration_names_the_known_rows():
    with pytest.raises(ConfigError) as e:
        parse_calibration({"strategy": "rag+reranked", "metrics": {}}, "c.json")
    assert "c.json: strategy: string should match pattern" in str(e.value)
    assert r"rag\+constrained" in str(e.value) and "got 'rag+reranked'" in str(e.value)
