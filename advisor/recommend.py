"""Recommendation: rules and the learned scorer, blended, with the reasons for both.

    final = softmax(weight * rule_scores / temperature + (1 - weight) * log p_learned)

Log-linear pooling (a weighted product of experts) over every registered strategy. The weight and
temperature are the ones `advisor.evaluate.choose_blend` picks by source-grouped cross-validated
log-loss (a test keeps the defaults below equal to that choice); `make scorer` and
`ftrag advisor retrain` store them with the model, and those win. The blend ships because it
beats both of its parts under source-grouped CV (`evaluate.shipped_method`); were it not to,
the model file's `method` would name the part that does, and `decision_probabilities` follows.

The confidence is not the blended probability: it is that probability calibrated on the CV
predictions (`advisor.calibration`), lowered when rules and scorer disagree or the profile is
far from every cited case, and capped below 1. `counterfactuals` lists, per other strategy, the
smallest profile change that flips the answer (`advisor.counterfactual`).

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

from advisor.calibration import MAX_CAP, Calibration
from advisor.counterfactual import search as counterfactual_search
from advisor.features import featurize
from advisor.rules import RuleBook, fired_rules, load_rules, rule_scores, rules_pick
from advisor.scorer import LinearModel, default_model
from core.profile import Profile
from core.recommendation import (
    ConfidenceInfo,
    Contribution,
    Disagreement,
    LearnedEvidence,
    Recommendation,
    SimilarCase,
)
from core.registry import STRATEGIES

BLEND_WEIGHT = 0.1  # 0.1 x rule points / T + 0.9 x learned log-probability (grouped CV choice)
RULE_TEMPERATURE = 0.5
# No reported probability goes above this: 110 labelled cases (94 cited) cannot support a claim
# of 99.9% or "100%" for any profile, yet pooling two confident experts produces such numbers.
# The confidence itself has its own, lower cap from the calibration (`Calibration.cap`).
MAX_PROBABILITY = MAX_CAP
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
    ]
    ci = rec.confidence_info
    if ci:
        lines += [f"*{ci.meaning}*", ""]
        lines += [f"> **{flag}**" for flag in ci.flags]
        if ci.flags:
            lines.append("")
    lines += [
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
    if rec.counterfactuals:
        lines += ["", "## What would change the answer", ""]
        lines += [f"- {cf.sentence}" for cf in rec.counterfactuals]
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


def decision_probabilities(
    profile: Mapping[str, Any],
    model: LinearModel,
    book: RuleBook,
    weight: float = BLEND_WEIGHT,
    temperature: float = RULE_TEMPERATURE,
    method: str = "blend",
) -> tuple[dict[str, float], dict[str, float], dict[str, float], list]:
    """(decision probabilities, rule scores, learned probabilities, fired rules) for a profile
    given as a plain mapping (no validation: the counterfactual search calls this ~1,500 times
    per profile). `method` is the one cross-validation chose to ship: the blend, or one part."""
    fired = fired_rules(profile, book)
    r_scores = rule_scores(fired)
    p_learned = model.proba(featurize(profile))
    if method == "learned":
        probs = learned_over(p_learned, STRATEGIES.values())
        total = sum(probs.values())
        probs = {s: v / total for s, v in probs.items()}
    elif method == "rules":
        probs = blend_scores(r_scores, p_learned, 1.0, temperature)
    else:
        probs = blend_scores(r_scores, p_learned, weight, temperature)
    return probs, r_scores, p_learned, fired


def confidence_info(
    p_top: float,
    disagree: bool,
    nearest: float,
    cal: Calibration,
) -> ConfidenceInfo:
    """Calibrate, flag, cap, and say in words what the number means."""
    far = nearest > cal.far_distance
    calibrated, shown = cal.apply(p_top, disagree=disagree, far=far, n_classes=len(STRATEGIES))
    b = cal.bin_for(shown)
    if b:
        right = round(b["accuracy"] * b["n"])
        meaning = (
            f"In source-grouped cross-validation on {cal.n} cited cases, recommendations made "
            f"with a confidence of {b['lo']:.0%}-{b['hi']:.0%} were right {b['accuracy']:.0%} "
            f"of the time ({right} of {b['n']}). Capped at {cal.cap:.0%}: "
            f"{cal.n} cases cannot support more."
        )
    else:
        meaning = "Uncalibrated: the scorer was fitted without cross-validation data."
    flags = []
    if disagree:
        st = cal.flag_stats.get("disagree", {})
        acc = st.get("accuracy")
        flags.append(
            "Rules and learned scorer disagree; confidence lowered"
            + (
                f" (in cross-validation such cases were right {acc:.0%} of the time, "
                f"{st.get('n')} cases)."
                if isinstance(acc, int | float)
                else "."
            )
        )
    if far:
        flags.append(
            f"This profile is far from every cited case (distance {nearest:.1f} > "
            f"{cal.far_distance:.1f}, farther than 90% of cases were from their nearest "
            "neighbour in cross-validation); confidence lowered."
        )
    return ConfidenceInfo(
        raw=round(p_top, 4),
        calibrated=round(calibrated, 4),
        shown=round(shown, 4),
        cap=cal.cap,
        method=cal.method,
        meaning=meaning,
        flags=flags,
        disagree=disagree,
        far=far,
        nearest_distance=None if math.isinf(nearest) else round(nearest, 3),
        far_distance=None if math.isinf(cal.far_distance) else cal.far_distance,
        reliability=list(cal.reliability),
    )


def recommend(
    profile: Profile | Mapping[str, Any],
    *,
    model: LinearModel | None = None,
    book: RuleBook | None = None,
    weight: float | None = None,
    temperature: float | None = None,
    top_k: int = 5,
    counterfactuals: bool = True,
) -> Recommendation:
    """Blend the rules and the learned scorer for one profile, and explain both.

    Every registered strategy is a candidate. One the learned scorer has no class for (registered
    but without labelled cases yet) enters the blend with the scorer's smallest probability for
    this profile (`learned_over`): the scorer neither vetoes nor favours it, so it wins only when
    the rules push it past the others. `learned` reports the scorer's own classes unchanged, and
    such a strategy has no feature contributions. `scores` are capped at MAX_PROBABILITY;
    `confidence` is the calibrated, flagged and capped confidence (`confidence_info` says what
    it means), never the raw blended probability.
    """
    if not isinstance(profile, Profile):
        profile = Profile.model_validate(profile)
    model = model or default_model(MODEL_PATH)
    book = book or load_rules()
    # A retrained model carries the blend parameters chosen with it; explicit arguments win.
    weight = weight if weight is not None else float(model.meta.get("blend_weight", BLEND_WEIGHT))
    temperature = temperature or float(model.meta.get("rule_temperature", RULE_TEMPERATURE))
    method = str(model.meta.get("method", "blend"))
    cal = Calibration.from_dict(model.meta.get("calibration"))

    mapping = profile.model_dump()
    probs, r_scores, p_learned, fired = decision_probabilities(
        mapping, model, book, weight, temperature, method
    )
    strategy = max(probs, key=lambda s: probs[s])
    scores = capped(probs)
    learned_pick = max(p_learned, key=lambda s: p_learned[s])
    r_pick = rules_pick(r_scores)

    x = featurize(profile)
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
    info = confidence_info(
        probs[strategy], disagreement is not None, model.nearest_distance(x), cal
    )
    cfs = []
    if counterfactuals:
        cfs = counterfactual_search(
            mapping,
            lambda m: decision_probabilities(m, model, book, weight, temperature, method)[0],
        )
    return Recommendation(
        strategy=strategy,
        confidence=info.shown,
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
            model={
                k: v
                for k, v in model.meta.items()
                if k not in ("cases_sha256", "calibration", "cv_accuracy")
            },
        ),
        rule_scores=r_scores,
        rules_pick=r_pick,
        disagreement=disagreement,
        similar_cases=[SimilarCase.from_dict(c) for c in model.nearest_cases(x, 3)],
        blend={
            "weight": weight,
            "temperature": temperature,
            "method": "log-linear pooling" if method == "blend" else f"{method} only",
        },
        profile_name=profile.name,
        confidence_info=info,
        counterfactuals=cfs,
    )
