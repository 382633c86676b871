"""Figures draw what the result holds, with one colour per strategy and labelled axes."""

from __future__ import annotations

import numpy as np
from test_simulator_profiles import BOOK, make_profile

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
    lines = {t.name: t for t in fig.data if t.line.width == 2.5}
    rag = r.rows[r.rows.strategy == "rag"]
    assert np.allclose(lines["RAG"].y, rag.cumulative_cost_usd)
    assert lines["RAG"].line.color == PALETTE["rag"]
    assert len(fig.data) == 9  # 3 strategies x (line + 2 band edges)


def test_tornado_bars_end_at_the_sensitivity_costs():
    r = result()
    fig = tornado(core(r), "fine_tuning", top=3)
    top = [x for x in r.sensitivity if x["strategy"] == "fine_tuning"][:3][::-1]
    high = fig.data[1]
    assert list(high.y) == [x["parameter"] for x in top]
    assert np.allclose(np.array(high.x) + high.base, [x["cost_at_high_usd"] for x in top])
