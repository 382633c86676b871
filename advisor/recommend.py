"""Recommendation: rules and the learned scorer, blended, with the reasons for both.

    final = softmax(BLEND_WEIGHT * rule_scores / RULE_TEMPERATURE
                    + (1 - BLEND_WEIGHT) * log p_learned)

Log-linear pooling (a weighted product of experts). The weight and temperature are chosen by
cross-validated log-loss on the non-synthetic cases (`advisor.evaluate.choose_blend`, inner
5-fold, grid w in 0..1 step 0.1, T in {0.5, 1, 2, 4, 8}); on 2026-11-24 with 99 non-synthetic
cases that gave w=0.2, T=0.5, i.e. 0.4 x rule points + 0.8 x learned log-probability. Nested
5-fold CV accuracy then: rules-only 0.838, learned-only 0.838, blended 0.879 (log-loss 0.31 vs
0.38 learned-only). Linear pooling of the same parts scored 0.869 (log-loss 0.35), so the log
form was kept. `ftrag advisor retrain` re-chooses w and T and stores them with the model.

`confidence` is the blended probability of the recommended strategy. Imports stay light
(pydantic, yaml; not numpy, never scikit-learn): the scorer's JSON coefficients are read from the
user cache, so `ftrag recommend` spends its time starting Python, not thinking.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from advisor.rules import RuleBook, fired_rules, load_rules, rule_scores, rules_pick
from advisor.scorer import CLASSES, LinearModel, default_model, featurize
from core.profile import Profile
from core.recommendation import (
    Contribution,
    Disagreement,
    LearnedEvidence,
    Recommendation,
    SimilarCase,
)
from core.registry import STRATEGIES

BLEND_WEIGHT = 0.2
RULE_TEMPERATURE = 0.5
MODEL_PATH = Path(
    os.environ.get(
        "FTRAG_ADVISOR_MODEL",
        Path(__file__).resolve().parent.parent / "models" / "advisor_scorer.json",
    )
)


def phrase(strategy: str) -> str:
    return STRATEGIES.get(strategy).phrase


def blend_scores(
    rule_s: Mapping[str, float], p_learned: Mapping[str, float], weight: float, temperature: float
) -> dict[str, float]:
    """The documented blend, for one profile (same formula as `advisor.evaluate.blend`)."""
    logits = {
        c: weight * rule_s[c] / temperature + (1 - weight) * math.log(max(p_learned[c], 1e-9))
        for c in CLASSES
    }
    top = max(logits.values())
    e = {c: math.exp(v - top) for c, v in logits.items()}
    total = sum(e.values())
    return {c: v / total for c, v in e.items()}


def to_markdown(rec: Recommendation) -> str:
    """`ftrag recommend --format md`: the recommendation and both kinds of evidence."""
    lines = [
        f"# Recommendation for {rec.profile_name}",
        "",
        f"**{STRATEGIES.get(rec.strategy).phrase}** (confidence {rec.confidence:.0%})",
        "",
        "| strategy | blended | rule points | learned |",
        "|---|---|---|---|",
    ]
    for c in rec.scores:
        lines.append(
            f"| {c} | {rec.scores[c]:.2f} | {rec.rule_scores.get(c, 0.0):+.2f} | "
            f"{rec.learned.probabilities.get(c, 0.0):.2f} |"
        )
    if rec.disagreement:
        lines += ["", f"> **Rules and learned scorer disagree.** {rec.disagreement.sentence}"]
    lines += ["", "## Why: rules that fired", ""]
    for r in rec.rules:
        eff = ", ".join(f"{k} {v:+g}" for k, v in r.effect.items() if v)
        lines.append(f"- {r.sentence} *({eff}; {r.citation})*")
    if not rec.rules:
        lines.append("- No rule fired; the learned scorer decides alone.")
    lines += ["", f"## Why: what the learned scorer saw (toward {rec.strategy})", ""]
    for c in rec.learned.top_contributions:
        lines.append(f"- `{c.feature}` = {c.value:g}: {c.contribution:+.2f}")
    lines += ["", "## Closest labelled cases", ""]
    for sc in rec.similar_cases:
        lines.append(f"- {sc.id} -> {sc.strategy}: {sc.justification} ({sc.citation})")
    b = rec.blend
    lines += [
        "",
        f"*Blend: softmax({b['weight']:g} x rule points / {b['temperature']:g} + "
        f"{1 - b['weight']:g} x log learned probability); scorer trained on "
        f"{rec.learned.model.get('n_cases', '?')} cases and "
        f"{rec.learned.model.get('n_feedback', 0)} feedback rows.*",
    ]
    return "\n".join(lines) + "\n"


def recommend(
    profile: Profile | Mapping[str, Any],
    *,
    model: LinearModel | None = None,
    book: RuleBook | None = None,
    weight: float | None = None,
    temperature: float | None = None,
    top_k: int = 5,
) -> Recommendation:
    """Blend the rules and the learned scorer for one profile, and explain both."""
    if not isinstance(profile, Profile):
        profile = Profile.model_validate(profile)
    model = model or default_model(MODEL_PATH)
    # A retrained model carries the blend parameters chosen with it; explicit arguments win.
    weight = weight if weight is not None else model.meta.get("blend_weight", BLEND_WEIGHT)
    temperature = temperature or model.meta.get("rule_temperature", RULE_TEMPERATURE)

    fired = fired_rules(profile, book or load_rules())
    r_scores = rule_scores(fired)
    x = featurize(profile)
    p_learned = model.proba(x)
    scores = blend_scores(r_scores, p_learned, weight, temperature)
    strategy = max(CLASSES, key=lambda c: scores[c])
    learned_pick = max(CLASSES, key=lambda c: p_learned[c])
    r_pick = rules_pick(r_scores)

    contributions = model.contributions(x)
    contrib = contributions[strategy]
    raw = dict(zip(model.feature_names, x, strict=True))
    top = sorted(contrib.items(), key=lambda kv: -abs(kv[1]))[:top_k]
    disagreement = None
    if r_pick != learned_pick:
        disagreement = Disagreement(
            rules_pick=r_pick,
            learned_pick=learned_pick,
            sentence=(
                f"The rules favour {phrase(r_pick)}, but labelled cases like this one point to "
                f"{phrase(learned_pick)}; the blend picks {phrase(strategy)}. Check the fired "
                "rules against the closest cases below before committing."
            ),
        )
    return Recommendation(
        strategy=strategy,
        confidence=round(scores[strategy], 4),
        scores={c: round(v, 4) for c, v in scores.items()},
        rules=fired,
        learned=LearnedEvidence(
            probabilities={c: round(v, 4) for c, v in p_learned.items()},
            pick=learned_pick,
            top_contributions=[
                Contribution(
                    feature=f,
                    value=round(raw[f], 4),
                    contribution=round(v, 4),
                    direction="toward" if v > 0 else "against",
                )
                for f, v in top
            ],
            contributions={
                c: {f: round(v, 4) for f, v in d.items()} for c, d in contributions.items()
            },
            model={k: v for k, v in model.meta.items() if k != "cases_sha256"},
        ),
        rule_scores=r_scores,
        rules_pick=r_pick,
        disagreement=disagreement,
        similar_cases=[SimilarCase.from_dict(c) for c in model.nearest_cases(x, 3)],
        blend={"weight": weight, "temperature": temperature, "method": "log-linear pooling"},
        profile_name=profile.name,
    )
