"""The recommendation section: blended scores, the rules that fired, the learned scorer's view."""

from __future__ import annotations

from core.recommendation import Recommendation, feature_label, feature_value
from core.registry import STRATEGIES
from report.table import Table
from report.text import NA, as_number, in_order, pct, url_text


def _effect_text(effect: dict[str, float]) -> str:
    parts = [
        f"{STRATEGIES.label(s).split(' ')[0]} {effect[s]:+g}"
        for s in in_order(effect, STRATEGIES)
        if effect[s]
    ]
    return ", ".join(parts) or "no change"


def _scores_table(rec: Recommendation) -> Table:
    probs = rec.learned.probabilities
    order = in_order([*rec.scores, *probs, *rec.rule_scores], STRATEGIES)
    rows = [
        [
            STRATEGIES.label(s),
            pct(rec.scores.get(s)),
            f"{rec.rule_scores[s]:+g}" if s in rec.rule_scores else NA,
            pct(probs.get(s)),
        ]
        for s in order
    ]
    blend = rec.blend
    how = ""
    if (
        as_number(blend.get("weight")) is not None
        and as_number(blend.get("temperature")) is not None
    ):
        w, t = float(blend["weight"]), float(blend["temperature"])
        how = (
            f" The blend is softmax({w:g} x rule points / {t:g} + {1 - w:g} x log learned "
            f"probability) ({blend.get('method', 'log-linear pooling')})."
        )
    return Table(
        "scores",
        ["Strategy", "Blended", "Rule points", "Learned"],
        rows,
        caption="Blended is the probability the recommendation ranks by; rule points sum the "
        "effects of the rules that fired; learned is the probability from the scorer trained "
        "on the labelled case library." + how,
        highlight=[i for i, s in enumerate(order) if s == rec.strategy],
    )


def _contributions_table(rec: Recommendation) -> Table | None:
    """The features that pushed the learned scorer most: its own top list, or else the five
    largest logit contributions toward the recommended strategy."""
    if rec.learned.top_contributions:
        rows = [
            [
                feature_label(c.feature),
                feature_value(c.feature, c.value),
                f"{c.contribution:+.2f}",
                c.direction,
            ]
            for c in rec.learned.top_contributions
        ]
    else:
        contrib = rec.learned.contributions.get(rec.strategy) or {}
        pairs = sorted(contrib.items(), key=lambda kv: -abs(kv[1]))[:5]
        rows = [
            [feature_label(k), NA, f"{v:+.2f}", "toward" if v > 0 else "against"]
            for k, v in pairs
            if v
        ]
    if not rows:
        return None
    model = rec.learned.model
    trained = ""
    if model.get("n_cases") is not None:
        trained = f" Scorer trained on {model['n_cases']} cases" + (
            f" and {model.get('n_feedback', 0)} feedback rows." if "n_feedback" in model else "."
        )
    return Table(
        "contributions",
        ["Feature", "Value", "Push", "Direction"],
        rows,
        align=["l", "r", "r", "l"],
        caption=f"The profile answers that pushed the learned scorer most toward or against "
        f"{STRATEGIES.label(rec.strategy)}. Push is how far each answer moves that strategy's "
        "score against the others, compared with an average profile (positive: toward)." + trained,
    )


def _similar_table(rec: Recommendation) -> Table | None:
    rows = [
        [c.id, STRATEGIES.label(c.strategy), c.justification, c.citation] for c in rec.similar_cases
    ]
    if not rows:
        return None
    return Table(
        "similar-cases",
        ["Case", "Chose", "Why", "Source"],
        rows,
        align=["l", "l", "l", "l"],
        caption="The closest labelled cases in the scorer's feature space.",
    )


def recommendation_section(rec: Recommendation) -> dict:
    return {
        "strategy": rec.strategy,
        "label": STRATEGIES.label(rec.strategy),
        "confidence": pct(rec.confidence, 0),
        "scores": _scores_table(rec),
        "rules": [
            {
                "id": r.id,
                "sentence": r.sentence,
                "effect": _effect_text(r.effect),
                "principle": r.principle,
                "citation": r.citation,
                "url": url_text(r.url),
            }
            for r in rec.rules
        ],
        "rules_pick": STRATEGIES.label(rec.rules_pick) if rec.rules_pick else None,
        "contributions": _contributions_table(rec),
        "similar": _similar_table(rec),
        "learned_pick": STRATEGIES.label(rec.learned.pick) if rec.learned.pick else None,
        "disagreement": rec.disagreement.sentence if rec.disagreement else None,
    }
