"""Benchmark: vectorised Monte Carlo vs a per-draw Python loop over the same model.

10,000 draws x 60 months x 3 strategies, timed end to end (sampling, model, cumulative sums and
P10/P50/P90 bands). The reference calls the same `evaluate` once per draw, the obvious way to
write a Monte Carlo; it runs on fewer draws and is extrapolated linearly (each draw costs the
same), which the output says. Both paths are checked to agree on the draws they share.

Targets (issue 19.4): the vectorised run in <= 0.05 s and >= 100x the loop. Both wall-clock
and process CPU time are printed: on a machine whose cores other jobs share, CPU time is the
steadier of the two (wall time then includes waiting for a core).
"""

from __future__ import annotations

import platform
import time

import numpy as np

from core.profile import Profile
from simulator.assumptions import Assumptions, derive_assumptions
from simulator.model import evaluate, full
from simulator.prices import load_price_book
from simulator.simulate import monte_carlo, sample_params

DRAWS, MONTHS, LOOP_DRAWS, REPEATS = 10_000, 60, 500, 7
TARGET_S, TARGET_RATIO = 0.05, 100
PROFILE = Profile(
    name="bench",
    task="customer_support",
    knowledge_update_frequency="weekly",
    latency_budget_ms=4000,
    traceability="preferred",
    style_consistency="high",
    structured_output=False,
    knowledge_base_tokens=5_000_000,
    labeled_examples=2000,
    queries_per_month=100_000,
    deployment="cloud_api",
    ml_maturity="medium",
)


def loop_reference(params: dict, a: Assumptions, n: int) -> np.ndarray:
    """Per-draw loop: one scalar evaluation per draw; returns cumulative cost
    (n, strategies, months)."""
    out = np.empty((n, len(a.base_accuracy), MONTHS))
    for i in range(n):
        p = {k: (float(v[i, 0]) if np.ndim(v) else v) for k, v in params.items()}
        res = evaluate(p, a.billing, a.decisions(), MONTHS, a.ft_billing)
        for j, s in enumerate(res):
            out[i, j] = np.cumsum(full(res[s]["monthly_cost_usd"], 1, MONTHS)[0])
    # Bands, as the vectorised path computes them.
    np.percentile(out, (10, 50, 90), axis=0)
    return out


def main() -> dict:
    a = derive_assumptions(PROFILE, load_price_book())
    monte_carlo(PROFILE, a, MONTHS, 100, seed=0)  # warm-up

    times, cpu_times = [], []
    for _ in range(REPEATS):
        t0, c0 = time.perf_counter(), time.process_time()
        monte_carlo(PROFILE, a, MONTHS, DRAWS, seed=0)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    vec, vec_cpu = min(times), min(cpu_times)

    params = sample_params(PROFILE, a, LOOP_DRAWS, seed=0)
    t0, c0 = time.perf_counter(), time.process_time()
    ref = loop_reference(params, a, LOOP_DRAWS)
    loop_per_draw = (time.perf_counter() - t0) / LOOP_DRAWS
    loop_cpu_per_draw = (time.process_time() - c0) / LOOP_DRAWS
    loop_est, loop_cpu_est = loop_per_draw * DRAWS, loop_cpu_per_draw * DRAWS

    # Same model, same draws: the vectorised result must match the loop.
    vec_out = evaluate(params, a.billing, a.decisions(), MONTHS, a.ft_billing)
    vec_cum = np.stack(
        [
            np.cumsum(full(vec_out[s]["monthly_cost_usd"], LOOP_DRAWS, MONTHS), axis=1)
            for s in vec_out
        ],
        axis=1,
    )
    assert np.allclose(vec_cum, ref), "vectorised and loop results differ"

    print(
        f"simulator Monte Carlo: {DRAWS:,} draws x {MONTHS} months x {len(vec_out)} "
        f"strategies on {platform.processor() or platform.machine()}, numpy {np.__version__}"
    )

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    print(
        f"  vectorised (best of {REPEATS}): {vec:.3f} s wall, {vec_cpu:.3f} s CPU  "
        f"(target <= {TARGET_S} s: {verdict(vec <= TARGET_S)} wall, "
        f"{verdict(vec_cpu <= TARGET_S)} CPU)"
    )
    print(
        f"  per-draw Python loop: {loop_per_draw * 1e3:.3f} ms/draw wall, "
        f"{loop_cpu_per_draw * 1e3:.3f} ms CPU, measured on {LOOP_DRAWS} draws, extrapolated "
        f"to {DRAWS:,}: {loop_est:.1f} s wall, {loop_cpu_est:.1f} s CPU"
    )
    ratio, ratio_cpu = loop_est / vec, loop_cpu_est / vec_cpu
    print(
        f"  speed-up: {ratio:.0f}x wall, {ratio_cpu:.0f}x CPU (target >= {TARGET_RATIO}x: "
        f"{verdict(ratio >= TARGET_RATIO)} wall, {verdict(ratio_cpu >= TARGET_RATIO)} CPU)"
    )
    return {
        "vectorised_s": vec,
        "vectorised_cpu_s": vec_cpu,
        "loop_extrapolated_s": loop_est,
        "loop_extrapolated_cpu_s": loop_cpu_est,
        "ratio": ratio,
        "ratio_cpu": ratio_cpu,
    }


if __name__ == "__main__":
    main()
