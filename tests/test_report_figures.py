"""Figures draw what the result holds, with one colour per strategy and labelled axes."""

from __future__ import annotations

import numpy as np
import pytest
from test_simulator_profiles import BOOK, PROFILES, make_profile

from core.inputs import input_label
from core.registry import STRATEGIES
from core.simulation import SimulationResult
from report.figures import all_figures, cumulative_cost, tornado
from simulator import derive_assumptions, simulate

PALETTE = {s.value: s.colour for s in STRATEGIES}  # the registry's colours, by strategy


def core(live) -> SimulationResult:
    """The JSON-side value the figures draw, from the simulator's own result."""
    return SimulationResult.from_dict(live.to_dict())


def result():
    p = make_profile("support_bot")
    return simulate(p, derive_assumptions(p, BOOK), months=6, draws=100)


def test_all_figures_have_titles_and_axis_labels():
    for name, fig in all_figures(core(result())).items():
        layout = fig.layout
        assert layout.title.text, name
        assert fig.data, name
        if not name.startswith(("monthly", "freshness")):
            assert layout.xaxis.title.text and layout.yaxis.title.text, name


def test_cumulative_cost_plots_the_result_numbers_in_the_palette_colours():
    r = result()
    fig = cumulative_cost(core(r))
    lines = {t.name: t for t in fig.data if t.meta == "central"}
    rag = r.rows[r.rows.strategy == "rag"]
    # The central line is the P50 of the draws, not the run at central inputs (issue 19).
    assert np.allclose(lines["RAG"].y, rag.cumulative_cost_usd_p50)
    assert lines["RAG"].line.color == PALETTE["rag"]
    assert len(fig.data) == 9  # 3 strategies x (line + 2 band edges)
    # Bands first, then lines, so no fill covers a line; each line its own dash.
    assert [t.meta for t in fig.data][-3:] == ["central"] * 3
    assert len({t.line.dash for t in lines.values()}) == 3


def test_cumulative_cost_without_draws_plots_the_central_input_run():
    p = make_profile("support_bot")
    r = simulate(p, derive_assumptions(p, BOOK), months=6, draws=0)
    fig = cumulative_cost(core(r))
    [rag] = [t for t in fig.data if t.name == "RAG"]
    assert np.allclose(rag.y, r.rows[r.rows.strategy == "rag"].cumulative_cost_usd)
    assert "central value" in fig.layout.title.text and len(fig.data) == 3


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_central_line_lies_inside_its_band_for_every_profile(name):
    """Issue 19: RAG's central line ($2,776) lay below its own band ($2,873-$4,201)."""
    p = make_profile(name)
    fig = cumulative_cost(core(simulate(p, derive_assumptions(p, BOOK), months=36, draws=500)))
    by = {(t.legendgroup, t.meta): np.array(t.y) for t in fig.data}
    for s in STRATEGIES.values():
        lo, mid, hi = by[(s, "p10")], by[(s, "central")], by[(s, "p90")]
        assert (lo <= mid + 1e-9).all() and (mid <= hi + 1e-9).all(), (name, s)


def test_tornado_bars_end_at_the_sensitivity_costs():
    r = result()
    fig = tornado(core(r), "fine_tuning", top=3)
    top = [x for x in r.sensitivity if x["strategy"] == "fine_tuning"][:3][::-1]
    high = fig.data[1]
    assert list(high.y) == [input_label(x["parameter"]) for x in top]  # plain words
    assert not any("_" in y for y in high.y)
    assert np.allclose(np.array(high.x) + high.base, [x["cost_at_high_usd"] for x in top])
