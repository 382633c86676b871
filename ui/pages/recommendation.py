"""Recommendation page: the strategy, how sure, and why (rules and learned scorer), plus a
control to record what was actually decided and how it turned out (feedback for retraining).

The budgets come first: the recommendation is held against the simulated latency and cost
(`core.feasibility.assess`, the same check the report prints), with the Cost page's settings.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.errors import AdvisorError
from core.feasibility import Feasibility, assess
from core.recommendation import Recommendation, feature_answer, feature_label
from core.simulation import SimulationResult
from report.sections.recommendation import reliability_figure
from ui import services, state
from ui.common import colour, label, md, show_error, strategies

OUTCOMES = ("worked", "mixed", "failed")  # advisor.cases.OUTCOME_WEIGHT's vocabulary
TOP_FEATURES = 10


def scores_figure(rec: dict) -> go.Figure:
    """Blended probability per strategy, with rule points and learned probability beside."""
    learned = rec["learned"]["probabilities"]
    order = strategies()
    fig = go.Figure()
    fig.add_bar(
        x=[label(s) for s in order],
        y=[rec["scores"][s] for s in order],
        marker_color=[colour(s) for s in order],
        name="blended",
        showlegend=False,
        text=[f"{rec['scores'][s]:.0%}" for s in order],
        textposition="outside",
    )
    fig.add_scatter(
        x=[label(s) for s in order],
        y=[learned.get(s, 0.0) for s in order],
        mode="markers",
        marker=dict(symbol="diamond", size=12, color="#333"),
        name="learned scorer alone",
    )
    fig.update_layout(
        template="plotly_white",
        yaxis_tickformat=".0%",
        yaxis_range=[0, 1.15],
        title="Score of each strategy",
        height=340,
        margin=dict(t=50, b=20),
        legend=dict(orientation="h", y=-0.15),
    )
    return fig


def contributions_figure(rec: dict, strategy: str, profile: dict) -> go.Figure:
    """This profile's answers that pushed the learned scorer toward / away from `strategy`
    (largest first), each named by its label and the profile's own answer."""
    contrib = rec["learned"]["contributions"][strategy]
    top = sorted(contrib.items(), key=lambda kv: abs(kv[1]))[-TOP_FEATURES:]

    def name(f: str) -> str:
        return f"{feature_label(f)}: {feature_answer(f, profile)}"

    fig = go.Figure(
        go.Bar(
            x=[v for _, v in top],
            y=[name(f) for f, _ in top],
            orientation="h",
            marker_color=["#1b9e77" if v > 0 else "#d95f02" for _, v in top],
            hovertemplate="%{y}: %{x:+.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        template="plotly_white",
        height=360,
        margin=dict(t=50, b=20),
        title=f"What pushed the learned scorer toward / away from {label(strategy)}",
        xaxis_title=f"push toward {label(strategy)} (+) or away (-)",
    )
    return fig


def _rules(rec: dict) -> None:
    st.subheader("Rules that fired")
    if not rec["rules"]:
        st.caption("No rule fired; the learned scorer decides alone.")
    for r in rec["rules"]:
        effect = ", ".join(f"{label(k)} {v:+g}" for k, v in r["effect"].items() if v)
        with st.container(border=True):
            st.markdown(f"{md(r['sentence'])}")
            cite = md(r["citation"])
            if r.get("url", "") and str(r["url"]).startswith("https://"):
                cite = f"[{cite}]({r['url']})"
            st.caption(f"`{r['id']}` · when {md(r['condition'])} · {effect}  \n{cite}")


def _confidence(rec: dict) -> None:
    """What the confidence means, its flags, and the reliability diagram behind it."""
    ci = rec.get("confidence_info")
    if not ci:
        return
    st.caption(md(ci["meaning"]))
    for flag in ci.get("flags") or []:
        st.warning(md(flag), icon=":material/trending_down:")
    with st.expander("What the confidence means: reliability diagram", expanded=False):
        st.plotly_chart(
            reliability_figure(ci.get("reliability") or [], ci.get("shown")),
            key="fig.rec.reliability",
        )


def _counterfactuals(rec: dict) -> None:
    """The smallest profile changes that would flip the answer to each other strategy."""
    cfs = rec.get("counterfactuals") or []
    if not cfs:
        return
    st.subheader("What would change the answer")
    st.caption(
        "The smallest change to this profile that makes the advisor pick each other strategy: "
        "fewest fields first, then the smallest step."
    )
    for cf in cfs:
        st.markdown(f"- {md(cf['sentence'])}")


def _feedback(profile, rec: dict, pick: str) -> None:
    st.subheader("Record the decision taken")
    st.caption(
        "What did the team actually choose, and how did it go? Saved to the history; "
        "`ftrag advisor retrain` learns from it."
    )
    with st.form("feedback_form", enter_to_submit=True):
        c1, c2, c3 = st.columns(3)
        chosen = c1.selectbox(
            "Strategy chosen",
            strategies(),
            format_func=label,
            index=strategies().index(pick),
            key="w.rec.chosen",
        )
        outcome = c2.selectbox("Outcome", OUTCOMES, key="w.rec.outcome")
        rating = c3.slider("Rating", 1, 5, 4, key="w.rec.rating")
        note = st.text_input("Note (optional)", max_chars=500, key="w.rec.note")
        if st.form_submit_button("Save feedback"):
            try:
                fid = services.store().save_feedback(
                    profile.model_dump(mode="json"), chosen, outcome, rating, note
                )
            except AdvisorError as e:
                show_error(e, "Could not save the feedback")
            else:
                st.success(f"Feedback saved (#{fid}): {label(chosen)}, {outcome}.")


def _feasibility(profile, rec: dict) -> Feasibility | None:
    """The recommendation held against the budgets, on the Cost page's simulation."""
    sim = state.sim_settings()
    view = services.simulation_view(
        profile, sim["overrides"], sim.get("calibration"), int(sim.get("months", 36)), 2000
    )
    result = SimulationResult.from_dict(view["result"])
    return assess(Recommendation.from_dict(rec), result, profile.model_dump(mode="json"))


def _budgets_first(f: Feasibility | None) -> None:
    if f and f.warnings:
        st.warning(
            "**Check the budgets first.**\n\n" + "\n".join(f"- {md(w)}" for w in f.warnings),
            icon=":material/warning:",
        )


def render() -> None:
    profile = state.current_profile()
    st.title("Recommendation")
    try:
        rec = services.recommend_view(profile)
        feas = _feasibility(profile, rec)
    except AdvisorError as e:
        show_error(e, "No recommendation")
        return
    _budgets_first(feas)
    st.caption(
        f"For **{md(profile.name)}**: rules from the research and vendor guides, blended "
        "with a scorer learned from labelled cases, then held against the latency and monthly "
        "budgets."
    )
    pick = feas.pick if feas else rec["strategy"]
    changed = bool(feas and feas.changed)
    c1, c2, c3, c4 = st.columns([1.3, 0.8, 1, 1])
    c1.metric(
        "Recommended strategy",
        label(pick),
        border=True,
        help=f"The best fit for the use case is {label(rec['strategy'])}; it misses a budget."
        if changed
        else None,
    )
    if feas and feas.warnings and not changed:
        c1.caption("Misses the budgets: see the warning above.")
    elif changed:
        c1.caption(f"Within the budgets; on the use case alone: {label(rec['strategy'])}.")
    c2.metric(
        "Advisor score" if changed else "Confidence",
        f"{(rec['confidence'] if not changed else rec['scores'].get(pick, 0.0)):.0%}",
        border=True,
        help="Calibrated on source-grouped cross-validation, lowered when rules and scorer "
        "disagree or the profile is far from every cited case, and capped below 100%.",
    )
    c3.metric("Rules pick", label(rec.get("rules_pick", "")), border=True)
    c4.metric("Learned scorer pick", label(rec["learned"]["pick"]), border=True)
    if rec.get("disagreement"):
        st.warning(
            f"**Rules and the learned scorer disagree.** {md(rec['disagreement']['sentence'])}",
            icon=":material/warning:",
        )

    _confidence(rec)
    _counterfactuals(rec)

    left, right = st.columns(2)
    with left:
        st.plotly_chart(scores_figure(rec), key="fig.rec.scores")
    with right:
        which = st.segmented_control(
            "Contributions toward",
            strategies(),
            format_func=label,
            default=rec["strategy"],
            key="w.rec.contrib",
        )
        fig = contributions_figure(rec, which or rec["strategy"], profile.model_dump(mode="json"))
        st.plotly_chart(fig, key="fig.rec.contrib")
    _rules(rec)
    if rec.get("similar_cases"):
        with st.expander("Closest labelled cases"):
            for c in rec["similar_cases"]:
                st.markdown(
                    f"- **{md(c['id'])}** → {label(c['strategy'])}: "
                    f"{md(c['justification'])} *({md(c['citation'])})*"
                )
    _feedback(profile, rec, pick)


if __name__ == "__main__":
    render()
