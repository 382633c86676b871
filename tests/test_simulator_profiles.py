"""Five example profiles (data/profiles/ was empty when the simulator was written), shared by
the simulator tests, and sanity checks that hold for each of them."""

from __future__ import annotations

import json
import math

import pytest

from core.profile import Profile
from simulator import derive_assumptions, load_price_book, simulate

BASE = dict(
    name="base",
    task="knowledge_qa",
    knowledge_update_frequency="monthly",
    latency_budget_ms=5000,
    traceability="preferred",
    style_consistency="low",
    structured_output=False,
    knowledge_base_tokens=1_000_000,
    labeled_examples=0,
    queries_per_month=10_000,
    deployment="cloud_api",
    ml_maturity="medium",
)
PROFILES = {
    "support_bot": dict(
        BASE,
        name="support bot",
        task="customer_support",
        knowledge_update_frequency="weekly",
        style_consistency="high",
        knowledge_base_tokens=5_000_000,
        labeled_examples=2000,
        queries_per_month=100_000,
        latency_budget_ms=4000,
    ),
    "legal_qa_onprem": dict(
        BASE,
        name="legal QA",
        traceability="required",
        knowledge_update_frequency="quarterly",
        deployment="on_premises",
        knowledge_base_tokens=200_000_000,
        queries_per_month=20_000,
        latency_budget_ms=8000,
        ml_maturity="high",
    ),
    "ticket_classifier": dict(
        BASE,
        name="ticket classifier",
        task="classification",
        knowledge_update_frequency="yearly",
        traceability="none",
        style_consistency="high",
        structured_output=True,
        knowledge_base_tokens=50_000,
        labeled_examples=20_000,
        queries_per_month=2_000_000,
        latency_budget_ms=800,
    ),
    "news_desk": dict(
        BASE,
        name="news desk",
        knowledge_update_frequency="daily",
        knowledge_base_tokens=30_000_000,
        queries_per_month=50_000,
        deployment="private_cloud",
        latency_budget_ms=6000,
    ),
    "static_manual": dict(
        BASE,
        name="static product manual",
        knowledge_update_frequency="never",
        task="extraction",
        structured_output=True,
        style_consistency="medium",
        knowledge_base_tokens=2_000_000,
        labeled_examples=500,
        queries_per_month=5_000,
        latency_budget_ms=10_000,
    ),
}


def make_profile(name: str = "support_bot", **changes) -> Profile:
    return Profile(**{**PROFILES[name], **changes})


BOOK = load_price_book()
# A what-if book for the hand-computed scenarios: they price gpt-4o-mini's own cloud
# fine-tuning, which OpenAI closed to new users on 2026-05-07 and which shuts down on
# 2027-01-14, so this book reopens it (the availability rules themselves are tested in
# test_simulator_availability.py).
WHAT_IF = load_price_book(
    overrides={
        "prices.models.gpt-4o-mini.retires": "null",
        "prices.models.gpt-4o-mini.fine_tuning.available_to_new_users": "true",
        "prices.models.gpt-4o-mini.fine_tuning.retires": "null",
    }
)
# People costs set to zero, so infrastructure sums stay hand-checkable (people costs are
# tested in test_simulator_people.py).
NO_PEOPLE = dict(
    ft_examples_target=0,
    eval_examples_per_release=0,
    eng_hours_per_retrain=0,
    eng_hours_per_index_refresh=0,
)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_simulates_to_a_consistent_json_result(name):
    p = make_profile(name)
    r = simulate(p, derive_assumptions(p, BOOK), months=24, draws=200)
    rows = r.rows
    assert len(rows) == 24 * 3
    # Cumulative is the running sum of monthly; monthly is the sum of its components.
    for _, g in rows.groupby("strategy"):
        assert g.cumulative_cost_usd.iloc[-1] == pytest.approx(g.monthly_cost_usd.sum())
    comps = [c for c in rows.columns if c.endswith("_usd") and "cost" not in c]
    assert (rows[comps].sum(axis=1) - rows.monthly_cost_usd).abs().max() < 1e-6
    assert (rows[comps] >= 0).all().all()
    assert rows.stale_fraction.between(0, 1).all() and rows.expected_accuracy.between(0, 1).all()
    # Bands are ordered.
    assert (rows.cumulative_cost_usd_p10 <= rows.cumulative_cost_usd_p50 + 1e-9).all()
    assert (rows.cumulative_cost_usd_p50 <= rows.cumulative_cost_usd_p90 + 1e-9).all()
    d = json.loads(json.dumps(r.to_dict()))
    assert d["rows"][0].keys() >= {
        "month",
        "strategy",
        "monthly_cost_usd",
        "cumulative_cost_usd",
        "stale_fraction",
        "expected_accuracy",
    }
    assert not any(isinstance(v, float) and math.isnan(v) for v in d["rows"][0].values())


def test_result_without_draws_is_strict_json():
    p = make_profile("news_desk")
    d = simulate(p, derive_assumptions(p, BOOK), months=3, draws=0).to_dict()
    json.dumps(d, allow_nan=False)  # raises on NaN / inf
    assert d["bands"] == {} and d["rows"][0]["cumulative_cost_usd_p10"] is None


def test_static_manual_never_retrains_and_stays_fresh():
    p = make_profile("static_manual")
    a = derive_assumptions(p, BOOK)
    r = simulate(p, a, months=12, draws=0)
    ft = r.rows[r.rows.strategy == "fine_tuning"]
    assert a.retrain_interval_months == 0
    assert (ft.training_usd.iloc[1:] == 0).all() and ft.training_usd.iloc[0] > 0
    assert (r.rows.stale_fraction == 0).all()
