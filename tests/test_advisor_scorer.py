"""Learned scorer: scikit-learn conventions, the fit, features, the JSON model, the library."""

from __future__ import annotations

import json
import math
import time
from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from advisor.cases import feedback_examples, load_cases, parse_cases, training_set
from advisor.features import FEATURE_NAMES, featurize, featurize_many
from advisor.scorer import (
    LinearModel,
    StrategyScorer,
    default_model,
    fit_linear_model,
    load_model_file,
    save_model_file,
    train_model,
)
from core.errors import ConfigError
from core.profile import Profile
from core.registry import strategy_values

CLASSES = strategy_values()  # the built-in strategies, which the case library labels

BASE = dict(
    name="p",
    task="knowledge_qa",
    knowledge_update_frequency="monthly",
    latency_budget_ms=3000,
    traceability="preferred",
    style_consistency="medium",
    structured_output=False,
    knowledge_base_tokens=1_000_000,
    labeled_examples=500,
    queries_per_month=100_000,
    deployment="cloud_api",
    ml_maturity="medium",
)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FTRAG_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def data():
    ts = training_set(load_cases())
    return ts.X, np.asarray(ts.y), ts.weight


# --- scikit-learn conventions ---------------------------------------------------------------


def test_init_only_stores_params_and_clone_works():
    est = StrategyScorer(C=0.7, max_iter=30)
    assert est.get_params() == {"C": 0.7, "max_iter": 30}
    assert not [a for a in vars(est) if a.endswith("_")]
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params()


@pytest.mark.parametrize("method", ["predict", "predict_proba", "contributions"])
def test_unfitted_raises_not_fitted(method):
    with pytest.raises(NotFittedError):
        getattr(StrategyScorer(), method)(np.zeros((1, len(FEATURE_NAMES))))


def test_fit_returns_self_and_sets_trailing_underscore_attributes(data):
    X, y, w = data
    est = StrategyScorer()
    assert est.fit(X, y, sample_weight=w) is est
    for attr in ("classes_", "coef_", "intercept_", "mean_", "scale_", "n_features_in_"):
        assert hasattr(est, attr)
    assert est.coef_.shape == (3, len(FEATURE_NAMES))
    assert set(est.classes_) == set(CLASSES)


def test_predict_proba_is_a_distribution_and_matches_predict(data):
    X, y, _ = data
    est = StrategyScorer().fit(X, y)
    p = est.predict_proba(X)
    assert np.allclose(p.sum(axis=1), 1) and (p >= 0).all()
    assert list(est.predict(X)) == list(est.classes_[p.argmax(axis=1)])


def test_wrong_feature_count_is_rejected(data):
    X, y, _ = data
    est = StrategyScorer().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :5])


def test_bad_params_are_rejected_at_fit(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="`C` must be positive"):
        StrategyScorer(C=0).fit(X, y)


def test_works_inside_sklearn_cross_validation(data):
    X, y, _ = data
    scores = cross_val_score(StrategyScorer(), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.5


def test_solver_matches_sklearn_logistic_regression(data):
    """Same objective, same optimum: the estimator against a bare LogisticRegression."""
    X, y, _ = data
    ours = StrategyScorer(C=0.3).fit(X, y)
    Z = (X - ours.mean_) / ours.scale_
    ref = LogisticRegression(C=0.3, max_iter=10_000, tol=1e-10).fit(Z, y)
    assert list(ref.classes_) == list(ours.classes_)
    assert np.abs(ours.predict_proba(X) - ref.predict_proba(Z)).max() < 1e-4


def test_sample_weight_changes_the_fit(data):
    X, y, _ = data
    w = np.where(y == "hybrid", 5.0, 1.0)

    def mean_hybrid(est):
        return est.predict_proba(X)[:, list(est.classes_).index("hybrid")].mean()

    plain = mean_hybrid(StrategyScorer().fit(X, y))
    assert mean_hybrid(StrategyScorer().fit(X, y, sample_weight=w)) > plain


def test_contributions_explain_the_logit_differences(data):
    """Sum of centred contributions + centred intercept = centred logit, per class."""
    X, y, _ = data
    est = StrategyScorer().fit(X, y)
    c = est.contributions(X[:3])
    logits = est.decision_function(X[:3])
    centred = logits - logits.mean(axis=1, keepdims=True)
    b = est.intercept_ - est.intercept_.mean()
    assert np.allclose(c.sum(axis=2) + b, centred)


def test_two_classes_give_a_symmetric_pair_of_logits(data):
    """With two classes scikit-learn keeps one logit; coef_ still has one row per class."""
    X, y, _ = data
    keep = y != "hybrid"
    est = StrategyScorer().fit(X[keep], y[keep])
    assert est.coef_.shape == (2, len(FEATURE_NAMES))
    assert np.allclose(est.coef_[0], -est.coef_[1])
    Z = (X[keep] - est.mean_) / est.scale_
    assert np.allclose(est.predict_proba(X[keep]), est.logistic_.predict_proba(Z))
    model = LinearModel.from_estimator(est)
    assert model.classes == ("fine_tuning", "rag")  # registry order, not alphabetical
    assert np.allclose(model.predict_proba(X[keep]), est.predict_proba(X[keep]))


def test_json_holds_coefficients_and_provenance_only(tmp_path):
    d = json.loads(save_model_file(train_model(load_cases()), tmp_path / "m.json").read_text())
    assert set(d) == {
        "classes",
        "feature_names",
        "mean",
        "scale",
        "coef",
        "intercept",
        "meta",
        "reference_cases",
    }
    assert d["classes"] == list(CLASSES) and d["feature_names"] == list(FEATURE_NAMES)
    assert d["meta"]["C"] == 0.3 and d["meta"]["solver"] == "lbfgs"


# --- LinearModel: the fast path ---------------------------------------------------------------


def test_linear_model_agrees_with_the_estimator(data):
    X, y, w = data
    model = fit_linear_model(X, y, w)
    est = StrategyScorer().fit(X, y, sample_weight=w)
    order = [list(est.classes_).index(c) for c in CLASSES]
    ref = est.predict_proba(X)[:, order]
    assert np.abs(model.predict_proba(X) - ref).max() < 1e-6
    one = model.proba(X[0].tolist())
    assert math.isclose(sum(one.values()), 1.0)
    assert np.allclose([one[c] for c in CLASSES], ref[0], atol=1e-6)


def test_json_round_trip_predicts_the_same(tmp_path):
    model = train_model(load_cases())
    path = save_model_file(model, tmp_path / "m.json")
    again = load_model_file(path)
    x = featurize(BASE)
    assert again.proba(x) == pytest.approx(model.proba(x))
    assert again.nearest_cases(x) == model.nearest_cases(x)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["coef"].pop(), "shapes"),
        (lambda d: d["feature_names"].reverse(), "features or classes differ"),
        (lambda d: d.__setitem__("scale", [0.0] * len(d["scale"])), "non-positive scale"),
        (lambda d: d.__setitem__("pickle", "x"), "pickle"),
        (lambda d: d.__setitem__("mean", "oops"), "mean"),
        (lambda d: d["classes"].__setitem__(0, "prompting"), "registered strategies"),
    ],
)
def test_bad_model_files_are_refused(tmp_path, mutate, message):
    d = train_model(load_cases()).to_dict()
    mutate(d)
    p = tmp_path / "m.json"
    p.write_text(json.dumps(d))
    with pytest.raises(ConfigError, match=message):
        load_model_file(p)


def test_default_model_caches_json_and_survives_a_corrupt_cache(tmp_path, monkeypatch):
    from advisor import scorer

    cache = tmp_path / "c"
    monkeypatch.setenv("FTRAG_CACHE", str(cache))
    # no usable shipped fit: the path taken after a case file changes
    monkeypatch.setattr(scorer, "SHIPPED_MODEL", tmp_path / "absent.json")
    scorer._default_model.cache_clear()
    first = default_model()
    files = list(cache.glob("advisor_scorer-*.json"))
    assert len(files) == 1
    files[0].write_text("{not json")
    scorer._default_model.cache_clear()
    again = default_model()  # refits instead of failing, and rewrites the cache
    assert again.proba(featurize(BASE)) == pytest.approx(first.proba(featurize(BASE)))
    assert json.loads(files[0].read_text())["classes"] == list(CLASSES)
    scorer._default_model.cache_clear()


def test_retrained_file_is_used_only_while_the_library_is_unchanged(tmp_path):
    model = train_model(load_cases())
    fresh = LinearModel(**{**model.__dict__, "meta": {**model.meta, "cases_sha256": "stale"}})
    path = save_model_file(fresh, tmp_path / "retrained.json")
    assert default_model(path).meta.get("cases_sha256") != "stale"


def test_training_from_the_library_is_fast():
    cases = load_cases()
    t = time.perf_counter()
    train_model(cases)
    assert time.perf_counter() - t < 1.0


# --- features ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, low, high, feature",
    [
        ("knowledge_update_frequency", "never", "realtime", "update_frequency"),
        ("traceability", "none", "required", "traceability"),
        ("style_consistency", "low", "high", "style_consistency"),
        ("ml_maturity", "low", "high", "ml_maturity"),
        ("knowledge_base_tokens", 0, 10**9, "log10_knowledge_tokens"),
        ("labeled_examples", 10, 10**5, "log10_labeled_examples"),
        ("queries_per_month", 100, 10**8, "log10_queries_per_month"),
        ("latency_budget_ms", 200, 60_000, "log10_latency_ms"),
    ],
)
def test_ordinal_and_log_features_are_monotonic(field, low, high, feature):
    j = FEATURE_NAMES.index(feature)
    assert featurize({**BASE, field: low})[j] < featurize({**BASE, field: high})[j]


def test_one_hot_features_and_budget_is_not_a_feature():
    x = dict(zip(FEATURE_NAMES, featurize({**BASE, "deployment": "on_premises"}), strict=True))
    assert x["deployment=on_premises"] == 1 and x["deployment=cloud_api"] == 0
    assert sum(v for k, v in x.items() if k.startswith("task=")) == 1
    assert featurize({**BASE, "monthly_budget_usd": 999}) == featurize(BASE)
    assert featurize_many([BASE, BASE]).shape == (2, len(FEATURE_NAMES))


# --- feedback -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row, weight",
    [
        ({"outcome": "worked", "chosen_strategy": "rag", "rating": None}, 1.0),
        ({"outcome": "worked", "chosen_strategy": "rag", "rating": 4}, 0.8),
        ({"outcome": "mixed", "chosen_strategy": "hybrid", "rating": None}, 0.5),
        ({"outcome": "failed", "chosen_strategy": "rag", "rating": 5}, None),
        ({"outcome": "worked", "chosen_strategy": "prompting", "rating": None}, None),
        ({"outcome": "worked", "chosen_strategy": "rag", "profile": {"name": "x"}}, None),
    ],
)
def test_feedback_weights(row, weight):
    used, skipped = feedback_examples([{"profile": BASE, **row}])
    if weight is None:
        assert (used, skipped) == ([], 1)
    else:
        assert skipped == 0 and used[0][1] == row["chosen_strategy"]
        assert used[0][2] == pytest.approx(weight)


def test_positive_feedback_moves_the_scorer_toward_the_chosen_strategy():
    cases = load_cases()
    x = featurize(BASE)
    before = train_model(cases).proba(x)["fine_tuning"]
    rows = [{"profile": BASE, "chosen_strategy": "fine_tuning", "outcome": "worked"}] * 5
    after = train_model(cases, rows).proba(x)["fine_tuning"]
    assert after > before


# --- the case library -------------------------------------------------------------------------


def test_case_library_shape():
    cases = load_cases()
    real = [c for c in cases if not c.synthetic]
    assert len(cases) >= 80 and len(real) >= 60
    shares = Counter(c.strategy for c in cases)
    assert set(shares) == set(CLASSES)
    assert min(shares.values()) / len(cases) >= 0.2
    assert all(Profile.model_validate(c.profile.model_dump()) for c in cases)
    assert all(c.source.citation for c in real)
    assert len({c.id for c in cases}) == len(cases)


def test_bad_case_names_case_and_field():
    raw = {
        "cases": [
            {
                "id": "bad-one",
                "profile": {**BASE, "task": "dancing"},
                "strategy": "rag",
                "justification": "a justification long enough",
                "source": {"type": "paper", "citation": "x et al."},
            }
        ]
    }
    with pytest.raises(ConfigError) as exc:
        parse_cases(raw, "cases.yaml")
    assert any("case `bad-one`" in line and "profile.task" in line for line in exc.value.lines())


def test_the_shipped_fit_is_the_fit_of_the_committed_case_library():
    """data/advisor_scorer.json spares a fresh clone scikit-learn on its first recommend; it
    must be what a fit of today's case files gives (`make scorer` rewrites it)."""
    from advisor.cases import library_fingerprint
    from advisor.scorer import SHIPPED_MODEL, fit_default_model, load_model_file

    fingerprint = library_fingerprint()
    shipped = load_model_file(SHIPPED_MODEL)
    assert shipped.meta["cases_sha256"] == fingerprint, "case files changed: run `make scorer`"
    fresh = fit_default_model(fingerprint)
    assert shipped.classes == fresh.classes and shipped.feature_names == fresh.feature_names
    for got, want in ((shipped.coef, fresh.coef), ([shipped.intercept], [fresh.intercept])):
        for g_row, w_row in zip(got, want, strict=True):
            assert list(g_row) == pytest.approx(list(w_row), abs=1e-6)
    assert [c["id"] for c in shipped.reference_cases] == [c["id"] for c in fresh.reference_cases]
