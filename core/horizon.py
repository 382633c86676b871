"""What each strategy costs and delivers over the simulated horizon: the numbers a board reads.

One `StrategySummary` per strategy, from a simulation: the total cost (the P50 of the Monte
Carlo draws, with its P10-P90 band), the average month, peak staleness, mean expected
accuracy, and the p95 latency and monthly cost against the profile's budgets. The Cost page,
the report and the feasibility check all read these, so they cannot disagree on a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.registry import STRATEGIES
from core.simulation import SimulationResult


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _mean(xs: list[float | None]) -> float | None:
    vs = [x for x in xs if x is not None]
    return sum(vs) / len(vs) if vs else None


def _max(xs: list[float | None]) -> float | None:
    vs = [x for x in xs if x is not None]
    return max(vs) if vs else None


@dataclass(frozen=True)
class StrategySummary:
    strategy: str
    months: int
    total_usd: float | None  # cumulative cost at the horizon, central (P50 when drawn)
    total_p10_usd: float | None
    total_p90_usd: float | None
    peak_stale: float | None  # worst month's share of knowledge changed since last seen
    mean_accuracy: float | None
    latency_p95_ms: float | None
    latency_budget_ms: float | None
    monthly_budget_usd: float | None

    @property
    def mean_monthly_usd(self) -> float | None:
        """The horizon total spread over its months: what a monthly budget is held against."""
        return None if self.total_usd is None else self.total_usd / self.months

    @property
    def meets_latency(self) -> bool | None:
        if self.latency_p95_ms is None or self.latency_budget_ms is None:
            return None
        return self.latency_p95_ms <= self.latency_budget_ms

    @property
    def meets_budget(self) -> bool | None:
        """None when there is no monthly budget (or no cost to hold against it)."""
        avg = self.mean_monthly_usd
        if avg is None or self.monthly_budget_usd is None:
            return None
        return avg <= self.monthly_budget_usd


def summarize(sim: SimulationResult, profile: Mapping[str, Any]) -> tuple[StrategySummary, ...]:
    """One summary per simulated strategy, in registry order (an unregistered one last)."""
    by = sim.rows_by_strategy()
    known = [s for s in STRATEGIES.values() if s in by]
    cost, stale, acc = (
        sim.central(c) for c in ("cumulative_cost_usd", "stale_fraction", "expected_accuracy")
    )
    latency_budget = _num(profile.get("latency_budget_ms"))
    out = []
    for s in known + [s for s in by if s not in known]:
        rows, last = by[s], by[s][-1]
        lat = sim.latency.get(s)
        out.append(
            StrategySummary(
                strategy=s,
                months=len(rows),
                total_usd=_num(last.get(cost)),
                total_p10_usd=_num(last.get("cumulative_cost_usd_p10")),
                total_p90_usd=_num(last.get("cumulative_cost_usd_p90")),
                peak_stale=_max([_num(r.get(stale)) for r in rows]),
                mean_accuracy=_mean([_num(r.get(acc)) for r in rows]),
                latency_p95_ms=lat.p95_ms if lat else None,
                latency_budget_ms=latency_budget or (lat.budget_ms if lat else None),
                monthly_budget_usd=_num(profile.get("monthly_budget_usd")),
            )
        )
    return tuple(out)
