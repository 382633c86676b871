"""Results of a behaviour-task run (classification, extraction): the task's own metrics per row,
what each row's prompt costs against what it scores, and every scored example (filterable,
exportable as CSV). Metric names and their order come from the task's TaskSpec."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.prototype_result import cut_short, trainings
from core.registry import TASKS
from report.sections.prototype import METRIC_COLUMNS
from ui.common import colour, filterable_table, label, md, pct

COSTS = ("prompt_tokens_mean", "latency_ms_p50")


def metric_label(key: str) -> str:
    """The report's column title for a metric, so app and report name it alike."""
    return METRIC_COLUMNS.get(key, (key.replace("_", " "),))[0]


def _spec(results: list[dict]):
    return TASKS.get(results[0].get("task", "knowledge_qa"))


def is_task_run(results: list[dict]) -> bool:
    return bool(results) and _spec(results).data == "dataset"


def metrics_frame(results: list[dict]) -> pd.DataFrame:
    keys = [*_spec(results).metrics, *COSTS, "build_seconds"]
    rows = [
        {"row": label(r["strategy"]), **{metric_label(k): r["metrics"].get(k) for k in keys}}
        for r in results
    ]
    return pd.DataFrame(rows).set_index("row")


def metrics_figure(results: list[dict]) -> go.Figure:
    """Left: the task's metrics per row (grouped bars). Right: prompt length per row, the
    price of each row's answers (fine-tuning's short prompt against few-shot retrieval)."""
    spec = _spec(results)
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.7, 0.3], subplot_titles=("Scores", "Prompt tokens")
    )
    for r in results:
        m = r["metrics"]
        fig.add_bar(
            x=[metric_label(k) for k in spec.metrics],
            y=[m.get(k) for k in spec.metrics],
            name=label(r["strategy"]),
            marker_color=colour(r["strategy"]),
            legendgroup=r["strategy"],
            row=1,
            col=1,
        )
        fig.add_bar(
            x=[label(r["strategy"])],
            y=[m.get("prompt_tokens_mean")],
            marker_color=colour(r["strategy"]),
            legendgroup=r["strategy"],
            showlegend=False,
            row=1,
            col=2,
        )
    fig.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=1)
    fig.update_layout(barmode="group", height=380, margin=dict(t=40, b=10))
    return fig


STOPS = {
    "train_exact": "fit the training set",
    "max_seconds": "time budget",
    "max_epochs": "epoch limit",
}


def training_frame(results: list[dict]) -> pd.DataFrame:
    """How each row's LoRA training ended. A capped run trains as far as the machine gets in
    the budget, so this says whether a bigger budget would change the scores."""
    rows = [
        {
            "row": _name(strategy, retrained),
            "seconds": round(t.get("seconds") or 0.0, 1),
            "steps": t.get("steps"),
            "epochs": t.get("epochs"),
            "stopped by": STOPS.get(t.get("stop_reason", ""), t.get("stop_reason")),
            "train exact": t.get("train_exact"),
            "precision": t.get("precision", "fp32"),
            "adapter reused": "yes" if t.get("reused") else "no",
        }
        for strategy, retrained, _, t in trainings(results)
    ]
    return pd.DataFrame(rows)


def _name(strategy: str, retrained: bool) -> str:
    return f"{label(strategy)} (retrained)" if retrained else label(strategy)


def underfit_notes(results: list[dict]) -> list[str]:
    """One note per adapter that the time budget stopped before it fit its training set."""
    return [
        f"{', '.join(_name(*u) for u in users)}: training stopped at the time budget after "
        f"{t.get('steps')} steps, with {pct(t.get('train_exact'))} of the training examples "
        "reproduced exactly. A larger training budget is likely to raise these scores (on the "
        "held-out invoice dataset, 900 s reached field F1 0.91 where 165 s reached 0.81-0.85, "
        "on a 2-core CPU)."
        for users, t in cut_short(results)
    ]


def answers_frame(results: list[dict]) -> pd.DataFrame:
    rows = []
    for r in results:
        for a in r.get("answers") or ():
            gold = a.get("gold")
            rows.append(
                {
                    "row": label(r["strategy"]),
                    "set": "after update" if a.get("kind") == "updated" else "test",
                    "text": a.get("text"),
                    "gold": gold if isinstance(gold, str) else json.dumps(gold),
                    "output": a.get("raw"),
                    "right": "yes" if a.get("correct") else "no",
                    "valid format": "yes" if a.get("compliant") else "no",
                    "latency ms": a.get("latency_ms"),
                    # hybrid+route: the adapter, retrieval, or both (a field read by retrieval)
                    "answered by": (a.get("extra") or {}).get("route", ""),
                }
            )
    table = pd.DataFrame(rows)
    if "answered by" in table and not table["answered by"].any():
        table = table.drop(columns="answered by")  # no routed row in this run
    return table


def show(res: dict) -> None:
    results = res["results"]
    spec = _spec(results)
    where = f" on {md(res.get('corpus', ''))}" if res.get("corpus") else ""
    saved = f" (saved as run {res['run_id']})" if res.get("run_id") else ""
    st.subheader(f"{spec.label} results{where}{saved}")
    head, *rest = spec.metrics
    for col, r in zip(st.columns(len(results)), results, strict=True):
        m = r["metrics"]
        col.metric(label(r["strategy"]), pct(m.get(head)), help=metric_label(head))
        col.caption(" · ".join(f"{metric_label(k)} {pct(m.get(k))}" for k in rest))
    percent = {
        metric_label(k): st.column_config.NumberColumn(format="percent") for k in spec.metrics
    }
    st.dataframe(metrics_frame(results), key="w.task.table", column_config=percent)
    st.plotly_chart(metrics_figure(results), key="fig.task.metrics")
    st.caption(
        "After the update, retrieval rows index the new examples and fine-tuning is not "
        "retrained: new labels or a new field reach it only through retrieval."
    )
    trained = training_frame(results)
    if not trained.empty:
        st.subheader("Training")
        st.dataframe(
            trained,
            key="w.task.training",
            hide_index=True,
            column_config={"train exact": st.column_config.NumberColumn(format="percent")},
        )
        for note in underfit_notes(results):
            st.warning(note, icon=":material/timer:")
    table = answers_frame(results)
    if table.empty:
        return
    st.subheader(f"Every example ({len(table):,})")
    filterable_table(
        table,
        {c: (c, f"w.task.f.{c}") for c in ("row", "set", "right")},
        noun="examples",
        key="w.task.answers",
        filename="ftrag_task_answers.csv",
    )
