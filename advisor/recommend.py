"""Recommendation: rules and the learned scorer, blended, with the reasons for both.

    final = softmax(weight * rule_scores / temperature + (1 - weight) * log p_learned)

Log-linear pooling (a weighted product of experts) over every registered strategy. The weight and
temperature are the ones `advisor.evaluate.choose_blend` picks by cross-validated log-loss (a
test keeps the defaults below equal to that choice; the measurements are in the README);
`ftrag advisor retrain` re-chooses them and stores them with the model, and those win.

Imports stay light (pydantic, yaml; not numpy, never scikit-learn): the scorer's JSON
coefficients are read from `data/advisor_scorer.json` (or the user cache), so `ftrag recommend`
spends its time starting Python, not thinking. Only a case library that no longer matches the
shipped fit makes the first run fit the scorer (scikit-learn).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from advisor.features import featurize
from advisor.rules import RuleBook, fired_rules, load_rules, rule_scores, rules_pick
from advisor.scorer import LinearModel, default_model
from core.profile import Profile
from core.recommendation import (
    Contribution,
    Disagreement,
    LearnedEvidence,
    Recommendation,
    SimilarCase,
)
from core.registry import STRATEGIES

BLEND_WEIGHT = 0.2  # 0.4 x rule points + 0.8 x learned log-probability, with the temperature
RULE_TEMPERATURE = 0.5
# No reported probability goes above this. 115 labelled cases (99 cited) cannot support a claim
# of 99.9% or "100%" for any profile, yet pooling two confident experts produces such numbers.
# This caps what is shown; calibrating the blend itself is a separate piece of work.
MAX_PROBABILITY = 0.99
MODEL_PATH = Path(
    os.environ.get(
        "FTRAG_ADVISOR_MODEL",
        Path(__file__).resolve().parent.parent / "models" / "advisor_scorer.json",
    )
)


def phrase(strategy: str) -> str:
    return STRATEGIES.get(strategy).phrase


def learned_over(p_learned: Mapping[str, float], strategies: Iterable[str]) -> dict[str, float]:
    """The learned probabilities for `strategies`; one the scorer has no class for (registered,
    but no labelled case yet) gets the smallest probability the scorer gives this profile: no
    evidence for it, so no better than the scorer's least-favoured strategy."""
    floor = min(p_learned.values())
    return {s: p_learned.get(s, floor) for s in strategies}


def blend_scores(
    rule_s: Mapping[str, float], p_learned: Mapping[str, float], weight: float, temperature: float
) -> dict[str, float]:
    """The documented blend for one profile, over every registered strategy (`advisor.evaluate`
    scores this same function).

    Rule scores are read as log-odds evidence and learned probabilities as log-probabilities; a
    weighted product of experts lets agreeing experts reinforce each other and lets a confident
    expert overrule a hesitant one.
    """
    p = learned_over(p_learned, STRATEGIES.values())
    logits = {
        s: weight * rule_s.get(s, 0.0) / temperature + (1 - weight) * math.log(max(v, 1e-9))
        for s, v in p.items()
    }
    top = max(logits.values())
    e = {s: math.exp(v - top) for s, v in logits.items()}
    total = sum(e.values())
    return {s: v / total for s, v in e.items()}


def capped(p: Mapping[str, float], cap: float = MAX_PROBABILITY) -> dict[str, float]:
    """`p` with its largest value lowered to `cap` and the excess shared equally by the others,
    so it still sums to 1 (see MAX_PROBABILITY)."""
    top = max(p, key=lambda s: p[s])
    excess = p[top] - cap
    if excess <= 0 or len(p) < 2:
        return dict(p)
    share = excess / (len(p) - 1)
    return {s: cap if s == top else v + share for s, v in p.items()}


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
    for s in rec.scores:
        learned = rec.learned.probabilities.get(s)
        lines.append(
            f"| {s} | {rec.scores[s]:.2f} | {rec.rule_scores.get(s, 0.0):+.2f} | "
            + ("n/a" if learned is None else f"{learned:.2f}")
            + " |"
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
    if rec.strategy not in rec.learned.probabilities:
        lines.append(f"- No labelled case names {rec.strategy} yet; the rules carried it.")
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
    """Blend the rules and the learned scorer for one profile, and explain both.

    Every registered strategy is a candidate. One the learned scorer has no class for (registered
    but without labelled cases yet) enters the blend with the scorer's smallest probability for
    this profile (`learned_over`): the scorer neither vetoes nor favours it, so it wins only when
    the rules push it past the others. `learned` reports the scorer's own classes unchanged, and
    such a strategy has no feature contributions. Reported probabilities are capped at
    MAX_PROBABILITY; `confidence` is the recommended strategy's blended (capped) probability.
    """
    if not isinstance(profile, Profile):
        profile = Profile.model_validate(profile)
    model = model or default_model(MODEL_PATH)
    # A retrained model carries the blend parameters chosen with it; explicit arguments win.
    weight = weight if weight is not None else float(model.meta.get("blend_weight", BLEND_WEIGHT))
    temperature = temperature or float(model.meta.get("rule_temperature", RULE_TEMPERATURE))

    fired = fired_rules(profile, book or load_rules())
    r_scores = rule_scores(fired)
    x = featurize(profile)
    p_learned = model.proba(x)
    blended = blend_scores(r_scores, p_learned, weight, temperature)
    strategy = max(blended, key=lambda s: blended[s])
    scores = capped(blended)
    learned_pick = max(p_learned, key=lambda s: p_learned[s])
    r_pick = rules_pick(r_scores)

    contributions = model.contributions(x)
    raw = dict(zip(model.feature_names, x, strict=True))
    top = sorted(contributions.get(strategy, {}).items(), key=lambda kv: -abs(kv[1]))[:top_k]
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
        scores={s: round(v, 4) for s, v in scores.items()},
        rules=fired,
        learned=LearnedEvidence(
            probabilities={s: round(v, 4) for s, v in capped(p_learned).items()},
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
                s: {f: round(v, 4) for f, v in d.items()} for s, d in contributions.items()
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
