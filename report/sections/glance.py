"""The at-a-glance sentences on page one: every number in them comes from a later section."""

from __future__ import annotations

from core.decision import Decision
from core.registry import ROWS, STRATEGIES
from core.simulation import COST_COMPONENTS, component_kind
from report.sections.feasibility import verdict
from report.sections.prototype import ordered_results
from report.sections.simulation import component_totals
from report.text import day_of, in_order, max_of, num, pct, usd

label = STRATEGIES.label


def glance(decision: Decision) -> list[str]:
    """Four or five sentences a reader gets from page one."""
    rec = decision.recommendation
    v = verdict(decision)
    if v["changed"]:
        first = (
            f"Recommended within the budgets: {v['label']} (score {v['confidence']}); "
            f"on the use case alone, {v['advisor_label']} (confidence {pct(rec.confidence, 0)})."
        )
    elif v["warnings"]:
        first = (
            f"Recommended: {v['label']} (confidence {v['confidence']}), although it does not "
            "meet the budgets above."
        )
    else:
        first = f"Recommended: {v['label']} (confidence {v['confidence']})."
    out = [first]
    if rec.disagreement:
        out.append("The rules and the learned scorer disagree; see the recommendation section.")
    sim = decision.simulation
    if sim:
        by = sim.rows_by_strategy()
        order = in_order(by, STRATEGIES)
        cost, stale_col = sim.central("cumulative_cost_usd"), sim.central("stale_fraction")
        totals = ", ".join(f"{label(s)} {usd(by[s][-1].get(cost))}" for s in order)
        how = "median of the Monte Carlo draws" if sim.is_drawn() else "central estimate"
        out.append(f"Cost over {sim.months} months ({how}): {totals}.")
        stale = ", ".join(
            f"{label(s)} {pct(max_of(r.get(stale_col) for r in by[s]), 0)}" for s in order
        )
        out.append(f"Peak share of stale knowledge: {stale}.")
        totals = component_totals(sim)
        people = {
            s: sum(v for c, v in totals[s].items() if component_kind(c) == "people") for s in order
        }
        if any(people.values()):
            # The people components that cost anything (answer review is off by default).
            kinds = [
                c.label
                for c in COST_COMPONENTS
                if c.kind == "people" and any(totals[s].get(c.name) for s in order)
            ]
            out.append(
                f"Of which people and data ({', '.join(kinds)}): "
                + ", ".join(f"{label(s)} {usd(people[s])}" for s in order)
                + " (every input at its central value)."
            )
        old = sim.old_prices(day_of(decision.created_at)) if day_of(decision.created_at) else []
        if old:
            out.append(
                f"{len(old)} of the prices used {'is' if len(old) == 1 else 'are'} more than six "
                "months old on the decision's date; see Assumptions and prices."
            )
        if sim.latency:
            meets = [
                label(s) for s in in_order(sim.latency, STRATEGIES) if sim.latency[s].meets_budget
            ]
            budget = decision.profile.get("latency_budget_ms")
            out.append(
                f"Latency: {', '.join(meets) if meets else 'no strategy'} "
                f"{'meets' if len(meets) == 1 else 'meet'} the {num(budget)} ms p95 "
                "budget"
                + (
                    "."
                    if meets
                    else " in this estimate; see the latency section for where the time goes."
                )
            )
    if decision.prototype and decision.prototype.results:
        accs = ", ".join(
            f"{ROWS.label(r.strategy)} {pct(r.metrics['accuracy'], 0)}"
            for r in ordered_results(decision.prototype)
            if not r.variant
        )
        out.append(f"Prototype accuracy (measured): {accs}.")
    return out
