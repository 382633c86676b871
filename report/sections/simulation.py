"""The cost, freshness and latency sections: tables of the simulation, per strategy.

Nothing is recomputed except sums and picks over the simulation rows (horizon values, means,
maxima); strategies print in registry order, highlighting the recommended one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core.inputs import input_label
from core.registry import STRATEGIES
from core.simulation import COST_KINDS, SimulationResult, component_kind, component_label
from report.sections.assumptions import assumptions_tables
from report.sections.horizon import horizon_table
from report.table import Table
from report.text import NA, as_number, in_order, integer, ms, num, pct, usd

MILESTONES = (1, 3, 6, 12, 24, 36, 60, 120, 240, 600)
label = STRATEGIES.label


def _by_month(rows: list[dict[str, Any]], marks: list[int], cell) -> list[str]:
    at = {r.get("month"): r for r in rows}
    return [cell(at.get(m, {})) for m in marks]


def _milestone_cost(sim: SimulationResult):
    central = sim.central("cumulative_cost_usd")

    def cell(r: dict[str, Any]) -> str:
        lo, hi = r.get("cumulative_cost_usd_p10"), r.get("cumulative_cost_usd_p90")
        # No spaces in the range, so it never breaks inside a narrow PDF column.
        rng = "" if NA in (usd(lo), usd(hi)) else f"\n({usd(lo)}-{usd(hi)})"
        return usd(r.get(central)) + rng

    return cell


def _freshness_cell(sim: SimulationResult):
    stale, acc = sim.central("stale_fraction"), sim.central("expected_accuracy")

    def cell(r: dict[str, Any]) -> str:
        return f"{pct(r.get(stale), 0)} / {pct(r.get(acc), 0)}"

    return cell


def _break_even(sim: SimulationResult) -> Table:
    rows = []
    for b in sim.break_even:
        if b.month is not None:
            when = f"month {b.month}"
        elif b.dearer_at_start is None:
            when = "equal at start"
        else:
            when = f"not within {sim.months} months"
        diff = b.difference_at_horizon_usd
        if diff is None:
            gap = NA
        elif abs(diff) < 0.005:
            gap = "same total"
        else:
            gap = f"{label(b.a) if diff > 0 else label(b.b)} costs {usd(abs(diff))} more"
        dearer = label(b.dearer_at_start) if b.dearer_at_start else NA
        rows.append([f"{label(b.a)} vs {label(b.b)}", dearer, when, gap])
    return Table(
        "break-even",
        ["Pair", "Dearer at start", "Break-even", f"At month {sim.months}"],
        rows,
        align=["l", "l", "r", "l"],
        caption="Break-even is the first month the strategy that was dearer in "
        "month 1 becomes no dearer in cumulative cost.",
    )


def component_totals(sim: SimulationResult) -> dict[str, dict[str, float]]:
    """strategy -> {component: total over the horizon}, every input at its central value."""
    by = sim.rows_by_strategy()
    return {
        s: {c: sum(as_number(r.get(c)) or 0.0 for r in rows) for c in sim.component_columns()}
        for s, rows in by.items()
    }


def _components(sim: SimulationResult, by: dict, order: list[str]) -> Table:
    totals = component_totals(sim)
    rows, bold = [], []
    for kind, kind_label in COST_KINDS.items():
        names = [c for c in sim.component_columns() if component_kind(c) == kind]
        if not names:
            continue
        rows += [[component_label(n), *[usd(totals[s][n]) for s in order]] for n in names]
        rows.append(
            [f"{kind_label}, subtotal", *[usd(sum(totals[s][n] for n in names)) for s in order]]
        )
        bold.append(len(rows) - 1)
    return Table(
        "components",
        ["Component", *[label(s) for s in order]],
        rows,
        highlight=bold,
        caption=f"Where the {sim.months}-month total goes, infrastructure and people apart, with "
        "every input at its central value (the median total above can differ: inputs are "
        "drawn from skewed ranges).",
    )


def _latency(sim: SimulationResult, strategy: str) -> Table:
    order = in_order(sim.latency, STRATEGIES)
    rows = []
    for s in order:
        v = sim.latency[s]
        parts = ", ".join(
            f"{k.removesuffix('_ms')} {ms(c.get('p95'))}" for k, c in v.components_ms.items()
        )
        ok = v.meets_budget
        rows.append(
            [
                label(s),
                ms(v.p50_ms),
                ms(v.p95_ms),
                ms(v.budget_ms),
                NA if ok is None else ("yes" if ok else "NO"),
                integer(v.prompt_tokens),
                parts,
            ]
        )
    return Table(
        "latency",
        [
            "Strategy",
            "p50 ms",
            "p95 ms",
            "Budget ms",
            "Meets budget",
            "Prompt tokens",
            "p95 parts (ms)",
        ],
        rows,
        align=["l", "r", "r", "r", "r", "r", "l"],
        highlight=[i for i, s in enumerate(order) if s == strategy],
        caption="Latency of one answer, end to end, against the profile's p95 budget.",
    )


def _sensitivity(sim: SimulationResult, strategy: str) -> Table | None:
    sens = sorted(
        (r for r in sim.sensitivity if r.strategy == strategy),
        key=lambda r: -(as_number(r.swing_usd) or 0),
    )
    if not sens:
        return None
    return Table(
        "sensitivity",
        ["Input", "Low", "High", "Total at low", "Total at high", "Swing"],
        [
            [
                input_label(r.parameter),
                num(r.low_value),
                num(r.high_value),
                usd(r.cost_at_low_usd),
                usd(r.cost_at_high_usd),
                usd(r.swing_usd),
            ]
            for r in sens[:8]
        ],
        caption=f"The inputs that move the {sim.months}-month cost of {label(strategy)} most, "
        "each swung alone across its range with everything else central.",
    )


def simulation_section(
    sim: SimulationResult, profile: dict[str, Any], strategy: str, today: date | None = None
) -> dict:
    """`today`: the day prices are judged against for the six-month age warning."""
    by = sim.rows_by_strategy()
    order = in_order(by, STRATEGIES)
    hl = [i for i, s in enumerate(order) if s == strategy]
    marks = [m for m in MILESTONES if m < sim.months] + [sim.months]
    month_cols = ["Strategy", *[f"Month {m}" for m in marks]]
    central = "median of the draws" if sim.is_drawn() else "every input at its central value"
    return {
        "months": sim.months,
        "seed": sim.seed,
        "draws": sim.draws,
        "summary": horizon_table(sim, profile, strategy),
        "milestones": Table(
            "cost-milestones",
            month_cols,
            [[label(s), *_by_month(by[s], marks, _milestone_cost(sim))] for s in order],
            highlight=hl,
            caption=f"Cumulative cost: {central} (P10 - P90).",
        ),
        "freshness": Table(
            "freshness",
            month_cols,
            [[label(s), *_by_month(by[s], marks, _freshness_cell(sim))] for s in order],
            highlight=hl,
            caption=f"Stale share / expected accuracy at the end of each month shown ({central}).",
        ),
        "break_even": _break_even(sim),
        "components": _components(sim, by, order),
        "latency": _latency(sim, strategy),
        "sensitivity": _sensitivity(sim, strategy),
        "notes": list(sim.notes),
        **assumptions_tables(sim, today),
    }
