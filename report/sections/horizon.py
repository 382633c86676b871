"""The horizon summary: one row per strategy with what it costs and delivers over the horizon.

Total (P50) with its P10-P90 band, the average month, peak staleness, mean expected accuracy,
and p95 latency and cost against the profile's budgets, rounded for reading. The report prints
this table first in its cost section and the Cost page shows the same Table, so both read the
same numbers (`core.horizon.summarize`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.horizon import summarize
from core.registry import STRATEGIES
from core.simulation import SimulationResult
from report.table import Table
from report.text import NA, band, ms, pct, usd


def _verdict(ok: bool | None) -> str:
    return NA if ok is None else ("yes" if ok else "NO")


def horizon_table(sim: SimulationResult, profile: Mapping[str, Any], strategy: str) -> Table:
    """The summary Table; `strategy` (the recommended one) is highlighted."""
    rows_ = summarize(sim, profile)
    budget = rows_[0].monthly_budget_usd if rows_ else None
    latency_budget = rows_[0].latency_budget_ms if rows_ else None
    drawn = sim.is_drawn()
    rows = []
    for s in rows_:
        row = [
            STRATEGIES.label(s.strategy),
            usd(s.total_usd),
            band(s.total_p10_usd, s.total_p90_usd),
            usd(s.mean_monthly_usd),
            pct(s.peak_stale, 0),
            pct(s.mean_accuracy, 0),
            ms(s.latency_p95_ms),
            _verdict(s.meets_latency),
        ]
        if budget is not None:
            row.append(_verdict(s.meets_budget))
        rows.append(row)
    months = sim.months
    cols = [
        "Strategy",
        f"Total, {months} mo ({'P50' if drawn else 'central'})",
        "P10 - P90 total",
        "Per month (avg)",
        "Peak stale",
        "Mean accuracy",
        "p95 latency (ms)",
        f"Within {ms(latency_budget)} ms" if latency_budget is not None else "Within budget",
    ]
    if budget is not None:
        cols.append(f"Within {usd(budget)}/month")
    how = (
        f"the median of {sim.draws:,} Monte Carlo draws (seed {sim.seed}), with the P10-P90 "
        "range of the same draws"
        if drawn
        else "every input at its central value (no Monte Carlo draws, so no range)"
    )
    return Table(
        "horizon-summary",
        cols,
        rows,
        highlight=[i for i, s in enumerate(rows_) if s.strategy == strategy],
        caption=f"{months}-month summary. Totals are {how}; per month is the total spread over "
        f"the {months} months, which is what the monthly budget is held against. Stale is the "
        "worst month's share of knowledge changed since the model or index last saw it; "
        "accuracy is the mean over the months. Infrastructure only.",
    )
