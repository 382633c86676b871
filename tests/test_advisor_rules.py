"""Rules engine: the condition language, the rule file's validation, and which rules fire."""

from __future__ import annotations

import pytest
import yaml

from advisor.rules import (
    RULES_PATH,
    fired_rules,
    load_rules,
    parse_condition,
    parse_rules,
    rule_scores,
    rules_pick,
)
from core.errors import ConfigError
from core.profile import Profile
from core.registry import STRATEGIES, StrategySpec

BASE = dict(
    name="base",
    task="knowledge_qa",
    knowledge_update_frequency="quarterly",
    latency_budget_ms=3000,
    traceability="none",
    style_consistency="medium",
    structured_output=False,
    knowledge_base_tokens=1_000_000,
    labeled_examples=500,
    queries_per_month=100_000,
    deployment="cloud_api",
    ml_maturity="medium",
    access_control=False,
)


def profile(**changes) -> dict:
    return Profile.model_validate({**BASE, **changes}).model_dump()


def fired_ids(p: dict) -> set[str]:
    return {f.id for f in fired_rules(p)}


# --- the condition language -----------------------------------------------------------------


@pytest.mark.parametrize(
    "cond, changes, expected",
    [
        # ordinal comparison follows the schema's order, not the alphabet
        ({"field": "knowledge_update_frequency", "op": ">=", "value": "weekly"}, {}, False),
        (
            {"field": "knowledge_update_frequency", "op": ">=", "value": "weekly"},
            {"knowledge_update_frequency": "realtime"},
            True,
        ),
        (
            {"field": "knowledge_update_frequency", "op": "<", "value": "monthly"},
            {"knowledge_update_frequency": "quarterly"},
            True,
        ),
        ({"field": "style_consistency", "op": ">", "value": "low"}, {}, True),
        ({"field": "traceability", "op": "<=", "value": "none"}, {}, True),
        # numbers compare as numbers
        ({"field": "latency_budget_ms", "op": "<", "value": 600}, {"latency_budget_ms": 599}, True),
        (
            {"field": "latency_budget_ms", "op": "<", "value": 600},
            {"latency_budget_ms": 600},
            False,
        ),
        ({"field": "access_control", "op": "==", "value": True}, {"access_control": True}, True),
        ({"field": "task", "op": "in", "value": ["classification", "extraction"]}, {}, False),
        ({"field": "task", "op": "not_in", "value": ["classification"]}, {}, True),
        ({"field": "deployment", "op": "!=", "value": "cloud_api"}, {}, False),
        # optional fields: unset satisfies `exists: false` and no comparison
        ({"field": "monthly_budget_usd", "op": "exists", "value": False}, {}, True),
        ({"field": "monthly_budget_usd", "op": "<", "value": 500}, {}, False),
        (
            {"field": "monthly_budget_usd", "op": "<", "value": 500},
            {"monthly_budget_usd": 100},
            True,
        ),
        # combinators
        (
            {
                "all": [
                    {"field": "structured_output", "op": "==", "value": True},
                    {"field": "labeled_examples", "op": ">=", "value": 100},
                ]
            },
            {"structured_output": True},
            True,
        ),
        (
            {
                "any": [
                    {"field": "structured_output", "op": "==", "value": True},
                    {"field": "labeled_examples", "op": ">=", "value": 10_000},
                ]
            },
            {},
            False,
        ),
        ({"not": {"field": "access_control", "op": "==", "value": True}}, {}, True),
    ],
)
def test_condition_language(cond, changes, expected):
    assert parse_condition(cond).matches(profile(**changes)) is expected


@pytest.mark.parametrize(
    "cond, message",
    [
        ({"field": "colour", "op": "==", "value": "red"}, "unknown profile field 'colour'"),
        ({"field": "task", "op": "~", "value": "x"}, "when.op"),
        ({"field": "knowledge_update_frequency", "op": ">=", "value": "hourly"}, "'hourly'"),
        ({"field": "task", "op": ">", "value": "extraction"}, "needs an ordered field"),
        ({"field": "latency_budget_ms", "op": "<", "value": "fast"}, "is a number"),
        ({"field": "task", "op": "in", "value": "extraction"}, "needs a list"),
        ({"field": "task", "op": "==", "value": "x", "extra": 1}, "when.extra"),
        ({"all": []}, "non-empty list"),
        ({"all": [{"field": "task", "op": "==", "value": "x"}]}, "when.all[0]"),
        ({"any": [], "all": []}, "must be the only key"),
        ("task == x", "expected a mapping"),
    ],
)
def test_condition_errors_name_the_place(cond, message):
    with pytest.raises(ValueError) as exc:
        parse_condition(cond)
    assert message in str(exc.value)


# --- the rule file ----------------------------------------------------------------------------

GOOD_RULE = {
    "id": "r1",
    "when": {"field": "access_control", "op": "==", "value": True},
    "effect": {"rag": 1.0},
    "sentence": "Per-user permissions need retrieval.",
    "principle": "ACLs live in the index",
    "citation": "somewhere 2024",
}


@pytest.mark.parametrize(
    "rule_changes, expected",
    [
        ({"effect": {"rag": 1.0, "prompting": 2}}, "rule `r1`: effect.prompting: unknown key"),
        ({"effect": {"rag": 9}}, "rule `r1`: effect.rag"),
        ({"when": {"field": "nope", "op": "==", "value": 1}}, "rule `r1`: when: when: unknown"),
        ({"sentence": None}, "rule `r1`: sentence"),
        ({"id": "Bad Id"}, "rule `Bad Id`: id"),
        ({"colour": "red"}, "rule `r1`: colour: unknown key"),
    ],
)
def test_rule_file_errors_name_rule_and_field(rule_changes, expected):
    rule = {**GOOD_RULE, **rule_changes}
    with pytest.raises(ConfigError) as exc:
        parse_rules({"rules": [rule]}, "rules.yaml")
    assert any(expected in line for line in exc.value.lines()), exc.value.lines()


def test_duplicate_rule_ids_are_rejected():
    with pytest.raises(ConfigError, match="duplicate id"):
        parse_rules({"rules": [GOOD_RULE, GOOD_RULE]})


def test_shipped_rules_load_and_cover_every_required_dimension():
    book = load_rules()
    fields_used = set()

    def walk(c):
        if hasattr(c, "field"):
            fields_used.add(c.field)
        else:
            for part in c.parts:
                walk(part)

    for r in book.rules:
        walk(r.when)
        assert r.citation and r.sentence.endswith(".")
    required = {
        "knowledge_update_frequency",
        "traceability",
        "latency_budget_ms",
        "style_consistency",
        "structured_output",
        "labeled_examples",
        "knowledge_base_tokens",
        "queries_per_month",
        "deployment",
        "ml_maturity",
        "access_control",
    }
    assert required <= fields_used


# --- which rules fire, and where they push ---------------------------------------------------


@pytest.mark.parametrize(
    "changes, must_fire, must_not_fire",
    [
        (
            {"knowledge_update_frequency": "weekly"},
            {"updates_weekly_or_faster"},
            {"updates_monthly"},
        ),
        ({"knowledge_update_frequency": "monthly"}, {"updates_monthly"}, set()),
        # stable knowledge is no reason to train facts in (Ovadia et al.): no rule fires on it
        (
            {"knowledge_update_frequency": "never"},
            set(),
            {"updates_monthly", "updates_weekly_or_faster"},
        ),
        ({"traceability": "required"}, {"citations_required"}, {"citations_preferred"}),
        ({"access_control": True}, {"per_user_permissions"}, set()),
        ({"latency_budget_ms": 300}, {"latency_tight"}, {"latency_moderate"}),
        ({"latency_budget_ms": 1000}, {"latency_moderate"}, {"latency_tight"}),
        ({"style_consistency": "high"}, {"style_strict"}, {"style_loose"}),
        ({"structured_output": True}, {"structured_output"}, set()),
        # OpenAI reports gains from 50-100 examples: 49 is scarce, 50 is not
        ({"labeled_examples": 49}, {"labels_scarce"}, {"labels_plenty"}),
        ({"labeled_examples": 50}, set(), {"labels_scarce", "labels_plenty"}),
        ({"labeled_examples": 5000}, {"labels_plenty"}, {"labels_scarce"}),
        ({"knowledge_base_tokens": 50_000_000}, {"knowledge_large"}, {"no_knowledge_base"}),
        ({"knowledge_base_tokens": 0}, {"no_knowledge_base"}, {"knowledge_large"}),
        ({"queries_per_month": 5_000_000}, {"high_query_volume"}, {"low_query_volume"}),
        # deployment alone says nothing about model size: no fine-tuning bonus for it
        ({"deployment": "on_premises"}, set(), {"cloud_api_only"}),
        ({"ml_maturity": "low"}, {"team_cannot_train"}, {"team_can_train"}),
        ({"monthly_budget_usd": 100}, {"tight_budget"}, set()),
        ({"monthly_budget_usd": 10_000}, set(), {"tight_budget"}),
        (
            {"style_consistency": "high", "traceability": "required", "labeled_examples": 2000},
            {"form_and_fresh_facts"},
            set(),
        ),
        (  # same, but a team that cannot train gets no hybrid bonus
            {
                "style_consistency": "high",
                "traceability": "required",
                "labeled_examples": 2000,
                "ml_maturity": "low",
            },
            set(),
            {"form_and_fresh_facts"},
        ),
    ],
)
def test_rule_firing(changes, must_fire, must_not_fire):
    ids = fired_ids(profile(**changes))
    assert must_fire <= ids
    assert not (must_not_fire & ids)


@pytest.mark.parametrize(
    "changes, expected",
    [
        # facts that change fast, must be cited, behind per-user permissions: RAG
        (
            dict(knowledge_update_frequency="daily", traceability="required", access_control=True),
            "rag",
        ),
        # static behaviour task at high volume and tight latency: fine-tune
        (
            dict(
                task="classification",
                knowledge_update_frequency="never",
                latency_budget_ms=300,
                structured_output=True,
                knowledge_base_tokens=0,
                labeled_examples=20_000,
                queries_per_month=5_000_000,
            ),
            "fine_tuning",
        ),
        # fixed form + fresh cited facts + data + a capable team: hybrid
        (
            dict(
                task="customer_support",
                knowledge_update_frequency="weekly",
                traceability="required",
                style_consistency="high",
                structured_output=True,
                labeled_examples=5000,
                knowledge_base_tokens=20_000_000,
                deployment="private_cloud",
                ml_maturity="high",
            ),
            "hybrid",
        ),
    ],
)
def test_rules_pick(changes, expected):
    assert rules_pick(rule_scores(fired_rules(profile(**changes)))) == expected


def test_adding_a_rule_is_adding_a_row():
    raw = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    p = profile()
    before = rule_scores(fired_rules(p, parse_rules(raw)))
    raw["rules"].append(
        {
            **GOOD_RULE,
            "id": "always_rag",
            "when": {"field": "labeled_examples", "op": ">=", "value": 0},
            "effect": {"rag": 3.0},
        }
    )
    fired = fired_rules(p, parse_rules(raw))
    assert fired[-1].id == "always_rag"
    after = rule_scores(fired)
    assert after == {**before, "rag": before["rag"] + 3.0}


def test_ties_prefer_rag_then_hybrid():
    assert rules_pick({"fine_tuning": 0.0, "rag": 0.0, "hybrid": 0.0}) == "rag"
    assert rules_pick({"fine_tuning": 1.0, "rag": 0.0, "hybrid": 1.0}) == "hybrid"


# --- rules follow the strategy registry -------------------------------------------------------


@pytest.fixture
def toy():
    """A strategy registered only for the test (no rule column in data/, no cases)."""
    spec = STRATEGIES.register(
        StrategySpec("toy", "Toy", "the toy strategy", "#000000", tie_rank=-1)
    )
    try:
        yield spec
    finally:
        STRATEGIES.unregister("toy")


def test_an_unregistered_strategy_in_an_effect_names_rule_and_key():
    with pytest.raises(ConfigError) as exc:
        parse_rules({"rules": [{**GOOD_RULE, "effect": {"rag": 1.0, "toy": 2.0}}]}, "rules.yaml")
    (line,) = exc.value.lines()
    assert line.startswith("rules.yaml: rule `r1`: effect.toy: unknown key")
    assert "not a registered strategy (known: fine_tuning, rag, hybrid)" in line


def test_effects_and_scores_cover_every_registered_strategy(toy):
    book = parse_rules({"rules": [{**GOOD_RULE, "effect": {"toy": 2.0}}]})
    fired = fired_rules(profile(access_control=True), book)
    assert fired[0].effect == {"fine_tuning": 0.0, "rag": 0.0, "hybrid": 0.0, "toy": 2.0}
    assert rule_scores(fired) == {"fine_tuning": 0.0, "rag": 0.0, "hybrid": 0.0, "toy": 2.0}
    assert rules_pick(rule_scores(fired)) == "toy"


def test_ties_follow_the_registry_tie_rank(toy):
    # toy's tie_rank (-1) is below RAG's (0), so it now wins a four-way tie
    assert rules_pick({"fine_tuning": 0.0, "rag": 0.0, "hybrid": 0.0, "toy": 0.0}) == "toy"
    assert rules_pick({"fine_tuning": 0.0, "rag": 0.0, "hybrid": 0.0}) == "toy"  # absent = 0
