"""Charts for a report: the simulator's own figures (one palette product-wide) plus the
prototype metrics chart, built from a Decision's plain data.

`simulator.figures` draws from a SimulationResult; a report may be re-rendered from a JSON file
that has no live result, so `_SimulationView` rebuilds just the attributes those figures read
(rows, latency, sensitivity, months) from the simulation dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.decision import Decision

# Print geometry: A4 text width at 96 dpi is ~700 px; render wider and let the PDF scale down,
# so labels stay sharp and legible.
STATIC_WIDTH = 1000
STATIC_HEIGHT = 460


@dataclass(frozen=True)
class Chart:
    id: str
    section: str  # the report section it belongs under
    title: str
    caption: str
    figure: Any  # plotly.graph_objects.Figure


@dataclass(frozen=True)
class _SimulationView:
    rows: Any
    latency: dict
    sensitivity: tuple
    months: int


def _view(sim: dict) -> _SimulationView:
    import pandas as pd

    rows = pd.DataFrame(sim["rows"])
    for col in rows.columns:  # JSON nulls (no Monte Carlo) -> NaN, as in a live result
        if col not in ("strategy",):
            rows[col] = pd.to_numeric(rows[col], errors="coerce")
    return _SimulationView(
        rows=rows,
        latency=sim.get("latency") or {},
        sensitivity=tuple(sim.get("sensitivity") or ()),
        months=int(sim["months"]),
    )


def _prototype_figure(proto: dict):
    import plotly.graph_objects as go

    from report.context import label

    metrics = (
        ("accuracy", "Accuracy"),
        ("accuracy_paraphrased", "Paraphrased"),
        ("accuracy_updated", "After update"),
        ("format_compliance", "Format"),
        ("source_accuracy", "Source"),
    )
    try:
        from report.figures import PALETTE
    except Exception:  # noqa: BLE001 - the chart must not fail because a palette moved
        PALETTE = {}
    palette = {"base": "#999999", **PALETTE}
    fig = go.Figure()
    for r in proto.get("results") or []:
        m = r.get("metrics") or {}
        name = label(r.get("strategy")) + (f" ({r['variant']})" if r.get("variant") else "")
        ys = [m.get(k) for k, _ in metrics]
        fig.add_trace(
            go.Bar(
                x=[t for _, t in metrics],
                y=ys,
                name=name,
                marker_color=palette.get(r.get("strategy")),
                text=[f"{y:.0%}" if isinstance(y, int | float) else "n/a" for y in ys],
                textposition="outside",
            )
        )
    fig.update_layout(
        title="Prototype: measured shares per strategy",
        barmode="group",
        template="plotly_white",
        yaxis_tickformat=".0%",
        yaxis_range=[0, 1.12],
        yaxis_title="Share of questions",
        legend_title_text="",
    )
    return fig


def build_charts(decision: Decision) -> list[Chart]:
    """Every chart of the report, in reading order; empty when there is nothing to draw."""
    charts: list[Chart] = []
    sim = decision.simulation
    if sim:
        from report import figures as F

        view = _view(sim)
        months = view.months
        charts += [
            Chart(
                "chart-cumulative-cost",
                "cost",
                "Cumulative cost",
                f"Cumulative cost per strategy over {months} months; the shaded band is the "
                "Monte Carlo P10-P90 range.",
                F.cumulative_cost(view),
            ),
            Chart(
                "chart-monthly-breakdown",
                "cost",
                "Monthly cost by component",
                "What each month's bill is made of, per strategy.",
                F.monthly_breakdown(view),
            ),
        ]
        if any(r.get("strategy") == decision.strategy for r in view.sensitivity):
            charts.append(
                Chart(
                    "chart-tornado",
                    "cost",
                    "Sensitivity",
                    f"Cumulative cost at month {months} with each input at its low and high end.",
                    F.tornado(view, decision.strategy, top=8),
                )
            )
        charts.append(
            Chart(
                "chart-freshness",
                "freshness",
                "Freshness and expected accuracy",
                "Share of the knowledge that changed since the model or index last saw it, and "
                "the expected accuracy that follows from it.",
                F.freshness(view),
            )
        )
        if view.latency:
            charts.append(
                Chart(
                    "chart-latency",
                    "latency",
                    "Latency vs budget",
                    "p50 and p95 latency of one answer against the p95 budget.",
                    F.latency_vs_budget(view),
                )
            )
    if decision.prototype and decision.prototype.get("results"):
        charts.append(
            Chart(
                "chart-prototype",
                "prototype",
                "Prototype metrics",
                "Measured accuracy, paraphrase robustness, freshness after an update "
                "and format compliance, per strategy.",
                _prototype_figure(decision.prototype),
            )
        )
    for c in charts:
        c.figure.update_layout(
            font=dict(family="DejaVu Sans, Arial, sans-serif", size=13),
            margin=dict(l=70, r=30, t=70, b=60),
        )
    return charts
