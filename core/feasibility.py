"""Feasibility: does the recommended strategy fit the profile's latency and monthly budgets?

The advisor ranks strategies on what the use case needs and never sees the simulation (the
two are siblings). This check brings them together. Each strategy's simulated p95 latency is
held against `latency_budget_ms`, and its average monthly cost (the P50 horizon total over the
months) against `monthly_budget_usd` when there is one. Then:

- the advisor's pick meets every budget: it stands, with no warning;
- it misses one but another strategy meets them all: the best-scored strategy that does is
  recommended instead, and a warning says why, naming both and their scores; unless the
  advisor scores that one under MIN_SWITCH_SCORE, in which case the pick stands and the
  warning names the alternative and why it was not taken;
- no strategy meets them: the advisor's pick stands but is qualified. The warning says which
  budget nothing meets and by how much, and that the recommendation ignores it.

Pure: the app and the report call it on the same values, so they say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.horizon import StrategySummary, summarize
from core.recommendation import Recommendation
from core.registry import STRATEGIES
from core.simulation import SimulationResult

label = STRATEGIES.label
# Below this blended score the use case's needs rule a strategy out (weekly-changing facts for
# fine-tuning, say): trading a budget miss for the wrong architecture is worse advice than
# saying the budget is the problem.
MIN_SWITCH_SCORE = 0.05


def _ms(x: float) -> str:
    return f"{x:,.0f} ms"


def _usd(x: float) -> str:
    return f"${x:,.0f}"


def _times(x: float, budget: float) -> str:
    r = x / budget if budget else float("inf")
    return f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x"


def _fits(s: StrategySummary) -> bool:
    return s.meets_latency is not False and s.meets_budget is not False


@dataclass(frozen=True)
class Feasibility:
    advisor_pick: str  # the advisor's recommendation, on the profile's needs alone
    pick: str  # what to recommend once the budgets are applied
    scores: dict[str, float]  # the advisor's blended scores
    summaries: tuple[StrategySummary, ...]
    warnings: tuple[str, ...]  # shown first, before any recommendation

    @property
    def changed(self) -> bool:
        return self.pick != self.advisor_pick

    @property
    def feasible(self) -> tuple[str, ...]:
        """The strategies that meet every budget, in registry order."""
        return tuple(s.strategy for s in self.summaries if _fits(s))

    @property
    def pick_fits(self) -> bool:
        return self.pick in self.feasible

    @property
    def score(self) -> float | None:
        return self.scores.get(self.pick)


def _misses(s: StrategySummary) -> str:
    """What a strategy misses, in one clause: "takes 7,450 ms p95 against the 7,000 ms
    budget and averages $93 a month against the $80 budget"."""
    parts = []
    if s.meets_latency is False and s.latency_p95_ms is not None and s.latency_budget_ms:
        parts.append(
            f"takes {_ms(s.latency_p95_ms)} p95 against the {_ms(s.latency_budget_ms)} budget"
        )
    avg = s.mean_monthly_usd
    if s.meets_budget is False and avg is not None and s.monthly_budget_usd is not None:
        parts.append(
            f"averages {_usd(avg)} a month against the {_usd(s.monthly_budget_usd)} budget"
        )
    return " and ".join(parts)


def _none_meets(summaries: tuple[StrategySummary, ...]) -> list[str]:
    """A sentence per budget that no strategy meets, naming the closest one and its gap."""
    out = []
    lat = [s for s in summaries if s.latency_p95_ms is not None and s.latency_budget_ms]
    if lat and all(s.meets_latency is False for s in lat):
        best = min(lat, key=lambda s: s.latency_p95_ms or 0.0)
        assert best.latency_p95_ms is not None and best.latency_budget_ms
        out.append(
            f"No strategy meets the {_ms(best.latency_budget_ms)} p95 latency budget: the "
            f"fastest, {label(best.strategy)}, takes about {_ms(best.latency_p95_ms)} "
            f"(simulated p95, {_times(best.latency_p95_ms, best.latency_budget_ms)} the budget)."
        )
    cost = [s for s in summaries if s.meets_budget is not None]
    if cost and all(s.meets_budget is False for s in cost):
        best = min(cost, key=lambda s: s.mean_monthly_usd or 0.0)
        assert best.mean_monthly_usd is not None and best.monthly_budget_usd is not None
        out.append(
            f"No strategy fits the {_usd(best.monthly_budget_usd)} monthly budget: the "
            f"cheapest, {label(best.strategy)}, averages {_usd(best.mean_monthly_usd)} a "
            f"month over {best.months} months (median of the Monte Carlo draws)."
        )
    if not out and not any(_fits(s) for s in summaries):
        out.append(
            "No strategy meets both budgets at once: "
            + "; ".join(f"{label(s.strategy)} {_misses(s)}" for s in summaries)
            + "."
        )
    return out


def assess(rec: Recommendation, sim: SimulationResult, profile: Mapping[str, Any]) -> Feasibility:
    """The advisor's recommendation, held against the simulated latency and cost."""
    summaries = summarize(sim, profile)
    by = {s.strategy: s for s in summaries}
    pick, warnings = rec.strategy, _none_meets(summaries)
    fits = [s.strategy for s in summaries if _fits(s)]
    if pick in by and not _fits(by[pick]):
        new = max(fits, key=lambda s: rec.scores.get(s, 0.0)) if fits else None
        if new is not None and rec.scores.get(new, 0.0) < MIN_SWITCH_SCORE:
            warnings.append(
                f"{label(pick)}, the best fit for the use case, {_misses(by[pick])}. The "
                f"best-scored strategy that meets every budget, {label(new)}, scores only "
                f"{rec.scores.get(new, 0.0):.0%} for this use case, so it is not recommended "
                "instead: relax the budget, or change what rules it out."
            )
        elif new is not None:
            warnings.append(
                f"{label(pick)}, the best fit for the use case, {_misses(by[pick])}. "
                f"Recommended instead: {label(new)}, the best-scored strategy that meets every "
                f"budget. It fits the use case less well (advisor score "
                f"{rec.scores.get(new, 0.0):.0%} against {rec.scores.get(pick, 0.0):.0%}): weigh "
                "that against relaxing the budget."
            )
            pick = new
        else:
            misses = _misses(by[pick])
            warnings.append(
                f"The recommendation below, {label(pick)}, {misses}. Relax the "
                f"budget{'s' if ' and ' in misses else ''}, or read the recommendation as the "
                "direction to explore rather than a plan."
            )
    return Feasibility(rec.strategy, pick, dict(rec.scores), summaries, tuple(warnings))
