"""The budgets check the report prints first: the recommendation held against the simulated
latency and cost (`core.feasibility.assess`), and the verdict that follows from it."""

from __future__ import annotations

from core.decision import Decision
from core.feasibility import Feasibility, assess
from core.registry import STRATEGIES
from report.text import pct


def feasibility_of(decision: Decision) -> Feasibility | None:
    """None without a simulation: nothing to hold the budgets against."""
    if decision.simulation is None:
        return None
    return assess(decision.recommendation, decision.simulation, decision.profile)


def verdict(decision: Decision) -> dict:
    """What the cover and the recommendation section print: the strategy to recommend once
    the budgets are applied, its score, and the warnings that come before it."""
    rec = decision.recommendation
    f = feasibility_of(decision)
    pick = f.pick if f else rec.strategy
    return {
        "strategy": pick,
        "label": STRATEGIES.label(pick),
        "confidence": pct(rec.scores.get(pick, rec.confidence), 0),
        # A strategy picked for the budgets over the advisor's choice has a score, not the
        # advisor's confidence in it.
        "score_name": "advisor score" if f and f.changed else "confidence",
        "changed": bool(f and f.changed),
        "advisor_label": STRATEGIES.label(rec.strategy),
        "warnings": list(f.warnings) if f else [],
    }
