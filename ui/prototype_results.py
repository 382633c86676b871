"""Prototype results: metrics table, accuracy and cost charts, the after-update view, and every
scored answer (filterable, exportable as CSV)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.registry import ROWS
from core.review import review_assumptions, review_split, with_confidence
from prototype.extract import CONFIDENCE_BANDS, CONFIDENT, UNSURE, confidence_band
from ui import state
from ui.common import colour, filterable_table, label, md, pct

METRIC_BARS = (
    ("accuracy", "Accuracy"),
    ("accuracy_paraphrased", "Paraphrased"),
    ("accuracy_updated", "After update"),
    ("format_compliance", "Format"),
    ("source_accuracy", "Source"),
)


def metrics_table(results: list[dict]) -> pd.DataFrame:
    rows = []
    for r in results:
        row = {
            "strategy": label(r["strategy"]) + (f" ({r['variant']})" if r.get("variant") else "")
        }
        row.update(r["metrics"])
        rows.append(row)
    return pd.DataFrame(rows).set_index("strategy")


def metrics_figure(results: list[dict]) -> go.Figure:
    fig = go.Figure()
    for r in results:
        m = r["metrics"]
        fig.add_bar(
            name=label(r["strategy"]),
            x=[lab for _, lab in METRIC_BARS],
            y=[m.get(k) for k, _ in METRIC_BARS],
            marker_color=colour(r["strategy"]),
            text=[pct(m.get(k)) for k, _ in METRIC_BARS],
            textposition="outside",
        )
    fig.update_layout(
        barmode="group",
        template="plotly_white",
        yaxis_tickformat=".0%",
        yaxis_range=[0, 1.1],
        title="Measured on the corpus questions",
        legend_title_text="",
        margin=dict(t=50, b=30),
    )
    return fig


def cost_figure(results: list[dict]) -> go.Figure:
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Latency per answer (ms)", "Build time (s): index or training"),
    )
    for r in results:
        m, name = r["metrics"], label(r["strategy"])
        hue = colour(r["strategy"])
        fig.add_bar(
            x=[name],
            y=[m.get("latency_ms_p95")],
            name=name,
            marker_color=hue,
            showlegend=False,
            row=1,
            col=1,
            hovertext=f"p50 {m.get('latency_ms_p50')} ms",
        )
        fig.add_bar(
            x=[name],
            y=[m.get("build_seconds")],
            name=name,
            marker_color=hue,
            showlegend=False,
            row=1,
            col=2,
        )
    fig.update_layout(template="plotly_white", margin=dict(t=50, b=30), height=320)
    fig.update_yaxes(title_text="p95 ms", row=1, col=1)
    return fig


def update_view(results: list[dict]) -> pd.DataFrame | None:
    """Every strategy row's answers side by side on the questions the update changed (the
    closed-book base is left out: it never knew the old fact either)."""
    by = {r["strategy"]: r for r in results}
    shown = [v for v in ROWS.values() if v in by and ROWS.get(v).strategy is not None]
    rows: dict[str, dict] = {}
    for s in shown:
        recs = by.get(s, {}).get("answers") or []
        old = {a["id"]: a["gold"] for a in recs if a.get("kind") == "original"}
        for a in recs:
            if a.get("kind") != "updated":
                continue
            row = rows.setdefault(
                a["id"],
                {
                    "question": a["question"],
                    "old answer": old.get(a["id"], ""),
                    "new answer": a["gold"],
                },
            )
            row[f"{label(s)} answer"] = a.get("answer") or a.get("raw", "")
            row[f"{label(s)} correct"] = bool(a["correct"])
    return pd.DataFrame(rows.values()) if rows else None


ANSWER_COLUMNS = {  # record key -> column title, in reading order
    "id": "id",
    "kind": "kind",
    "question": "question",
    "answer": "answer",
    "pick": "reader's pick",  # the hybrid's: the span the extractive reader handed the adapter
    "gold": "gold",
    "verdict": "verdict",
    "exact": "exact match",
    "f1": "token F1",
    "source": "cited source",
    "gold_doc": "gold document",
    "source_correct": "source right",
    "shown": "documents shown",
    "raw": "raw model text",
    # the hybrid's: what its adapter wrote when the reader's pick replaced it (`ground`)
    "adapter_raw": "adapter's own text",
    # the extractive reader's: its pick's probability among the spans it scored
    "confidence": "confidence",
    # the extractive reader's: an unsure pick read again with more context (second look)
    "second_look": "read twice",
    "latency_ms": "latency ms",
}
# Filters over the table: column -> widget label (a multiselect each; none picked = all).
ANSWER_FILTERS = {
    "row": "Row",
    "kind": "Kind",
    "verdict": "Verdict",
    "exact match": "Exact match",
    "source right": "Source right",
}


def verdict(a: dict) -> str:
    """The strict verdict in words; a changed fact stated right from the wrong (or no) source
    is told apart, because scoring does not credit it (prototype/scoring.py)."""
    if a.get("gold") is None:
        return "unscored"
    if a.get("correct"):
        return "right"
    if a.get("kind") == "updated" and a.get("content_correct"):
        return "right value, source not shown"
    return "wrong"


def _yes_no(v) -> str | None:
    return None if v is None else ("yes" if v else "no")


# Columns not copied from a record key: worded, joined, or read from the record's `extra`.
_DERIVED = (
    "verdict", "shown", "exact", "source_correct", "pick", "adapter_raw", "confidence",
    "second_look",
)  # fmt: skip


def answers_table(results: list[dict]) -> pd.DataFrame:
    """One row per scored answer of every row in the run: what was asked, what the model said
    (parsed and raw), the gold answer, the strict verdict and exact match, the source it
    cited against the gold document, what it was shown and, for the hybrid, the span the
    extractive reader picked for it and the adapter's own text where the pick replaced it,
    and the extractive reader's confidence in its pick and whether it read twice.
    Older runs lack exact match and F1: those cells are empty, never guessed."""
    rows = []
    for r in results:
        for a in r.get("answers") or []:
            rows.append(
                {
                    "row": label(r["strategy"]),
                    **{
                        title: a.get(key)
                        for key, title in ANSWER_COLUMNS.items()
                        if key not in _DERIVED
                    },
                    "reader's pick": ((a.get("extra") or {}).get("reader_pick") or [None])[0],
                    "adapter's own text": (a.get("extra") or {}).get("adapter_raw"),
                    "confidence": (a.get("extra") or {}).get("confidence"),
                    "read twice": _yes_no(bool((a.get("extra") or {}).get("second_look")))
                    if "confidence" in (a.get("extra") or {})
                    else None,
                    "verdict": verdict(a),
                    "exact match": _yes_no(a.get("exact")),
                    "source right": _yes_no(a.get("source_correct")),
                    "documents shown": ", ".join(a.get("retrieved") or []),
                }
            )
    cols = ["row", *ANSWER_COLUMNS.values()]
    return pd.DataFrame(rows, columns=cols)


def coverage_curves(results: list[dict]) -> dict[str, list[tuple[float, float, float]]]:
    """Per row with confidences: (confidence floor, share of answers at or above it, their
    strict accuracy) for every floor the answers set, highest first. What an architect who
    accepts only answers above a floor, and routes the rest to a person, would get."""
    out: dict[str, list[tuple[float, float, float]]] = {}
    for r in results:
        rs = sorted(
            with_confidence(r.get("answers") or []), key=lambda a: -a["extra"]["confidence"]
        )
        points, right = [], 0
        for i, a in enumerate(rs, 1):
            right += bool(a.get("correct"))
            if i == len(rs) or rs[i]["extra"]["confidence"] < a["extra"]["confidence"]:
                points.append((a["extra"]["confidence"], i / len(rs), right / i))
        if points:
            out[label(r["strategy"])] = points
    return out


def coverage_figure(curves: dict[str, list[tuple[float, float, float]]]) -> go.Figure:
    """Accuracy of the answers accepted against the share accepted, as the confidence floor
    falls: the trade a person-in-the-loop review makes."""
    return _floor_curves(
        curves,
        "%{x:.0%} accepted",
        "Accept only confident answers: how many, and how right",
        "answers accepted (the rest go to a person)",
        "strict accuracy of the accepted answers",
        xaxis_tickformat=".0%",
        xaxis_range=[0, 1.02],
        yaxis_range=[0, 1.05],
    )


def _floor_curves(curves, x_hover: str, title: str, x: str, y: str, **layout) -> go.Figure:
    """One line per row through (floor, x, accuracy) points, the floor in the hover."""
    fig = go.Figure()
    for row, pts in curves.items():
        fig.add_scatter(
            name=row,
            x=[v for _, v, _ in pts],
            y=[acc for _, _, acc in pts],
            customdata=[floor for floor, _, _ in pts],
            mode="lines+markers",
            hovertemplate=f"floor %{{customdata:.2f}}: {x_hover}, %{{y:.0%}} right<extra></extra>",
        )
    return _confidence_layout(fig, title, x, y, **layout)


def confidence_bands(results: list[dict]) -> dict[str, dict[str, tuple[int, int]]]:
    """Per row whose answers carry a confidence: {band: (right, answered)} over its scored
    answers, the bands cut at prototype.extract's UNSURE and CONFIDENT."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for r in results:
        rs = with_confidence(r.get("answers") or [])
        if not rs:
            continue
        counts = dict.fromkeys(CONFIDENCE_BANDS, (0, 0))
        for a in rs:
            band = confidence_band(a["extra"]["confidence"])
            right, n = counts[band]
            counts[band] = (right + bool(a.get("correct")), n + 1)
        out[label(r["strategy"])] = counts
    return out


def confidence_figure(bands: dict[str, dict[str, tuple[int, int]]]) -> go.Figure:
    """Accuracy per confidence band, each bar labelled with its answers: whether the reader's
    confidence tells the answers to check from those to trust."""
    names = (f"< {UNSURE}", f"{UNSURE} to {CONFIDENT}", f">= {CONFIDENT}")
    fig = go.Figure()
    for row, counts in bands.items():
        cells = [counts[b] for b in CONFIDENCE_BANDS]
        fig.add_bar(
            name=row,
            x=[f"{n} ({b})" for n, b in zip(names, CONFIDENCE_BANDS, strict=True)],
            y=[r / n if n else None for r, n in cells],
            text=[f"{r} of {n} right" if n else "none" for r, n in cells],
            textposition="outside",
        )
    return _confidence_layout(
        fig,
        "Does the extractive reader know when it is wrong?",
        "the reader's confidence in its pick",
        "strict accuracy",
        yaxis_range=[0, 1.15],
    )


def _confidence_layout(fig: go.Figure, title: str, x: str, y: str, **more) -> go.Figure:
    """The two confidence charts' shared layout: a share on the y axis."""
    fig.update_layout(
        template="plotly_white",
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        yaxis_tickformat=".0%",
        margin=dict(t=50, b=30),
        **more,
    )
    return fig


# Floors the review trade-off chart walks through: every 0.05 from 0 (nobody checks) to 1.
REVIEW_FLOORS = tuple(round(0.05 * i, 2) for i in range(21))


def review_plan(
    results: list[dict], floor: float, queries_per_month: float, minutes: float, usd_per_hour: float
) -> pd.DataFrame:
    """Per row whose answers carry a confidence: what routing answers under `floor` to a
    person gives and costs at the profile's volume (`review_split`, then people's time).
    "accuracy delivered" assumes the person corrects every wrong answer they check."""
    rows = []
    for r in results:
        s = review_split(r.get("answers") or [], floor)
        if s is None:
            continue
        checked = s["review_share"] * queries_per_month
        rows.append(
            {
                "row": label(r["strategy"]),
                "answered automatically": s["auto_share"],
                "accuracy of those": s["auto_accuracy"],
                "checked by a person": s["review_share"],
                "wrong answers caught": s["wrong_caught"],
                "accuracy delivered": s["accuracy_with_review"],
                "answers checked / month": round(checked),
                "person-hours / month": checked * minutes / 60,
                "review USD / month": checked * minutes / 60 * usd_per_hour,
            }
        )
    return pd.DataFrame(rows)


def review_curves(
    results: list[dict], queries_per_month: float, minutes: float, usd_per_hour: float
) -> dict[str, list[tuple[float, float, float]]]:
    """Per row with confidences: (floor, review USD a month, accuracy delivered) at every
    floor of REVIEW_FLOORS."""
    out: dict[str, list[tuple[float, float, float]]] = {}
    for f in REVIEW_FLOORS:
        plan = review_plan(results, f, queries_per_month, minutes, usd_per_hour)
        for r in plan.to_dict("records"):
            out.setdefault(r["row"], []).append(
                (f, r["review USD / month"], r["accuracy delivered"])
            )
    return out


def review_figure(curves: dict[str, list[tuple[float, float, float]]]) -> go.Figure:
    """Accuracy delivered against the people's monthly cost, one point per confidence floor:
    what each extra dollar of review buys."""
    return _floor_curves(
        curves,
        "%{x:$,.0f} a month",
        "What review buys: accuracy delivered against its monthly cost",
        "people's time checking answers (USD a month)",
        "accuracy delivered",
        xaxis_tickprefix="$",
        yaxis_range=[0, 1.05],
    )


def show_review_plan(results: list[dict]) -> None:
    """Route answers under a confidence floor to a person: the share, the accuracy and the
    monthly cost at the profile's query volume and the price book's reviewer rate."""
    if not any(with_confidence(r.get("answers") or []) for r in results):
        return
    from ui.services import price_book

    rate = price_book().people.review
    st.subheader("Route unsure answers to a person")
    a, b, c = st.columns(3)
    floor = a.slider(
        "Confidence floor", 0.0, 1.0, CONFIDENT, 0.05, key="w.proto.review.floor",
        help="Answers under it go to a person before they are sent. Out of fold on the tuning "
        f"corpora, answers at {CONFIDENT} or more were right 93% of the time.",
    )  # fmt: skip
    minutes = b.number_input(
        "Minutes to check one answer", 0.1, 60.0, 2.0, 0.5, key="w.proto.review.minutes",
        help="Reading the answer against the passages it cites (judgment: 1-5 min).",
    )  # fmt: skip
    volume = c.number_input(
        "Questions a month", 0, 10**9, int(state.current_profile().queries_per_month), 1000,
        key="w.proto.review.volume", help="From the profile; change it to try another volume.",
    )  # fmt: skip
    plan = review_plan(results, floor, volume, minutes, rate.usd_per_hour)
    for r in plan.to_dict("records"):
        st.markdown(
            f"**{md(r['row'])}** answers {pct(r['answered automatically'])} itself, "
            f"{pct(r['accuracy of those'])} right. A person checks the other "
            f"{pct(r['checked by a person'])}: {r['answers checked / month']:,} answers and "
            f"{r['person-hours / month']:,.0f} hours a month, about "
            f"${r['review USD / month']:,.0f}. They see {pct(r['wrong answers caught'])} of its "
            f"wrong answers, so {pct(r['accuracy delivered'])} of answers go out right if they "
            "correct what they check."
        )
    st.dataframe(
        plan.set_index("row"),
        column_config={
            k: st.column_config.NumberColumn(format="percent")
            for k in (
                "answered automatically", "accuracy of those", "checked by a person",
                "wrong answers caught", "accuracy delivered",
            )
        } | {
            "person-hours / month": st.column_config.NumberColumn(format="%.0f"),
            "review USD / month": st.column_config.NumberColumn(format="dollar"),
        },
    )  # fmt: skip
    curves = review_curves(results, volume, minutes, rate.usd_per_hour)
    st.plotly_chart(review_figure(curves), key="fig.proto.review")
    st.caption(
        f"Reviewer rate {rate.usd_per_hour:,.0f} USD/h ({md(rate.source)}, as of {rate.as_of}; "
        "prices/people.yaml). Measured on this run's answers; the delivered accuracy assumes "
        "the person corrects every wrong answer they check."
    )
    _offer_plan(plan, floor, minutes)


def plan_settings(row: dict, floor: float, minutes: float) -> dict:
    """One row of `review_plan` as the simulator's review assumptions (state.REVIEW_PLAN)."""
    caught = row["wrong answers caught"]
    return {
        "row": row["row"],
        "floor": floor,
        **review_assumptions(
            float(row["checked by a person"]),
            None if caught is None or pd.isna(caught) else float(caught),
        ),
        "review_minutes_per_answer": float(minutes),
    }


def _offer_plan(plan: pd.DataFrame, floor: float, minutes: float) -> None:
    """A button that carries one row's plan to the Cost page, which then costs the review
    month by month and counts the wrong answers it catches in the accuracy."""
    records = plan.to_dict("records")
    if not records:
        return
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    names = [r["row"] for r in records]
    pick = left.selectbox("Plan to simulate", names, key="w.proto.review.row")
    if right.button("Cost it over time", key="w.proto.review.use", icon=":material/payments:"):
        settings = plan_settings(records[names.index(pick)], floor, minutes)
        st.session_state[state.REVIEW_PLAN] = settings
        state.flash(
            "success",
            f"Costing the review plan of {md(pick)} at a {floor:.2f} floor: a person checks "
            f"{pct(settings['review_share'])} of the answers and sees "
            f"{pct(settings['review_catch'])} of the wrong ones, for every strategy.",
        )
        st.switch_page("ui/pages/cost.py")


def show_answers(results: list[dict]) -> None:
    """Every scored answer, filterable by row, kind, verdict, exact match and source, and
    downloadable as CSV."""
    table = answers_table(results)
    if table.empty:
        return
    st.subheader(f"Every answer ({len(table):,})")
    filterable_table(
        table,
        {c: (title, "w.proto.ans." + c.split()[0]) for c, title in ANSWER_FILTERS.items()},
        noun="answers",
        key="w.proto.answers",
        filename="ftrag_answers.csv",
        note="Verdict is strict: the gold value, no competing value, not far past it, and for "
        "a changed fact the right source; exact match is the stricter figure beside it. "
        "Confidence (extractive reader): its pick's probability among the spans it scored.",
    )
    bands = confidence_bands(results)
    if bands:
        left, right = st.columns(2)
        left.plotly_chart(confidence_figure(bands), key="fig.proto.confidence")
        right.plotly_chart(coverage_figure(coverage_curves(results)), key="fig.proto.coverage")
    show_review_plan(results)


def show_results() -> None:
    res = st.session_state[state.RESULTS]
    if not res or not res.get("results"):
        return
    results = res["results"]
    where = f" on {md(res.get('corpus', ''))}" if res.get("corpus") else ""
    saved = f" (saved as run {res['run_id']})" if res.get("run_id") else ""
    st.subheader(f"Results{where}{saved}")
    cols = st.columns(len(results))
    for col, r in zip(cols, results, strict=True):
        m = r["metrics"]
        col.metric(
            label(r["strategy"]), pct(m.get("accuracy")), help="Accuracy on the original questions"
        )
        col.caption(
            f"paraphrased {pct(m.get('accuracy_paraphrased'))} · after update "
            f"{pct(m.get('accuracy_updated'))}"
        )
    percent = {k: st.column_config.NumberColumn(lab, format="percent") for k, lab in METRIC_BARS}
    st.dataframe(metrics_table(results), key="w.proto.table", column_config=percent)
    st.plotly_chart(metrics_figure(results), key="fig.proto.metrics")
    st.plotly_chart(cost_figure(results), key="fig.proto.cost")
    st.subheader("Apply the update: who is fresh?")
    view = update_view(results)
    if view is None:
        st.caption(
            "Run RAG and fine-tuning on a corpus with an update/ folder to compare "
            "answers on the changed questions."
        )
    else:
        st.caption(
            "After the documents change, RAG re-indexes only the changed documents; "
            "the fine-tuned model is not retrained, so it keeps the old facts."
        )
        st.dataframe(view, hide_index=True, key="w.proto.update")
    show_answers(results)
