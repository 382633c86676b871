"""The report's charts, in reading order: the simulation figures (`report.figures`) plus the
prototype metrics chart, each with the section it belongs under and its caption.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.decision import Decision
from core.prototype_result import METRIC_KEYS, PrototypeRun
from core.registry import ROWS
from report.sections.prototype import metric_column, ordered_results, row_name

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


def _prototype_figure(run: PrototypeRun):
    import plotly.graph_objects as go

    # The share metrics of the run's task (QA: accuracy, paraphrased, after update, format,
    # source; a behaviour task: its own), one axis 0-1.
    results = ordered_results(run)
    keys = results[0].metric_keys if results else METRIC_KEYS
    shares = [(k, metric_column(k)[0]) for k in keys if metric_column(k)[1] == "pct"]
    fig = go.Figure()
    for r in results:
        ys = [r.metrics.get(k) for k, _ in shares]
        fig.add_trace(
            go.Bar(
                x=[t for _, t in shares],
                y=ys,
                name=row_name(r),
                marker_color=ROWS.colour(r.strategy),
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
    ci = decision.recommendation.confidence_info
    if ci and ci.reliability:  # decisions made before issue 17 have none
        from report.sections.recommendation import reliability_figure

        charts.append(
            Chart(
                "chart-reliability",
                "recommendation",
                "What the confidence means",
                "Source-grouped cross-validation: for each confidence bin, the share of "
                "recommendations that matched the cited case; the dashed line is perfect "
                "calibration and the vertical line this recommendation's confidence.",
                reliability_figure(ci.reliability, ci.shown),
            )
        )
    sim = decision.simulation
    if sim:
        from report import figures as F

        months = sim.months
        charts += [
            Chart(
                "chart-cumulative-cost",
                "cost",
                "Cumulative cost",
                f"Cumulative cost per strategy over {months} months; the shaded band is the "
                "Monte Carlo P10-P90 range.",
                F.cumulative_cost(sim),
            ),
            Chart(
                "chart-cost-breakdown",
                "cost",
                "Infrastructure beside people and data",
                f"The {months}-month total per strategy: infrastructure (tokens, training, "
                "index, GPUs) and people and data (labelling, evaluation per release, "
                "engineer-hours per retrain and per index refresh), side by side.",
                F.cost_breakdown(sim),
            ),
            Chart(
                "chart-monthly-breakdown",
                "cost",
                "Monthly cost by component",
                "What each month's bill is made of, per strategy.",
                F.monthly_breakdown(sim),
            ),
        ]
        if any(r.strategy == decision.strategy for r in sim.sensitivity):
            charts.append(
                Chart(
                    "chart-tornado",
                    "cost",
                    "Sensitivity",
                    f"Cumulative cost at month {months} with each input at its low and high end.",
                    F.tornado(sim, decision.strategy, top=8),
                )
            )
        charts.append(
            Chart(
                "chart-freshness",
                "freshness",
                "Freshness and expected accuracy",
                "Share of the knowledge that changed since the model or index last saw it, and "
                "the expected accuracy that follows from it.",
                F.freshness(sim),
            )
        )
        if sim.latency:
            charts.append(
                Chart(
                    "chart-latency",
                    "latency",
                    "Latency vs budget",
                    "p50 and p95 latency of one answer against the p95 budget.",
                    F.latency_vs_budget(sim),
                )
            )
    if decision.prototype and decision.prototype.results:
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
