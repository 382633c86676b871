"""Plotly figures of a SimulationResult. They only draw: every number comes from the result.

One palette for the whole product, so a strategy has the same colour on every chart.
"""

from __future__ import annotations

import plotly.graph_objects as go

from simulator.model import COMPONENTS
from simulator.simulate import SimulationResult

PALETTE = {"fine_tuning": "#d95f02", "rag": "#1b9e77", "hybrid": "#7570b3"}
LABELS = {"fine_tuning": "Fine-tuning", "rag": "RAG", "hybrid": "Hybrid (FT + RAG)"}
COMPONENT_COLOURS = dict(
    zip(
        COMPONENTS,
        (
            "#8c564b",
            "#d62728",
            "#2ca02c",
            "#17becf",
            "#bcbd22",
            "#7f7f7f",
            "#1f77b4",
            "#ff7f0e",
        ),
        strict=True,
    )
)


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


def cumulative_cost(result: SimulationResult) -> go.Figure:
    """Cumulative cost per strategy, with the Monte Carlo P10-P90 band shaded."""
    fig = go.Figure()
    for s, g in result.rows.groupby("strategy", sort=False):
        colour = PALETTE[s]
        if g["cumulative_cost_usd_p10"].notna().all():
            fig.add_trace(
                go.Scatter(
                    x=g.month,
                    y=g.cumulative_cost_usd_p90,
                    mode="lines",
                    line=dict(width=0),
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=g.month,
                    y=g.cumulative_cost_usd_p10,
                    mode="lines",
                    line=dict(width=0),
                    fill="tonexty",
                    fillcolor=_rgba(colour, 0.18),
                    name=f"{LABELS[s]} P10-P90",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=g.month,
                y=g.cumulative_cost_usd,
                mode="lines",
                line=dict(color=colour, width=2.5),
                name=LABELS[s],
            )
        )
    return _layout(
        fig, "Cumulative cost (central estimate, P10-P90 band)", "Month", "Cumulative cost (USD)"
    )


def monthly_breakdown(result: SimulationResult) -> go.Figure:
    """Stacked monthly cost by component, one panel group per strategy."""
    from plotly.subplots import make_subplots

    groups = list(result.rows.groupby("strategy", sort=False))
    fig = make_subplots(
        rows=1, cols=len(groups), shared_yaxes=True, subplot_titles=[LABELS[s] for s, _ in groups]
    )
    for i, (_, g) in enumerate(groups, start=1):
        for c in COMPONENTS:
            fig.add_trace(
                go.Bar(
                    x=g.month,
                    y=g[c],
                    name=c.removesuffix("_usd").replace("_", " "),
                    marker_color=COMPONENT_COLOURS[c],
                    legendgroup=c,
                    showlegend=i == 1,
                ),
                row=1,
                col=i,
            )
        fig.update_xaxes(title_text="Month", row=1, col=i)
    fig.update_layout(
        barmode="stack",
        title="Monthly cost by component",
        template="plotly_white",
        yaxis_title="Monthly cost (USD)",
    )
    return fig


def freshness(result: SimulationResult) -> go.Figure:
    """Stale fraction (left) and expected accuracy (right) per month."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Stale knowledge (share changed since last seen)", "Expected accuracy"),
    )
    for s, g in result.rows.groupby("strategy", sort=False):
        style = dict(color=PALETTE[s], width=2.5)
        fig.add_trace(
            go.Scatter(x=g.month, y=g.stale_fraction, name=LABELS[s], line=style, legendgroup=s),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=g.month,
                y=g.expected_accuracy,
                name=LABELS[s],
                line=style,
                legendgroup=s,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="Month")
    fig.update_yaxes(title_text="Stale fraction", tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="Expected accuracy", tickformat=".0%", row=1, col=2)
    fig.update_layout(title="Knowledge freshness and expected accuracy", template="plotly_white")
    return fig


def latency_vs_budget(result: SimulationResult) -> go.Figure:
    """p50 and p95 latency per strategy against the profile's p95 budget."""
    lat = result.latency
    names = [LABELS[s] for s in lat]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=names,
            y=[v["p50_ms"] for v in lat.values()],
            name="p50",
            marker_color=[_rgba(PALETTE[s], 0.55) for s in lat],
        )
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[v["p95_ms"] for v in lat.values()],
            name="p95",
            marker_color=[PALETTE[s] for s in lat],
            text=["meets budget" if v["meets_budget"] else "over budget" for v in lat.values()],
            textposition="outside",
        )
    )
    budget = next(iter(lat.values()))["budget_ms"]
    fig.add_hline(
        y=budget, line_dash="dash", line_color="black", annotation_text=f"p95 budget {budget:,} ms"
    )
    fig.update_layout(barmode="group")
    return _layout(fig, "Latency per answer vs budget", "Strategy", "Latency (ms)")


def tornado(result: SimulationResult, strategy: str, top: int = 10) -> go.Figure:
    """Cumulative cost at the horizon with each input at its low / high end."""
    rows = [r for r in result.sensitivity if r["strategy"] == strategy][:top][::-1]
    base = rows[0]["base_cost_usd"] if rows else 0.0
    names = [r["parameter"] for r in rows]
    fig = go.Figure()
    for end, shade in (("low", 0.45), ("high", 1.0)):
        fig.add_trace(
            go.Bar(
                y=names,
                x=[r[f"cost_at_{end}_usd"] - base for r in rows],
                base=base,
                orientation="h",
                name=f"input at {end} end",
                marker_color=_rgba(PALETTE[strategy], shade),
                customdata=[r[f"{end}_value"] for r in rows],
                hovertemplate="%{y} = %{customdata}: %{x:,.0f} USD<extra></extra>",
            )
        )
    fig.add_vline(x=base, line_color="black")
    fig.update_layout(barmode="overlay", hovermode="closest")
    return _layout(
        fig,
        f"Sensitivity of {result.months}-month cost: {LABELS[strategy]}",
        f"Cumulative cost at month {result.months} (USD)",
        "Input",
    )


def all_figures(result: SimulationResult) -> dict[str, go.Figure]:
    figs = {
        "cumulative_cost": cumulative_cost(result),
        "monthly_breakdown": monthly_breakdown(result),
        "freshness": freshness(result),
        "latency": latency_vs_budget(result),
    }
    figs.update({f"tornado_{s}": tornado(result, s) for s in PALETTE})
    return figs
