"""The recommendation section: blended scores, the rules that fired, the learned scorer's view,
what the confidence means (with its reliability diagram) and what would change the answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


def reliability_figure(bins: Sequence[Mapping[str, Any]], shown: float | None = None):
    """Reliability diagram of the advisor's confidence: per cross-validation confidence bin,
    the share of recommendations that were right, against the diagonal a calibrated advisor
    would follow. Marker size is the number of cases; `shown` marks this recommendation's
    confidence. The app and the report draw this same figure."""
    import plotly.graph_objects as go

    filled = [b for b in bins if b.get("n")]
    fig = go.Figure()
    fig.add_scatter(
        x=[1 / 3, 1],
        y=[1 / 3, 1],
        mode="lines",
        line=dict(color="#999", dash="dash"),
        name="perfectly calibrated",
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=[b["confidence"] for b in filled],
        y=[b["accuracy"] for b in filled],
        mode="lines+markers+text",
        marker=dict(size=[8 + 2 * b["n"] ** 0.5 for b in filled], color="#1b9e77"),
        text=[f"n={b['n']}" for b in filled],
        textposition="top center",
        name="cross-validated cases",
        hovertemplate="confidence %{x:.0%}: right %{y:.0%}<extra></extra>",
    )
    if shown is not None:
        fig.add_vline(
            x=shown,
            line=dict(color="#d95f02", width=2),
            annotation_text=f"this recommendation: {shown:.0%}",
            annotation_position="bottom right",
        )
    fig.update_layout(
        template="plotly_white",
        title="What the confidence means (source-grouped cross-validation)",
        xaxis=dict(title="confidence", tickformat=".0%", range=[0.3, 1.02]),
        yaxis=dict(title="share right", tickformat=".0%", range=[0, 1.05]),
        height=360,
        margin=dict(t=50, b=40),
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def _reliability_table(rec: Recommendation) -> Table | None:
    ci = rec.confidence_info
    rows = [
        [
            f"{b['lo']:.0%}-{b['hi']:.0%}",
            str(b["n"]),
            pct(b["confidence"], 0),
            pct(b["accuracy"], 0),
        ]
        for b in (ci.reliability if ci else [])
        if b.get("n")
    ]
    if not rows:
        return None
    return Table(
        "reliability",
        ["Confidence bin", "Cases", "Mean confidence", "Right"],
        rows,
        caption="Source-grouped cross-validation: recommendations made with confidence in each "
        "bin, and the share of them that matched the cited case's label.",
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
        # issue 17: absent (None / empty) for decisions made before calibration existed
        "confidence_meaning": rec.confidence_info.meaning if rec.confidence_info else None,
        "confidence_flags": list(rec.confidence_info.flags) if rec.confidence_info else [],
        "reliability": _reliability_table(rec),
        "counterfactuals": [cf.sentence for cf in rec.counterfactuals],
    }
