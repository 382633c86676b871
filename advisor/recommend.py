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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from advisor.profile import Profile
from advisor.rules import RuleBook, fired_rules, load_rules, rule_scores, rules_pick
from advisor.scorer import CLASSES, LinearModel, default_model, featurize

BLEND_WEIGHT = 0.2
RULE_TEMPERATURE = 0.5
MODEL_PATH = Path(
    os.environ.get(
        "FTRAG_ADVISOR_MODEL",
        Path(__file__).resolve().parent.parent / "models" / "advisor_scorer.json",
    )
)

LABELS = {"fine_tuning": "fine-tuning", "rag": "RAG", "hybrid": "a hybrid (fine-tuning + RAG)"}


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


@dataclass(frozen=True)
class Recommendation:
    strategy: str
    confidence: float
    scores: dict[str, float]  # blended probabilities
    rules: list[dict[str, Any]]  # fired rules: id, sentence, effect, principle, citation
    learned: dict[str, Any]  # probabilities, pick, top contributions, model facts
    rule_scores: dict[str, float]
    rules_pick: str
    disagreement: dict[str, str] | None
    similar_cases: list[dict[str, Any]]
    blend: dict[str, Any]
    profile_name: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        lines = [
            f"# Recommendation for {self.profile_name}",
            "",
            f"**{LABELS[self.strategy]}** (confidence {self.confidence:.0%})",
            "",
            "| strategy | blended | rule points | learned |",
            "|---|---|---|---|",
        ]
        for c in CLASSES:
            lines.append(
                f"| {c} | {self.scores[c]:.2f} | {self.rule_scores[c]:+.2f} | "
                f"{self.learned['probabilities'][c]:.2f} |"
            )
        if self.disagreement:
            lines += [
                "",
                f"> **Rules and learned scorer disagree.** {self.disagreement['sentence']}",
            ]
        lines += ["", "## Why: rules that fired", ""]
        for r in self.rules:
            eff = ", ".join(f"{k} {v:+g}" for k, v in r["effect"].items() if v)
            lines.append(f"- {r['sentence']} *({eff}; {r['citation']})*")
        if not self.rules:
            lines.append("- No rule fired; the learned scorer decides alone.")
        lines += ["", f"## Why: what the learned scorer saw (toward {self.strategy})", ""]
        for c in self.learned["top_contributions"]:
            lines.append(f"- `{c['feature']}` = {c['value']:g}: {c['contribution']:+.2f}")
        lines += ["", "## Closest labelled cases", ""]
        for s in self.similar_cases:
            lines.append(f"- {s['id']} -> {s['strategy']}: {s['justification']} ({s['citation']})")
        b = self.blend
        lines += [
            "",
            f"*Blend: softmax({b['weight']:g} x rule points / {b['temperature']:g} + "
            f"{1 - b['weight']:g} x log learned probability); scorer trained on "
            f"{self.learned['model'].get('n_cases', '?')} cases and "
            f"{self.learned['model'].get('n_feedback', 0)} feedback rows.*",
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
        disagreement = {
            "rules_pick": r_pick,
            "learned_pick": learned_pick,
            "sentence": (
                f"The rules favour {LABELS[r_pick]}, but labelled cases like this one point to "
                f"{LABELS[learned_pick]}; the blend picks {LABELS[strategy]}. Check the fired "
                "rules against the closest cases below before committing."
            ),
        }
    return Recommendation(
        strategy=strategy,
        confidence=round(scores[strategy], 4),
        scores={c: round(v, 4) for c, v in scores.items()},
        rules=[f.to_dict() for f in fired],
        learned={
            "probabilities": {c: round(v, 4) for c, v in p_learned.items()},
            "pick": learned_pick,
            "top_contributions": [
                {
                    "feature": f,
                    "value": round(raw[f], 4),
                    "contribution": round(v, 4),
                    "direction": "toward" if v > 0 else "against",
                }
                for f, v in top
            ],
            "contributions": {
                c: {f: round(v, 4) for f, v in d.items()} for c, d in model.contributions(x).items()
            },
            "model": {k: v for k, v in model.meta.items() if k != "cases_sha256"},
        },
        rule_scores=r_scores,
        rules_pick=r_pick,
        disagreement=disagreement,
        similar_cases=model.nearest_cases(x, 3),
        blend={"weight": weight, "temperature": temperature, "method": "log-linear pooling"},
        profile_name=profile.name,
    )
