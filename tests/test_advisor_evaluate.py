"""Evaluation (issue 17): source-grouped CV, the blend kept only if it beats both parts, per
source type accuracy and ECE, a held-out borderline set never fitted, and the calibration."""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter

import numpy as np
import pytest
import yaml

from advisor import recommend as rec_mod
from advisor.calibration import MAX_CAP, Calibration
from advisor.cases import CASES_DIR, load_cases, load_heldout
from advisor.evaluate import (
    METHODS,
    WEIGHT_GRID,
    _folds,
    choose_blend,
    cross_validate,
    evaluate_heldout,
    fit_calibration,
    retrain,
    shipped_method,
    split_cases,
)
from advisor.rules import RULES_PATH, parse_rules
from advisor.scorer import SHIPPED_MODEL, load_model_file, train_model
from core.errors import ConfigError
from core.registry import STRATEGIES, StrategySpec


@pytest.fixture(scope="module")
def cases():
    return load_cases()


@pytest.fixture(scope="module")
def heldout():
    return load_heldout()


@pytest.fixture(scope="module")
def cv(cases):
    return cross_validate(cases)


def test_grouped_folds_never_share_a_source(cases):
    real, _ = split_cases(cases)
    seen: list[int] = []
    for tr, te in _folds(real, 5, 0):
        train_groups = {real[i].source.group for i in tr}
        test_groups = {real[i].source.group for i in te}
        assert train_groups.isdisjoint(test_groups)
        seen += list(te)
    assert sorted(seen) == list(range(len(real)))  # every case tested exactly once
    # the library really has sources with several cases, so grouping matters
    assert max(Counter(c.source.group for c in real).values()) >= 3


def test_cross_validation_scores_every_cited_case_once_per_source_type(cases, cv):
    real, _ = split_cases(cases)
    assert cv.n_eval == len(real) and "source-grouped" in cv.protocol
    assert {p["id"] for p in cv.predictions} == {c.id for c in real}
    assert sum(cv.n_by_source.values()) == len(real)
    assert set(cv.by_source) == {c.source.type for c in real}
    for src, accs in cv.by_source.items():  # per-type accuracy is the mean over that type
        rows = [p for p in cv.predictions if p["source_type"] == src]
        for m in METHODS:
            assert accs[m] == pytest.approx(np.mean([p[m] == p["true"] for p in rows]), abs=1e-4)
    # calibration: better than the class priors
    freq = Counter(c.strategy for c in real)
    prior = -sum(n / len(real) * math.log(n / len(real)) for n in freq.values())
    assert cv.log_loss["learned"] < prior and cv.log_loss["blend"] < prior
    assert all(0 <= cv.ece[m] <= 1 for m in METHODS)


def test_the_shipped_method_is_the_one_that_beats_the_others_under_grouped_cv(cv):
    assert cv.shipped == shipped_method(cv.accuracy)
    if cv.shipped == "blend":
        assert cv.accuracy["blend"] > max(cv.accuracy["rules"], cv.accuracy["learned"])
    assert load_model_file(SHIPPED_MODEL).meta["method"] == cv.shipped


@pytest.mark.parametrize(
    "acc, expected",
    [
        ({"rules": 0.8, "learned": 0.85, "blend": 0.9}, "blend"),
        ({"rules": 0.8, "learned": 0.9, "blend": 0.9}, "learned"),  # a tie does not keep it
        ({"rules": 0.92, "learned": 0.9, "blend": 0.91}, "rules"),
    ],
)
def test_shipped_method_rule(acc, expected):
    assert shipped_method(acc) == expected


def test_documented_blend_parameters_are_the_cross_validated_ones(cases):
    real, synthetic = split_cases(cases)
    w, t, _ = choose_blend(real, synthetic)
    assert (w, t) == (rec_mod.BLEND_WEIGHT, rec_mod.RULE_TEMPERATURE)
    assert rec_mod.BLEND_WEIGHT in WEIGHT_GRID


# --- the held-out set --------------------------------------------------------------------------


def test_heldout_is_separate_verified_and_borderline(cases, heldout):
    assert len(heldout) >= 20
    assert {c.id for c in cases}.isdisjoint({c.id for c in heldout})
    assert {c.source.group for c in cases}.isdisjoint({c.source.group for c in heldout})
    assert all(c.source.verified and c.source.quote and c.borderline for c in heldout)
    assert {c.strategy for c in heldout} == set(STRATEGIES.values())


def test_heldout_never_reaches_the_fit(tmp_path, heldout):
    """A poisoned held-out case (every label flipped) changes neither the library, its
    fingerprint, nor the fitted coefficients: the fit reads only data/cases/*.yaml."""
    from advisor.cases import library_fingerprint

    lib = tmp_path / "cases"
    shutil.copytree(CASES_DIR, lib)
    before = (library_fingerprint(lib), train_model(load_cases(lib)))
    raw = yaml.safe_load((lib / "heldout" / "borderline.yaml").read_text(encoding="utf-8"))
    for c in raw["cases"]:
        c["strategy"] = "rag" if c["strategy"] != "rag" else "fine_tuning"
    (lib / "heldout" / "borderline.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    after = (library_fingerprint(lib), train_model(load_cases(lib)))
    assert before[0] == after[0]
    assert before[1].coef == after[1].coef and before[1].intercept == after[1].intercept
    shipped = load_model_file(SHIPPED_MODEL)
    assert {c["id"] for c in shipped.reference_cases}.isdisjoint({c.id for c in heldout})


def test_heldout_evaluation_refuses_overlap_and_scores_every_case(cases, heldout):
    with pytest.raises(ValueError, match="also in the library"):
        evaluate_heldout(cases, [*heldout, cases[0]])
    ho = evaluate_heldout(cases, heldout)
    assert ho.n_eval == len(heldout) and "held-out" in ho.protocol
    assert 0.0 <= ho.accuracy["blend"] <= 1.0


def test_heldout_loader_rejects_an_unverified_case(tmp_path):
    raw = yaml.safe_load((CASES_DIR / "heldout" / "borderline.yaml").read_text("utf-8"))
    case = raw["cases"][0]
    case["source"] = {**case["source"], "verified": False, "note": "not checked"}
    case.pop("borderline")
    (tmp_path / "x.yaml").write_text(yaml.safe_dump({"cases": [case]}), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_heldout(tmp_path)
    assert case["id"] in str(e.value) and "borderline" in str(e.value)
    assert "verified" in str(e.value)


# --- calibration -------------------------------------------------------------------------------


def test_calibration_is_fitted_on_cv_and_capped_below_one(cv):
    cal = fit_calibration(cv)
    assert cal.method == cv.shipped and cal.n == cv.n_eval
    assert cal.cap <= MAX_CAP < 1.0
    top = [b for b in cal.reliability if b["n"]][-1]
    assert cal.cap <= 1 - 3 / top["n"]  # rule of three on the top bin
    assert sum(b["n"] for b in cal.reliability) == cv.n_eval
    assert 0 < cal.disagree_factor < 1 and 0 < cal.far_factor < 1  # a flag always lowers
    far = [p for p in cv.predictions if p["nearest_distance"] > cal.far_distance]
    assert 0 < len(far) <= math.ceil(0.1 * cv.n_eval) + 1  # the 90th percentile of CV distances
    # the shipped file carries the same calibration
    shipped = Calibration.from_dict(load_model_file(SHIPPED_MODEL).meta["calibration"])
    assert shipped.cap == cal.cap and shipped.a == pytest.approx(cal.a)


@pytest.mark.parametrize("p", [0.34, 0.5, 0.7, 0.9, 0.99, 0.999999, 1.0])
@pytest.mark.parametrize("disagree", [False, True])
@pytest.mark.parametrize("far", [False, True])
def test_shown_confidence_never_reaches_the_cap_or_one(p, disagree, far):
    cal = Calibration.from_dict(load_model_file(SHIPPED_MODEL).meta["calibration"])
    raw, shown = cal.apply(p, disagree=disagree, far=far)
    assert 1 / 3 <= shown <= cal.cap < 1.0
    if disagree or far:  # a flag lowers the confidence (unless already at chance)
        plain = cal.apply(p, disagree=False, far=False)[1]
        assert shown < plain or plain <= 1 / 3 + 1e-9


def test_report_is_json_serialisable_and_prints_the_table(cv):
    d = json.loads(json.dumps(cv.to_dict()))
    assert set(d["accuracy"]) == set(METHODS) and d["reliability"]["blend"]
    text = cv.to_text()
    assert "source type" in text and "ECE" in text and "rules-only" in text


def test_retrain_uses_feedback_and_writes_json_coefficients(cases, tmp_path):
    profile = cases[0].profile.model_dump()
    feedback = [
        {"profile": profile, "chosen_strategy": "hybrid", "outcome": "worked", "rating": 5},
        {"profile": profile, "chosen_strategy": "rag", "outcome": "failed", "rating": 1},
    ]
    out = retrain(feedback, tmp_path / "scorer.json", cases)
    assert out["feedback_used"] == 1 and out["feedback_skipped"] == 1
    assert out["after"]["n_feedback"] == 1 and out["before"]["n_feedback"] == 0
    assert "BEFORE" in out["text"] and "AFTER" in out["text"]
    model = load_model_file(tmp_path / "scorer.json")
    assert model.meta["n_feedback"] == 1
    assert model.meta["blend_weight"] == out["blend"]["weight"]
    assert Calibration.from_dict(model.meta["calibration"]).cap < 1.0


def test_evaluation_covers_a_registered_strategy_without_cases(cases, heldout):
    """A strategy with rules but no labelled cases is a column everywhere, and is scored."""
    raw = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    raw["rules"].append(
        {
            "id": "toy_always",
            "when": {"field": "labeled_examples", "op": ">=", "value": 0},
            "effect": {"toy": 5.0},
            "sentence": "A toy reason that fires on every profile.",
            "principle": "test only",
            "citation": "this test",
        }
    )
    STRATEGIES.register(StrategySpec("toy", "Toy", "the toy strategy", "#000000"))
    try:
        report = evaluate_heldout(cases, heldout, book=parse_rules(raw))
    finally:
        STRATEGIES.unregister("toy")
    assert list(report.confusion) == ["fine_tuning", "rag", "hybrid", "toy"]
    assert all(list(row) == list(report.confusion) for row in report.confusion.values())
    assert report.n_eval == len(heldout) and "toy" in report.to_text()
    assert any(p["rules"] == "toy" for p in report.predictions)  # the rules can pick it
    assert all(p["learned"] != "toy" for p in report.predictions)  # the scorer cannot
