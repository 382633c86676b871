"""The model itself: cost, freshness and latency as array arithmetic.

Every parameter may be a float or an array of shape (draws, 1); months run along axis 1. So the
same code gives the deterministic run (one draw), the Monte Carlo (thousands of draws) and the
tornado (one draw per low/high variant) with no Python loop over draws. No I/O, no randomness.
What differs between strategies (their cost components, freshness, prompt length) is each
strategy's registered `StrategyModel` (simulator/strategies.py); this module runs them all.

Conventions (month m = 1..M is the m-th month in production):
- Upfront work (data prep, first training, first embedding) is billed in month 1.
- Fine-tuning retrains at the start of months 1+T, 1+2T, ... (T = retrain interval, 0 = never).
- stale_fraction is measured at the end of each month, the worst point of the month.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.profile import Profile
from simulator.assumptions import Assumptions
from simulator.strategies import (
    COMPONENTS,
    Bill,
    Context,
    Param,
    cost_models,
    retrain_mask,
)

__all__ = [
    "COMPONENTS",
    "central_params",
    "evaluate",
    "full",
    "latency",
    "profile_params",
    "retrain_mask",
    "stale_fractions",
    "uncertain_ranges",
]


def profile_params(profile: Profile) -> dict[str, Param]:
    return {
        "queries_per_month": float(profile.queries_per_month),
        "knowledge_base_tokens": float(profile.knowledge_base_tokens),
        "labeled_examples": float(profile.labeled_examples),
    }


def central_params(profile: Profile, a: Assumptions) -> dict[str, Param]:
    """All numeric inputs of the model at their central values, by name (decisions, the
    whole-number retrain intervals, are passed apart: see `Assumptions.decisions`)."""
    for s in cost_models():
        if s not in a.base_accuracy:
            raise ConfigError(
                f"base_accuracy_{s}: strategy `{s}` was registered after these assumptions "
                "were derived; derive them again"
            )
    decisions = a.decisions()
    p = profile_params(profile)
    p.update({name: a.value(name) for name in a.numeric_names() if name not in decisions})
    p.update({name: pp.value for name, pp in a.prices.items()})
    return p


def uncertain_ranges(a: Assumptions) -> dict[str, tuple[float, float]]:
    """(low, high) of every input that is uncertain: ranged assumptions and [U] prices."""
    out = {n: (a.ranges[n][0], a.ranges[n][1]) for n in a.uncertain()}
    out.update({n: (pp.low, pp.high) for n, pp in a.prices.items()})
    return {n: r for n, r in out.items() if r[1] > r[0]}


def stale_fractions(ctx: Context) -> dict[str, np.ndarray]:
    """Share of the knowledge that changed since each strategy last saw it (end of month).

    Each strategy's model says which of the two freshness rules it follows, or gives its own:
    knowledge held in weights is a sawtooth, 1 - (1 - c)^age with age = months since the last
    (re)training, reset at every retrain (`Context.stale_since_training`); knowledge read from
    an index misses only what changed within the ingestion lag, 1 - (1 - c)^(lag / 30.44
    days), constant over time and independent of retraining (`Context.stale_after_ingestion`).
    """
    return {s: m.stale(ctx) for s, m in cost_models().items()}


def full(x: Any, draws: int, months: int) -> np.ndarray:
    """Expand a natural-shape result (or a `Bill`) to (draws, months)."""
    if isinstance(x, Bill):
        return Bill.sum([x], draws, months)
    return np.broadcast_to(np.asarray(x, dtype=float), (draws, months))


def _none(x: Any) -> bool:
    """Whether a cost is nothing at all (0, or zeros)."""
    return not isinstance(x, Bill) and not np.any(x)


def evaluate(
    p: Mapping[str, Param],
    billing: str,
    decisions: Mapping[str, int],
    months: int,
    ft_billing: str | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Monthly cost components, stale fraction and expected accuracy for every strategy.

    `decisions` are the whole-number choices (`Assumptions.decisions()`: retrain intervals);
    `billing` prices the generator, `ft_billing` (default: the same) the tuned model.
    Returns {strategy: {component: array, "monthly_cost_usd", "stale_fraction",
    "expected_accuracy"}}. Arrays keep their natural shape, which broadcasts to (draws, months):
    a cost that does not vary by month stays (draws, 1). Use `full` to expand one.
    """
    ctx = Context(p, billing, decisions, months, ft_billing)
    draws = ctx.draws
    stale = stale_fractions(ctx)
    out: dict[str, dict[str, np.ndarray]] = {}
    for s, model in cost_models().items():
        costs = {"review_usd": ctx.review, **model.costs(ctx)}
        unknown = sorted(set(costs) - set(COMPONENTS))
        if unknown:
            raise ConfigError(
                f"strategy `{s}`: its cost model returned unknown component `{unknown[0]}`; "
                f"known: {', '.join(COMPONENTS)}"
            )
        parts: dict[str, Any] = {c: costs.get(c, ctx.zero) for c in COMPONENTS}
        # Self-hosted: the reserved GPUs cost at least `floor`; tokens use part of it, hosting
        # is the rest (idle capacity). API: hosting is the strategy's own fee (FT deployments).
        # A strategy serving a tuned model reserves the fine-tuning path's GPUs.
        floor = ctx.ft_floor if model.tuned else ctx.floor
        fee: Any = costs.get("hosting_usd", 0.0)
        if np.any(floor):
            inference = ("inference_input_usd", "inference_output_usd")
            tokens = Bill.sum([parts[c] for c in inference], draws, months)
            hosting = np.subtract(floor, tokens)
            np.maximum(hosting, 0.0, out=hosting)
            parts["hosting_usd"] = hosting if _none(fee) else hosting + fee
            rest = [parts[c] for c in COMPONENTS if c not in inference]
            # The total is accumulated into `tokens`, computed once above.
            parts["monthly_cost_usd"] = Bill.sum(rest, draws, months, start=tokens)
        else:  # nothing reserved: no idle capacity to pay for
            parts["hosting_usd"] = fee
            parts["monthly_cost_usd"] = Bill.sum([parts[c] for c in COMPONENTS], draws, months)
        parts["stale_fraction"] = stale[s]
        # A question whose fact changed since the strategy last saw it is answered with the
        # old fact: wrong. So accuracy scales with the fresh share. A person who checks answers
        # corrects the review_catch share of the wrong ones before they go out.
        acc = p[f"base_accuracy_{s}"] * (1.0 - stale[s])
        parts["expected_accuracy"] = acc + (1.0 - acc) * p["review_catch"]
        out[s] = parts
    return out


def latency(a: Assumptions) -> dict[str, dict[str, Any]]:
    """p50/p95 per strategy: (embedding + vector search) + TTFT + prefill + decode.

    p95 combines the components' tails as independent: p95 = p50 + sqrt(sum((p95_i - p50_i)^2)),
    which is tighter than adding p95s (tails rarely coincide) and exact for normal components.
    """
    out = {}
    for s, model in cost_models().items():
        tokens_in = model.prompt_tokens(a)
        prefill = tokens_in / a.prefill_tokens_per_s_stream * 1000
        comps = {  # name: (p50, p95)
            "ttft_ms": (a.ttft_ms_p50, a.ttft_ms_p95),
            "prefill_ms": (prefill, prefill),
            "decode_ms": (
                a.answer_tokens / a.decode_tokens_per_s_p50 * 1000,
                a.answer_tokens / a.decode_tokens_per_s_p95 * 1000,
            ),
        }
        if model.retrieves:
            comps["embed_ms"] = (a.embed_ms_p50, a.embed_ms_p95)
            comps["search_ms"] = (a.search_ms_p50, a.search_ms_p95)
        p50 = sum(v[0] for v in comps.values())
        p95 = p50 + float(np.sqrt(sum((v[1] - v[0]) ** 2 for v in comps.values())))
        out[s] = {
            "p50_ms": p50,
            "p95_ms": p95,
            "prompt_tokens": tokens_in,
            "components_ms": {k: {"p50": v[0], "p95": v[1]} for k, v in comps.items()},
        }
    return out
