"""recommend(): the blend, its explanation, the JSON contract, and the `ftrag` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from advisor.features import FEATURE_NAMES
from advisor.recommend import (
    MAX_PROBABILITY,
    blend_scores,
    capped,
    learned_over,
    recommend,
    to_markdown,
)
from advisor.rules import RULES_PATH, parse_rules
from advisor.scorer import LinearModel, default_model
from core.profile import Profile, load_profile
from core.registry import STRATEGIES, StrategySpec, strategy_values

CLASSES = strategy_values()  # the built-in strategies, which the case library labels

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "data" / "profiles"

BASE = dict(
    name="p",
    task="knowledge_qa",
    knowledge_update_frequency="daily",
    latency_budget_ms=5000,
    traceability="required",
    style_consistency="medium",
    structured_output=False,
    knowledge_base_tokens=50_000_000,
    labeled_examples=0,
    queries_per_month=50_000,
    deployment="cloud_api",
    ml_maturity="low",
    access_control=True,
)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FTRAG_CACHE", str(tmp_path / "cache"))


def run_cli(*args, tmp_path, check=False):
    env = {
        **os.environ,
        "FTRAG_CACHE": str(tmp_path / "cache"),
        "FTRAG_DB": str(tmp_path / "db"),
    }
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=check,
        timeout=120,
    )


# --- the example profiles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "file, expected, must_fire",
    [
        ("support_chatbot_policies.yaml", "rag", "updates_weekly_or_faster"),
        ("legal_contract_extraction.yaml", "fine_tuning", "structured_output"),
        ("brand_voice_copywriter.yaml", "fine_tuning", "style_strict"),
        ("internal_wiki_qa.yaml", "rag", "per_user_permissions"),
        ("medical_triage_hybrid.yaml", "hybrid", "form_and_fresh_facts"),
    ],
)
def test_example_profiles_get_sensible_explained_recommendations(file, expected, must_fire):
    r = recommend(load_profile(PROFILES / file))
    assert r.strategy == expected
    assert must_fire in {f.id for f in r.rules}
    assert r.learned.top_contributions and r.similar_cases
    assert all(f.citation and f.sentence for f in r.rules)


# --- the blend ------------------------------------------------------------------------------


def test_blend_formula():
    rules = {"fine_tuning": 0.0, "rag": 1.0, "hybrid": 0.0}
    learned = {"fine_tuning": 0.2, "rag": 0.2, "hybrid": 0.6}
    assert blend_scores(rules, learned, 0.0, 1.0) == pytest.approx(learned)
    only_rules = blend_scores(rules, learned, 1.0, 1.0)
    assert only_rules["rag"] == pytest.approx(1 / (1 + 2 / 2.718281828459045))
    mixed = blend_scores(rules, learned, 0.5, 1.0)
    assert sum(mixed.values()) == pytest.approx(1.0)


def _fixed_model(favour: str) -> LinearModel:
    """A scorer that ignores its input and strongly prefers one strategy."""
    d = len(FEATURE_NAMES)
    return LinearModel(
        classes=CLASSES,
        feature_names=FEATURE_NAMES,
        mean=(0.0,) * d,
        scale=(1.0,) * d,
        coef=((0.0, 0.0, 0.0),) * d,
        intercept=tuple(4.0 if c == favour else 0.0 for c in CLASSES),
    )


def test_disagreement_is_flagged_with_a_sentence():
    r = recommend(BASE, model=_fixed_model("fine_tuning"))
    assert r.rules_pick == "rag" and r.learned.pick == "fine_tuning"
    assert r.disagreement and "fine-tuning" in r.disagreement.sentence
    agree = recommend(BASE, model=_fixed_model("rag"))
    assert agree.disagreement is None and agree.strategy == "rag"


def test_weight_zero_is_learned_only_and_weight_one_is_rules_only():
    assert recommend(BASE, model=_fixed_model("hybrid"), weight=0.0).strategy == "hybrid"
    assert recommend(BASE, model=_fixed_model("hybrid"), weight=1.0).strategy == "rag"


def test_json_contract_and_explanation():
    r = recommend(Profile.model_validate(BASE))
    d = json.loads(json.dumps(r.to_dict()))
    assert {"strategy", "confidence", "scores", "rules", "learned"} <= set(d)
    assert d["strategy"] in CLASSES and 0.0 <= d["confidence"] <= 1.0
    assert set(d["scores"]) == set(CLASSES)
    assert sum(d["scores"].values()) == pytest.approx(1.0, abs=1e-3)
    # the confidence is the calibrated one, not the blended probability (issue 17)
    assert d["confidence"] == d["confidence_info"]["shown"] <= d["confidence_info"]["cap"] < 1.0
    assert {"id", "sentence", "effect", "citation", "principle"} <= set(d["rules"][0])
    assert set(d["learned"]["probabilities"]) == set(CLASSES)
    top = d["learned"]["top_contributions"]
    assert top == sorted(top, key=lambda c: -abs(c["contribution"]))
    assert all(c["feature"] in FEATURE_NAMES for c in top)
    # per-profile: a different profile gets different contributions
    other = recommend({**BASE, "task": "classification", "structured_output": True})
    assert other.learned.contributions != d["learned"]["contributions"]


def test_markdown_reads_as_an_explanation():
    md = to_markdown(recommend(BASE))
    assert md.startswith("# Recommendation for p")
    assert "rules that fired" in md and "learned scorer" in md and "Closest labelled" in md


# --- confidence -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p, expected",
    [
        # MAX_PROBABILITY is 0.95 (the calibration's MAX_CAP)
        ({"a": 0.6, "b": 0.4}, {"a": 0.6, "b": 0.4}),
        ({"a": 0.95, "b": 0.05}, {"a": 0.95, "b": 0.05}),
        ({"a": 0.999, "b": 0.001}, {"a": 0.95, "b": 0.05}),
        ({"a": 0.0, "b": 1.0, "c": 0.0}, {"a": 0.025, "b": 0.95, "c": 0.025}),
    ],
)
def test_capped_lowers_only_the_top_and_keeps_the_sum(p, expected):
    out = capped(p)
    assert out == pytest.approx(expected)
    assert sum(out.values()) == pytest.approx(1.0)


def test_confidence_is_never_reported_as_certain():
    """BASE is RAG on every count (rules +9.75, scorer ~0.99): the blend is > 0.999."""
    r = recommend(BASE)
    cap = r.confidence_info.cap
    assert r.strategy == "rag" and r.confidence <= cap < 1.0
    assert max(r.scores.values()) <= MAX_PROBABILITY < 1.0
    assert max(r.learned.probabilities.values()) <= MAX_PROBABILITY
    assert f"(confidence {r.confidence:.0%})" in to_markdown(r)
    assert "(confidence 100%)" not in to_markdown(r)


# --- a registered strategy the scorer has never seen -----------------------------------------

TOY_RULE = {
    "id": "toy_for_permissions",
    "when": {"field": "access_control", "op": "==", "value": True},
    "effect": {"toy": 5.0, "rag": -5.0},
    "sentence": "A toy reason that fires on per-user permissions.",
    "principle": "test only",
    "citation": "this test",
}


def test_learned_over_gives_an_unlearned_strategy_the_smallest_probability():
    p = {"fine_tuning": 0.1, "rag": 0.7, "hybrid": 0.2}
    assert learned_over(p, ["rag", "toy"]) == {"rag": 0.7, "toy": 0.1}


def test_a_registered_strategy_without_cases_can_be_recommended():
    plain = recommend(BASE)
    raw = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    uniform = _fixed_model("rag")
    uniform = LinearModel(**{**uniform.__dict__, "intercept": (0.0,) * len(CLASSES)})
    STRATEGIES.register(StrategySpec("toy", "Toy", "the toy strategy", "#000000"))
    try:
        book = parse_rules({**raw, "rules": [*raw["rules"], TOY_RULE]})
        rules_only = recommend(BASE, book=book, weight=1.0)
        no_opinion = recommend(BASE, book=book, model=uniform)  # every learned p is 1/3
        blended = recommend(BASE, book=book)
        md = to_markdown(rules_only)
    finally:
        STRATEGIES.unregister("toy")
    # the rules can carry it, alone or when the scorer has no preference
    assert rules_only.strategy == rules_only.rules_pick == "toy"
    assert rules_only.rule_scores["toy"] == 5.0 and rules_only.confidence < 1.0
    assert set(rules_only.scores) == {*CLASSES, "toy"}
    assert sum(rules_only.scores.values()) == pytest.approx(1.0, abs=1e-3)
    assert no_opinion.strategy == "toy"
    # the scorer enters with its smallest probability, so it still outvotes 5 rule points here
    assert blended.strategy == "rag" and blended.scores["toy"] < blended.scores["rag"]
    # the scorer itself is untouched: same classes, same probabilities, no toy contributions
    assert blended.learned == plain.learned and set(blended.learned.probabilities) == set(CLASSES)
    assert rules_only.learned.top_contributions == []
    assert default_model().classes == CLASSES
    assert "| toy |" in md and "n/a" in md and "No labelled case names toy" in md
    assert "toy" not in STRATEGIES


# --- the command line -------------------------------------------------------------------------


def test_cli_recommend_json(tmp_path):
    out = run_cli("recommend", str(PROFILES / "internal_wiki_qa.yaml"), tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["strategy"] == "rag" and set(d["scores"]) == set(CLASSES)
    assert isinstance(d["rules"], list) and isinstance(d["learned"], dict)


def test_cli_recommend_md(tmp_path):
    args = ("recommend", str(PROFILES / "medical_triage_hybrid.yaml"), "--format", "md")
    out = run_cli(*args, tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "hybrid" in out.stdout and "## Why" in out.stdout


@pytest.mark.parametrize(
    "body, field",
    [
        ({**BASE, "latency_budget_ms": -5}, "latency_budget_ms"),
        ({**BASE, "traceability": "sometimes"}, "traceability"),
        ({k: v for k, v in BASE.items() if k != "deployment"}, "deployment"),
        ({**BASE, "gpu": "h100"}, "gpu"),
    ],
)
def test_cli_bad_profile_exits_2_naming_the_field(tmp_path, body, field):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(body))
    out = run_cli("recommend", str(p), tmp_path=tmp_path)
    assert out.returncode == 2
    assert field in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_cli_recommend_imports_nothing_heavy(tmp_path):
    """No torch/transformers/faiss (nor scikit-learn, nor numpy once the cache exists).

    How quick that makes a call is a benchmark figure (`bench/bench_cli_start.py`), not an
    assert: timings vary with the machine."""
    profile = str(PROFILES / "support_chatbot_policies.yaml")
    run_cli("recommend", profile, tmp_path=tmp_path, check=True)  # first run fills the cache
    code = (
        "import sys, io, contextlib\n"
        "from pipeline.cli import main\n"
        f"sys.argv = ['ftrag', 'recommend', {profile!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        "heavy = ['torch', 'transformers', 'faiss', 'sklearn', 'scipy', 'numpy']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "FTRAG_CACHE": str(tmp_path / "cache")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "", out.stdout


def test_cli_feedback_records_into_the_store(tmp_path):
    from pipeline.store import Store

    db = tmp_path / "fb.sqlite"
    args = [
        "advisor",
        "feedback",
        str(PROFILES / "brand_voice_copywriter.yaml"),
        "--chosen",
        "fine_tuning",
        "--outcome",
        "worked",
        "--rating",
        "4",
        "--note",
        "shipped in May",
        "--store",
        str(db),
    ]
    out = run_cli(*args, tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = Store(db).list_feedback()
    assert len(rows) == 1
    r = rows[0]
    assert (r["chosen_strategy"], r["outcome"], r["rating"], r["note"]) == (
        "fine_tuning",
        "worked",
        4,
        "shipped in May",
    )
    assert r["profile"]["name"] == "Brand voice copywriter"
    bad = run_cli(*args[:4], "--chosen", "prompting", "--outcome", "worked", tmp_path=tmp_path)
    assert bad.returncode == 2
