"""Cost that includes people and data (issue 17, part 7): labelling, evaluation and engineering
time, computed by hand, counted in the totals, overridable like any other input."""

from __future__ import annotations

from datetime import date

import pytest
from test_simulator_profiles import BOOK, NO_PEOPLE, make_profile

from core.errors import ConfigError
from core.simulation import COST_COMPONENTS, component_kind
from simulator import derive_assumptions, load_price_book, simulate

START = date(2026, 12, 6)
PEOPLE = ("labelling_usd", "evaluation_usd", "engineering_usd", "review_usd")


def rows(book=BOOK, overrides=None, months=4, **changes):
    # knowledge changes monthly (5 %/month): fine-tuning retrains every 4 months
    # (1 - 0.95^4 = 0.185 <= 20 %); labelled examples 100.
    p = make_profile(
        "support_bot",
        **{"knowledge_update_frequency": "monthly", "labeled_examples": 100, **changes},
    )
    a = derive_assumptions(p, book, overrides, start=START, months=months)
    return simulate(p, a, months=months, draws=0).rows.set_index(["strategy", "month"])


def test_people_components_are_declared_once_as_people():
    assert [c.name for c in COST_COMPONENTS if c.kind == "people"] == list(PEOPLE)
    assert component_kind("training_usd") == "infrastructure"


def test_people_costs_by_hand():
    r = rows(months=6)
    ft, rag, hyb = r.loc["fine_tuning"], r.loc["rag"], r.loc["hybrid"]
    # Rates: 1.00 USD per example, 90 USD per engineer-hour. Defaults: 500 examples a fine-tune
    # needs, 200 judged per release, 16 h per retrain, 2 h per index refresh.
    # FT month 1: label 500 - 100 = 400 -> 400; evaluate 200 -> 200; 16 h -> 1440.
    assert ft.loc[1, "labelling_usd"] == pytest.approx(400.0)
    assert ft.loc[1, "evaluation_usd"] == pytest.approx(200.0)
    assert ft.loc[1, "engineering_usd"] == pytest.approx(1440.0)
    assert ft.loc[2, list(PEOPLE)].sum() == 0  # nothing between trainings
    # Month 5 retrain: relabel the changed share 1 - 0.95^4 = 0.18549 of 500 = 92.75 examples.
    assert ft.loc[5, "labelling_usd"] == pytest.approx(500 * (1 - 0.95**4))
    assert ft.loc[5, "engineering_usd"] == pytest.approx(1440.0)
    # RAG: a release (200 judged) at launch only (next after 12 months); 2 h a month of index
    # refresh since the knowledge changes -> 180 a month; no labelling.
    assert rag.loc[1, "evaluation_usd"] == pytest.approx(200.0)
    assert rag.loc[2, "evaluation_usd"] == 0
    assert rag.engineering_usd.tolist() == pytest.approx([180.0] * 6)
    assert rag.labelling_usd.sum() == 0
    # Hybrid: 400 seed examples once, 200 judged and 16 h at its training, 2 h per refresh.
    assert hyb.loc[1, "labelling_usd"] == pytest.approx(400.0)
    assert hyb.loc[1, "engineering_usd"] == pytest.approx(1440.0 + 180.0)
    assert hyb.loc[3, "engineering_usd"] == pytest.approx(180.0)


def test_people_costs_are_in_the_totals():
    with_people, without = rows(), rows(overrides=NO_PEOPLE)
    for s in ("fine_tuning", "rag", "hybrid"):
        extra = with_people.loc[s].monthly_cost_usd - without.loc[s].monthly_cost_usd
        assert extra.tolist() == pytest.approx(
            with_people.loc[s][list(PEOPLE)].sum(axis=1).tolist()
        )
        assert extra.sum() > 0
        assert without.loc[s][list(PEOPLE)].to_numpy().sum() == 0


def test_people_costs_can_be_overridden():
    # Quantities are assumptions (--set name=value), rates are prices (--set prices....).
    doubled_hours = rows(overrides={"eng_hours_per_retrain": 32})
    assert doubled_hours.loc[("fine_tuning", 1), "engineering_usd"] == pytest.approx(2880.0)
    dear = load_price_book(
        overrides={
            "prices.people.labelling.usd_per_example": "2.5",
            "prices.people.engineering.hourly_rate_usd": "150",
        }
    )
    r = rows(book=dear)
    assert r.loc[("fine_tuning", 1), "labelling_usd"] == pytest.approx(400 * 2.5)
    assert r.loc[("fine_tuning", 1), "engineering_usd"] == pytest.approx(16 * 150)
    a = derive_assumptions(make_profile(), dear, start=START)
    assert a.prices["people.hourly_rate_usd"].value == 150
    assert "prices.people.engineering.hourly_rate_usd" in a.overridden


def test_more_labelled_examples_never_cost_more_labelling():
    few = rows(labeled_examples=0)
    many = rows(labeled_examples=10_000)
    assert few.labelling_usd.sum() > many.labelling_usd.sum()
    assert many.loc[("fine_tuning", 1), "labelling_usd"] == 0  # the team already has them


def test_people_rates_and_quantities_are_drawn_in_the_monte_carlo():
    p = make_profile()
    a = derive_assumptions(p, BOOK, start=START, months=12)
    r = simulate(p, a, months=12, draws=300, seed=1)
    names = {row["parameter"] for row in r.sensitivity}
    assert {"people.hourly_rate_usd", "eng_hours_per_retrain", "ft_examples_target"} <= names


def test_answer_review_by_hand():
    # A person checks 25 % of the answers, 3 minutes each, at the book's 27 USD/h, and those
    # hold 60 % of the wrong answers. Off by default: nothing paid, accuracy unchanged.
    p = make_profile("support_bot", knowledge_update_frequency="monthly")
    plain = rows()
    assert plain.review_usd.sum() == 0
    review = dict(review_share=0.25, review_catch=0.6, review_minutes_per_answer=3)
    r = rows(overrides=review)
    checked = p.queries_per_month * 0.25
    for s in ("fine_tuning", "rag", "hybrid"):
        assert r.loc[s].review_usd.tolist() == pytest.approx([checked * 3 / 60 * 27.0] * 4)
        extra = r.loc[s].monthly_cost_usd - plain.loc[s].monthly_cost_usd
        assert extra.tolist() == pytest.approx(r.loc[s].review_usd.tolist())
        before = plain.loc[s].expected_accuracy
        after = r.loc[s].expected_accuracy
        assert after.tolist() == pytest.approx((before + (1 - before) * 0.6).tolist())
    # The rate is a price like the others.
    dear = load_price_book(overrides={"prices.people.review.usd_per_hour": "54"})
    assert rows(book=dear, overrides=review).loc[("rag", 1), "review_usd"] == pytest.approx(
        checked * 3 / 60 * 54.0
    )


@pytest.mark.parametrize(
    "overrides",
    [{"review_catch": 0.5}, {"review_catch.high": 0.5}, {"review_share": 0, "review_catch": 0.2}],
)
def test_catching_wrong_answers_needs_a_review_share(overrides):
    with pytest.raises(ConfigError, match="review_catch: no answer is checked"):
        rows(overrides=overrides)


def test_answers_checked_at_random_catch_their_share_of_wrong_ones():
    p = make_profile()
    a = derive_assumptions(p, BOOK, {"review_share": 0.3}, start=START)
    assert a.review_catch == 0.3
    assert "random" in a.sources["review_catch"]
    b = a.with_overrides({"review_share": 0.5})  # still random: follows the share
    assert b.review_catch == 0.5
    measured = b.with_overrides({"review_catch": 0.8})  # a measured catch stays put
    assert measured.with_overrides({"review_share": 0.4}).review_catch == 0.8
    assert a.with_overrides({"review_share": 0}).review_catch == 0  # nobody checks


def test_review_catch_and_minutes_are_drawn_in_the_monte_carlo():
    p = make_profile()
    a = derive_assumptions(
        p, BOOK, {"review_share": 0.3, "review_catch": 0.6}, start=START, months=12
    )
    r = simulate(p, a, months=12, draws=300, seed=1)
    names = {row["parameter"] for row in r.sensitivity}
    assert {"review_catch", "review_minutes_per_answer", "people.review_usd_per_hour"} <= names
