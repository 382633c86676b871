"""`simulate(profile, assumptions)`: the deterministic run, Monte Carlo bands, break-even months,
latency and a tornado, in one frozen, JSON-serialisable result.

Pure: functions of (profile, assumptions, months, seed), so a Ray or Dask map can run sweeps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from core.errors import ConfigError
from core.profile import Profile
from core.registry import STRATEGIES
from simulator.assumptions import Assumptions, horizon_end
from simulator.model import (
    COMPONENTS,
    central_params,
    evaluate,
    full,
    latency,
    uncertain_ranges,
)
from simulator.strategies import Param, accumulate_months

MAX_MONTHS = 600
BAND_QUANTILES = (10, 50, 90)


@dataclass(frozen=True)
class SimulationResult:
    rows: pd.DataFrame  # one row per (month, strategy); tidy
    break_even: tuple[dict[str, Any], ...]
    latency: dict[str, dict[str, Any]]
    sensitivity: tuple[dict[str, Any], ...]
    assumptions: Assumptions
    months: int
    seed: int
    draws: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def prices_used(self) -> dict[str, dict[str, Any]]:
        return {k: vars(v) for k, v in self.assumptions.prices.items()}

    def bands(self) -> dict[str, dict[str, list[float]]]:
        """strategy -> {column: [values by month]} for the band columns; {} without draws."""
        if not self.draws:
            return {}
        cols = [c for c in self.rows.columns if c.endswith(("_p10", "_p50", "_p90"))]
        return {
            s: {c: g[c].tolist() for c in cols}
            for s, g in self.rows.groupby("strategy", sort=False)
        }

    def to_dict(self) -> dict[str, Any]:
        rows = self.rows.astype(object).where(self.rows.notna(), None)
        return {
            "months": self.months,
            "seed": self.seed,
            "draws": self.draws,
            "rows": rows.to_dict(orient="records"),
            "break_even": list(self.break_even),
            "bands": self.bands(),
            "latency": self.latency,
            "sensitivity": list(self.sensitivity),
            "assumptions": self.assumptions.to_dict(),
            "overrides": [o.to_dict() for o in self.assumptions.overrides],
            "prices_used": self.prices_used,
            "notes": list(self.notes),
        }


def _check(months: int, draws: int) -> None:
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise ConfigError(f"months: must be a whole number from 1 to {MAX_MONTHS}, got {months!r}")
    if not isinstance(draws, int) or not 0 <= draws <= 1_000_000:
        raise ConfigError(f"draws: must be a whole number from 0 to 1000000, got {draws!r}")


def _check_available(a: Assumptions, months: int) -> None:
    """Never price a path that cannot be bought: the assumptions were resolved for some
    horizon; a longer one may run past an entry's shutdown."""
    if not (a.start_date and a.available_until):
        return
    end = horizon_end(date.fromisoformat(a.start_date), months)
    if date.fromisoformat(a.available_until) <= end:
        raise ConfigError(
            f"months: {months} months from {a.start_date} run to {end}, past the shutdown on "
            f"{a.available_until} of an entry these assumptions price; derive them again for "
            "this horizon (another model is picked or named)"
        )


def _run(a: Assumptions, params: Mapping[str, Param], months: int) -> dict[str, dict[str, Any]]:
    """{strategy: results}, for every registered strategy in registry (display) order; the
    loops below run over it."""
    return evaluate(params, a.billing, a.decisions(), months, a.ft_billing)


def sample_params(profile: Profile, a: Assumptions, draws: int, seed: int) -> dict[str, Param]:
    """Triangular(low, central, high) draws of every uncertain input, shape (draws, 1).

    Triangular keeps the central value the mode and never leaves the stated range; inputs are
    drawn independently (no correlation data to do better). Sorted names keep it reproducible.
    """
    rng = np.random.default_rng(seed)
    p = central_params(profile, a)
    for name, (lo, hi) in sorted(uncertain_ranges(a).items()):
        mode = min(max(p[name], lo), hi)
        p[name] = rng.triangular(lo, mode, hi, size=(draws, 1))
    return p


def percentiles(
    x: np.ndarray, qs: tuple[int, ...] = BAND_QUANTILES, overwrite: bool = False
) -> np.ndarray:
    """`np.percentile(x, qs, axis=0)` (its default, linear method), from one sort.

    numpy's sort is vectorised (SIMD) and sorts a (10,000, 60) array several times faster
    than `np.percentile`'s multi-kth partition selects from it; the interpolation below is
    numpy's own (`_lerp`), so the values agree with `np.percentile` to the last bit. Columns
    that repeat (a fine-tuned model's staleness is the same every retrain cycle) are sorted
    once. `overwrite`: the caller no longer needs `x`, which may then be sorted in place.
    """
    same = _repeated_columns(x)
    if same is not None:
        keep, where = same
        return percentiles(x[:, keep], qs)[:, where]
    if overwrite:  # sort in place, by columns: each column sorts as one contiguous run
        v = np.asfortranarray(x)
        v.sort(axis=0)
    else:
        v = np.sort(x, axis=0)
    out = np.empty((len(qs), *x.shape[1:]))
    for i, q in enumerate(qs):
        pos = q / 100 * (len(v) - 1)
        lo = int(np.floor(pos))
        hi, t = min(lo + 1, len(v) - 1), pos - lo
        a, b = v[lo], v[hi]
        out[i] = b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t
    return out


def _repeated_columns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(distinct columns, index of each column among them) when some columns of `x` are
    exact copies of others, else None. A fingerprint of the first rows finds candidates;
    each candidate is then compared whole, so the answer is exact."""
    if x.ndim != 2 or x.shape[1] < 2:
        return None
    _, first, inverse = np.unique(
        x[: min(len(x), 8)].T, axis=0, return_index=True, return_inverse=True
    )
    if len(first) == x.shape[1]:
        return None
    rep = first[np.reshape(inverse, -1)]
    if not np.array_equal(x[:, rep], x):  # every column equals its representative
        return None
    keep = np.unique(rep)
    return keep, np.searchsorted(keep, rep)


def _quantiles(x: Any, months: int) -> np.ndarray:
    """P10/P50/P90 over draws (axis 0) -> (3, months). A result that does not vary by month
    (shape (draws, 1)) is reduced once, not once per month. `x` is sorted in place: pass
    only arrays that are not needed afterwards."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    q = np.repeat(x, 3, axis=0) if x.shape[0] == 1 else percentiles(x, overwrite=True)
    return np.array(np.broadcast_to(q, (3, months)))


def monte_carlo(
    profile: Profile, a: Assumptions, months: int, draws: int, seed: int
) -> dict[str, dict[str, np.ndarray]]:
    """strategy -> {"cumulative_cost_usd"|"stale_fraction"|"expected_accuracy": (3, months)}
    with rows P10, P50, P90."""
    out = _run(a, sample_params(profile, a, draws, seed), months)
    bands = {}
    for s in out:
        cum = accumulate_months(np.add, full(out[s]["monthly_cost_usd"], draws, months))
        bands[s] = {
            name: _quantiles(arr, months)
            for name, arr in (
                ("cumulative_cost_usd", cum),
                ("stale_fraction", out[s]["stale_fraction"]),
                ("expected_accuracy", out[s]["expected_accuracy"]),
            )
        }
    return bands


def break_even(
    rows: pd.DataFrame, column: str = "cumulative_cost_usd"
) -> tuple[dict[str, Any], ...]:
    """For each pair, the first month the strategy that was dearer in month 1 becomes no
    dearer (cumulative cost, read from `column`); month None if that never happens within the
    horizon. Pairs follow the registry's order, over the strategies the table holds."""
    wide = rows.pivot(index="month", columns="strategy", values=column)
    out = []
    for a, b in combinations([s for s in STRATEGIES.values() if s in wide.columns], 2):
        d = (wide[a] - wide[b]).to_numpy()
        dearer, cheaper = (a, b) if d[0] > 0 else (b, a)
        crossed = np.nonzero(d <= 0)[0] if d[0] > 0 else np.nonzero(d >= 0)[0]
        month = int(wide.index[crossed[0]]) if d[0] != 0 and len(crossed) else None
        out.append(
            {
                "pair": f"{a}_vs_{b}",
                "a": a,
                "b": b,
                "month": month,
                "dearer_at_start": dearer if d[0] != 0 else None,
                "cheaper_at_start": cheaper if d[0] != 0 else None,
                "difference_at_horizon_usd": float(d[-1]),
            }
        )
    return tuple(out)


def sensitivity(profile: Profile, a: Assumptions, months: int) -> tuple[dict[str, Any], ...]:
    """One-at-a-time tornado: cumulative cost at the horizon with each uncertain input at its
    low then its high end, all else central. All variants run as one batch of draws."""
    base = central_params(profile, a)
    ranges = uncertain_ranges(a)
    names = sorted(ranges)
    n = 1 + 2 * len(names)
    p = {k: np.full((n, 1), v, dtype=float) for k, v in base.items()}
    for i, name in enumerate(names):
        p[name][1 + 2 * i, 0], p[name][2 + 2 * i, 0] = ranges[name]
    out = _run(a, p, months)
    rows: list[dict[str, Any]] = []
    for s in out:
        total = full(out[s]["monthly_cost_usd"], n, months).sum(axis=1)
        for i, name in enumerate(names):
            lo, hi = total[1 + 2 * i], total[2 + 2 * i]
            rows.append(
                {
                    "strategy": s,
                    "parameter": name,
                    "low_value": ranges[name][0],
                    "high_value": ranges[name][1],
                    "base_cost_usd": float(total[0]),
                    "cost_at_low_usd": float(lo),
                    "cost_at_high_usd": float(hi),
                    "swing_usd": float(abs(hi - lo)),
                }
            )
    # Retrain cadence is a decision, not a draw; show what halving / doubling it would do.
    decisions = a.decisions()
    for key, t in decisions.items():
        if t <= 0:
            continue
        lo_t, hi_t = max(1, t // 2), min(months, t * 2)
        costs = {}
        for tt in (lo_t, hi_t):
            o = evaluate(base, a.billing, {**decisions, key: tt}, months, a.ft_billing)
            costs[tt] = {s: float(full(o[s]["monthly_cost_usd"], 1, months).sum()) for s in o}
        for s in out:
            base_cost = float(full(out[s]["monthly_cost_usd"], n, months)[0].sum())
            lo, hi = costs[lo_t][s], costs[hi_t][s]
            if abs(hi - lo) > 0:
                rows.append(
                    {
                        "strategy": s,
                        "parameter": key,
                        "low_value": lo_t,
                        "high_value": hi_t,
                        "base_cost_usd": base_cost,
                        "cost_at_low_usd": lo,
                        "cost_at_high_usd": hi,
                        "swing_usd": abs(hi - lo),
                    }
                )
    order = list(out)
    rows.sort(key=lambda r: (order.index(r["strategy"]), -r["swing_usd"]))
    return tuple(rows)


def simulate(
    profile: Profile, assumptions: Assumptions, months: int = 36, seed: int = 0, draws: int = 2000
) -> SimulationResult:
    """Cost, freshness and accuracy per month for each strategy, with P10/P50/P90 bands from
    `draws` seeded Monte Carlo draws (0 = no bands), break-even months, latency vs budget and a
    tornado of cumulative cost at the horizon.

    The unsuffixed columns are the run with every input at its central value (what the golden
    tests compute by hand). The central estimate shown to users is the `_p50` column when
    there are draws (`core.simulation.SimulationResult.central`), so break-even months are
    read from that same line: the month two drawn lines cross, not two lines nobody sees.
    """
    _check(months, draws)
    a = assumptions
    _check_available(a, months)
    out = _run(a, central_params(profile, a), months)
    bands = monte_carlo(profile, a, months, draws, seed) if draws else None
    month = np.arange(1, months + 1)
    frames = []
    for s in out:
        o = {k: full(v, 1, months)[0] for k, v in out[s].items()}
        cols: dict[str, Any] = {"month": month, "strategy": s}
        cols["monthly_cost_usd"] = o["monthly_cost_usd"]
        cols["cumulative_cost_usd"] = np.cumsum(o["monthly_cost_usd"])
        cols["stale_fraction"] = o["stale_fraction"]
        cols["expected_accuracy"] = o["expected_accuracy"]
        for c in COMPONENTS:
            cols[c] = o[c]
        for name in ("cumulative_cost_usd", "stale_fraction", "expected_accuracy"):
            for qi, q in enumerate(BAND_QUANTILES):
                cols[f"{name}_p{q}"] = bands[s][name][qi] if bands else math.nan
        frames.append(pd.DataFrame(cols))
    rows = pd.concat(frames, ignore_index=True)

    lat = latency(a)
    budget = profile.latency_budget_ms
    for s in lat:
        lat[s].update(budget_ms=budget, meets_budget=bool(lat[s]["p95_ms"] <= budget))
    notes = [
        "Costs include people and data (labelling, evaluation, engineering time) beside the "
        "infrastructure, at the rates in prices/people.yaml; both are shown apart.",
        "Fine-tuning and the hybrid's tuned model are priced as "
        + a.sources["fine_tuning_model"].removeprefix("priced path: ")
        + ".",
    ]
    if a.review_share:
        notes.append(
            f"A person checks {a.review_share:.0%} of the answers before they go out, "
            f"{a.review_minutes_per_answer:g} min each, for every strategy; the accuracy "
            f"counts the {a.review_catch:.0%} of the wrong answers they see as corrected."
        )
    if profile.monthly_budget_usd is not None:
        for s in out:
            over = rows[(rows.strategy == s) & (rows.monthly_cost_usd > profile.monthly_budget_usd)]
            if len(over):
                notes.append(
                    f"{STRATEGIES.label(s)}: monthly cost (every input at its central value) "
                    f"exceeds the {profile.monthly_budget_usd:,.0f} USD budget in {len(over)} "
                    f"of {months} months"
                )
    return SimulationResult(
        rows=rows,
        break_even=break_even(rows, "cumulative_cost_usd_p50" if bands else "cumulative_cost_usd"),
        latency=lat,
        sensitivity=sensitivity(profile, a, months),
        assumptions=a,
        months=months,
        seed=seed,
        draws=draws,
        notes=tuple(notes),
    )
