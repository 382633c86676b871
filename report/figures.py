"""Plotly figures of a simulation (`core.simulation.SimulationResult`). They only draw: every
number comes from the result, every strategy's label and colour from `core.registry`, every
cost component's from `core.simulation.COST_COMPONENTS`.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from core.inputs import input_label
from core.registry import STRATEGIES
from core.simulation import (
    COST_KINDS,
    SimulationResult,
    component_colour,
    component_kind,
    component_label,
)
from report.text import in_order

label = STRATEGIES.label
colour = STRATEGIES.colour
# Line dash and marker by display position, so two strategies whose lines coincide still read
# as two lines (colour alone hides one under the other).
DASHES = ("solid", "dash", "dot", "dashdot", "longdash")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x")


def _style(i: int, s: str, width: float = 2.5) -> dict[str, Any]:
    """The line and marker of the i-th strategy in display order."""
    return {
        "line": dict(color=colour(s), width=width, dash=DASHES[i % len(DASHES)]),
        "marker": dict(symbol=SYMBOLS[i % len(SYMBOLS)], size=7, maxdisplayed=12),
        "mode": "lines+markers",
    }


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        template="plotly_white",
        legend_title_text="",
        hovermode="x unified",
    )
    return fig


def _groups(result: SimulationResult) -> list[tuple[str, list[dict[str, Any]]]]:
    """(strategy, its rows in month order), strategies in registry order."""
    by = result.rows_by_strategy()
    return [(s, by[s]) for s in in_order(by, STRATEGIES)]


def _col(rows: list[dict[str, Any]], name: str) -> list[Any]:
    """One column of the rows; JSON null (no Monte Carlo) stays None, a gap in the line."""
    return [r.get(name) for r in rows]


def cumulative_cost(result: SimulationResult) -> go.Figure:
    """Cumulative cost per strategy: the P50 of the Monte Carlo draws with their P10-P90 band
    shaded (without draws, the run at central inputs). Every band is drawn before any line,
    so no fill covers a line; each line has its own dash and marker."""
    fig = go.Figure()
    groups = _groups(result)
    central = result.central("cumulative_cost_usd")
    for s, rows in groups:
        month, p10 = _col(rows, "month"), _col(rows, "cumulative_cost_usd_p10")
        if all(v is not None for v in p10):
            fig.add_trace(
                go.Scatter(
                    x=month,
                    y=_col(rows, "cumulative_cost_usd_p90"),
                    mode="lines",
                    line=dict(width=0),
                    showlegend=False,
                    hoverinfo="skip",
                    legendgroup=s,
                    name=f"{label(s)} P90",
                    meta="p90",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=month,
                    y=p10,
                    mode="lines",
                    line=dict(width=0),
                    fill="tonexty",
                    fillcolor=_rgba(colour(s), 0.18),
                    legendgroup=s,
                    name=f"{label(s)} P10-P90",
                    meta="p10",
                    hoverinfo="skip",
                )
            )
    for i, (s, rows) in enumerate(groups):
        fig.add_trace(
            go.Scatter(
                x=_col(rows, "month"),
                y=_col(rows, central),
                name=label(s),
                legendgroup=s,
                meta="central",
                hovertemplate="%{y:$,.0f}",
                **_style(i, s),
            )
        )
    title = (
        f"Cumulative cost: median of {result.draws:,} draws, with the P10-P90 band"
        if central != "cumulative_cost_usd"
        else "Cumulative cost (every input at its central value)"
    )
    return _layout(fig, title, "Month", "Cumulative cost (USD)")


def monthly_breakdown(result: SimulationResult) -> go.Figure:
    """Stacked monthly cost by component, one panel group per strategy."""
    from plotly.subplots import make_subplots

    groups = _groups(result)
    fig = make_subplots(
        rows=1, cols=len(groups), shared_yaxes=True, subplot_titles=[label(s) for s, _ in groups]
    )
    components = result.component_columns()
    for i, (_, rows) in enumerate(groups, start=1):
        for c in components:
            fig.add_trace(
                go.Bar(
                    x=_col(rows, "month"),
                    y=_col(rows, c),
                    name=component_label(c),
                    marker_color=component_colour(c),
                    legendgroup=c,
                    showlegend=i == 1,
                ),
                row=1,
                col=i,
            )
        fig.update_xaxes(title_text="Month", row=1, col=i)
    fig.update_layout(
        barmode="stack",
        title="Monthly cost by component (every input at its central value)",
        template="plotly_white",
        yaxis_title="Monthly cost (USD)",
    )
    return fig


def cost_breakdown(result: SimulationResult) -> go.Figure:
    """Horizon total per strategy, stacked by component, infrastructure and people and data
    side by side: the labelling, evaluation and engineering time the usual argument against
    fine-tuning is about, next to the bill it is compared with. Every input at its central
    value."""
    groups = _groups(result)
    names = [label(s) for s, _ in groups]
    fig = go.Figure()
    for c in result.component_columns():
        kind = component_kind(c)
        totals = [sum(v for v in _col(rows, c) if isinstance(v, int | float)) for _, rows in groups]
        fig.add_trace(
            go.Bar(
                x=[names, [COST_KINDS.get(kind, kind)] * len(names)],
                y=totals,
                name=component_label(c),
                marker_color=component_colour(c),
                legendgroup=kind,
                legendgrouptitle_text=COST_KINDS.get(kind, kind),
                hovertemplate="%{x}: %{y:$,.0f}<extra>" + component_label(c) + "</extra>",
            )
        )
    fig.update_layout(barmode="stack", legend_title_text="", template="plotly_white")
    return _layout(
        fig,
        f"{result.months}-month cost: infrastructure beside people and data "
        "(every input at its central value)",
        "Strategy",
        f"Total over {result.months} months (USD)",
    )


def freshness(result: SimulationResult) -> go.Figure:
    """Stale fraction (left) and expected accuracy (right) per month."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Stale knowledge (share changed since last seen)", "Expected accuracy"),
    )
    stale, accuracy = result.central("stale_fraction"), result.central("expected_accuracy")
    for i, (s, rows) in enumerate(_groups(result)):
        month = _col(rows, "month")
        fig.add_trace(
            go.Scatter(x=month, y=_col(rows, stale), name=label(s), legendgroup=s, **_style(i, s)),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=month,
                y=_col(rows, accuracy),
                name=label(s),
                legendgroup=s,
                showlegend=False,
                **_style(i, s),
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="Month")
    fig.update_yaxes(title_text="Stale share", tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="Expected accuracy", tickformat=".0%", row=1, col=2)
    fig.update_layout(title="Knowledge freshness and expected accuracy", template="plotly_white")
    return fig


def latency_vs_budget(result: SimulationResult) -> go.Figure:
    """p50 and p95 latency per strategy against the profile's p95 budget."""
    order = in_order(result.latency, STRATEGIES)
    lat = [result.latency[s] for s in order]
    names = [label(s) for s in order]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=names,
            y=[v.p50_ms for v in lat],
            name="p50",
            marker_color=[_rgba(colour(s), 0.55) for s in order],
        )
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[v.p95_ms for v in lat],
            name="p95",
            marker_color=[colour(s) for s in order],
            text=["meets budget" if v.meets_budget else "over budget" for v in lat],
            textposition="outside",
        )
    )
    budget = lat[0].budget_ms if lat else None
    if budget is not None:
        fig.add_hline(
            y=budget,
            line_dash="dash",
            line_color="black",
            annotation_text=f"p95 budget {budget:,} ms",
        )
    fig.update_layout(barmode="group")
    return _layout(fig, "Latency per answer vs budget", "Strategy", "Latency (ms)")


def tornado(result: SimulationResult, strategy: str, top: int = 10) -> go.Figure:
    """Cumulative cost at the horizon with each input at its low / high end."""
    rows = [r for r in result.sensitivity if r.strategy == strategy][:top][::-1]
    base = (rows[0].base_cost_usd if rows else None) or 0.0
    names = [input_label(r.parameter) for r in rows]
    fig = go.Figure()
    for end, shade in (("low", 0.45), ("high", 1.0)):
        costs = [r.cost_at_low_usd if end == "low" else r.cost_at_high_usd for r in rows]
        fig.add_trace(
            go.Bar(
                y=names,
                x=[(c if c is not None else base) - base for c in costs],
                base=base,
                orientation="h",
                name=f"input at {end} end",
                marker_color=_rgba(colour(strategy), shade),
                customdata=[r.low_value if end == "low" else r.high_value for r in rows],
                hovertemplate="%{y} = %{customdata}: total %{x:$,.0f} "
                "(bar from the central-input total)<extra></extra>",
            )
        )
    fig.add_vline(x=base, line_color="black")
    fig.update_layout(barmode="overlay", hovermode="closest")
    return _layout(
        fig,
        f"Sensitivity of {result.months}-month cost: {label(strategy)}",
        f"Cumulative cost at month {result.months} (USD)",
        "Input",
    )


def all_figures(result: SimulationResult) -> dict[str, go.Figure]:
    figs = {
        "cumulative_cost": cumulative_cost(result),
        "monthly_breakdown": monthly_breakdown(result),
        "cost_breakdown": cost_breakdown(result),
        "freshness": freshness(result),
        "latency": latency_vs_budget(result),
    }
    figs.update({f"tornado_{s}": tornado(result, s) for s in STRATEGIES.values()})
    return figs
