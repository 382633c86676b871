"""Cost & freshness page: the simulator's figures, break-even months, and live overrides.

Every control maps to one named simulator assumption or price (the same names `ftrag simulate
--set` takes); only values that differ from the profile's derived defaults are sent, so the
overrides list on the page is exactly what changed.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from core.errors import AdvisorError
from core.inputs import input_label, price_field_label
from core.simulation import SimulationResult
from simulator.assumptions import horizon_end
from ui import services, state
from ui.common import label, md, pct, show_error, strategies
from ui.cost_tables import monthly_frame, old_price_lines, summary_frame

# (assumption, min, max, step, format); labels come from core.inputs. Ranges are what a slider
# can usefully cover; the simulator validates the value itself.
SLIDERS = (
    ("change_rate_per_month", 0.0, 0.6, 0.005, "%.3f"),
    ("retrain_interval_months", 0, 24, 1, None),
    ("k_retrieved", 1.0, 20.0, 1.0, "%.0f"),
    ("chunk_tokens", 64.0, 2048.0, 64.0, "%.0f"),
    ("cached_prefix_fraction", 0.0, 0.9, 0.05, "%.2f"),
    ("query_growth_per_month", -0.1, 0.3, 0.01, "%.2f"),
    ("epochs", 1.0, 10.0, 1.0, "%.0f"),
    # People and data: quantities here, rates in the price book (PEOPLE_PRICES).
    ("ft_examples_target", 0.0, 5000.0, 50.0, "%.0f"),
    ("eval_examples_per_release", 0.0, 2000.0, 50.0, "%.0f"),
    ("eng_hours_per_retrain", 0.0, 80.0, 1.0, "%.0f"),
    ("eng_hours_per_index_refresh", 0.0, 20.0, 0.5, "%.1f"),
)
# (price-book key, entry and field, step): the people rates, overridable here within the range
# the price book states for them (a value outside it is refused; widen it in a price file).
# The last field names the label (`core.inputs.PRICE_FIELDS`).
PEOPLE_PRICES = (
    ("prices.people.labelling.usd_per_example", ("labelling", "usd_per_example"), 0.1,
     "usd_per_example"),
    ("prices.people.engineering.hourly_rate_usd", ("engineering", "hourly_rate_usd"), 5.0,
     "hourly_rate_usd"),
    ("prices.people.review.usd_per_hour", ("review", "usd_per_hour"), 1.0, "review_usd_per_hour"),
)  # fmt: skip
# Answer review without a plan from the Prototype page: answers picked at random to check.
REVIEW_SLIDERS = (
    ("review_share", 0.0, 1.0, 0.05, "%.2f"),
    ("review_minutes_per_answer", 0.5, 30.0, 0.5, "%.1f"),
)
REVIEW_KEYS = ("review_share", "review_catch", "review_minutes_per_answer")


def _key(profile_json_hash: int, name: str) -> str:
    """Widget keys carry the profile's hash, so a new profile resets the controls to its
    own defaults instead of keeping numbers chosen for another use case."""
    return f"w.cost.{profile_json_hash}.{name}"


def _slider(defaults: dict, phash: int, name: str, lo, hi, step, fmt) -> dict:
    """One assumption's slider, at the profile's default; {name: value} when moved."""
    default = defaults["values"][name]
    default = (
        int(min(max(default, lo), hi))
        if isinstance(step, int)
        else float(min(max(default, lo), hi))
    )
    v = st.slider(
        input_label(name), lo, hi, default, step, format=fmt, key=_key(phash, name),
        help=defaults["sources"].get(name),
    )  # fmt: skip
    return {name: v} if v != default else {}


def _review(defaults: dict, phash: int) -> dict:
    """Answer review: the Prototype page's plan when one was carried here (its measured share
    and catch), else sliders for a share picked at random."""
    st.caption("Answer review: a person checks answers before they go out")
    plan = st.session_state.get(state.REVIEW_PLAN)
    if not plan:
        sets: dict = {}
        for spec in REVIEW_SLIDERS:
            sets.update(_slider(defaults, phash, *spec))
        if sets.get("review_share"):
            st.caption(
                "Picked at random, the answers checked hold that share of the wrong ones. "
                "The Prototype page measures how many more a confidence floor finds."
            )
        return sets
    st.markdown(
        f"From the Prototype page: **{md(plan['row'])}** at a {plan['floor']:.2f} confidence "
        f"floor. A person checks {pct(plan['review_share'])} of the answers, "
        f"{plan['review_minutes_per_answer']:g} min each, and sees "
        f"{pct(plan['review_catch'])} of the wrong ones."
    )
    if st.button("Stop costing this plan", key="w.cost.review.clear"):
        st.session_state[state.REVIEW_PLAN] = None
        st.rerun()
    return {k: plan[k] for k in REVIEW_KEYS}


def _controls(defaults: dict, phash: int) -> tuple[dict, int, bool]:
    """Render the override controls; return (changed assumptions, months, calibrate)."""
    values = defaults["values"]
    sets: dict = {}
    book = services.price_book()
    with st.sidebar:
        st.subheader("Assumptions")
        months = st.slider("Horizon (months)", 6, 120, 36, 6, key="w.cost.months")
        calibrate = st.toggle(
            "Calibrate from the latest prototype run",
            key="w.cost.calibrate",
            help="Measured accuracy of the latest saved prototype run replaces the cited "
            "accuracy (paraphrased questions when measured).",
        )
        # Only models a new customer can buy for every simulated month are offered.
        today = date.today()
        end = horizon_end(today, months)
        gen_names = sorted(
            n
            for n, m in book.models.items()
            if m.closed_reason(today, end) is None or n == values["generator_model"]
        )
        gen = st.selectbox(
            "Generator model",
            gen_names,
            index=gen_names.index(values["generator_model"]),
            key=_key(phash, "generator_model"),
            help="Models closed to new users or shutting down within the horizon are left out.",
        )
        if gen != values["generator_model"]:
            sets["generator_model"] = gen
        for spec in SLIDERS:
            sets.update(_slider(defaults, phash, *spec))
        model = book.models[gen]
        if getattr(model, "billing", "") == "per_token":
            st.caption(f"Prices of {gen} (USD per 1M tokens), as of {model.as_of}")
            for field in ("input_per_mtok", "output_per_mtok"):
                base = float(getattr(model, field))
                v = st.number_input(
                    price_field_label(field),
                    0.0,
                    1000.0,
                    base,
                    0.05,
                    format="%.3f",
                    key=_key(phash, f"{gen}.{field}"),
                )
                if v != base:
                    sets[f"prices.models.{gen}.{field}"] = v
        sets.update(_review(defaults, phash))
        st.caption("People rates (prices/people.yaml)")
        for key, (entry, field), step, shown in PEOPLE_PRICES:
            rate = getattr(book.people, entry)
            base = float(getattr(rate, field))
            lo, hi = rate.bounds(field)
            v = st.number_input(
                price_field_label(shown),
                float(lo),
                float(hi),
                base,
                step,
                key=_key(phash, key),
                help=f"{rate.source}. Range {lo:g}-{hi:g}, as of {rate.as_of}.",
            )
            if v != base:
                sets[key] = v
    return sets, months, calibrate


def _break_even(result: dict) -> None:
    cols = st.columns(len(result["break_even"]) or 1)
    for col, be in zip(cols, result["break_even"], strict=False):
        pair = f"{label(be['a'])} vs {label(be['b'])}"
        if be["month"] is None:
            cheaper = be.get("cheaper_at_start")
            col.metric(pair, "never", border=True)
            col.caption(
                f"{label(cheaper) if cheaper else 'Neither'} stays cheaper over "
                f"{result['months']} months"
            )
        else:
            col.metric(pair, f"month {be['month']}", border=True)
            col.caption(
                f"{label(be['dearer_at_start'])} costs more at first, then "
                f"{label(be['cheaper_at_start'])} catches up"
            )


def render() -> None:
    st.title("Cost & freshness over time")
    profile = state.current_profile()
    st.caption(
        f"Profile **{md(profile.name)}**. Change the assumptions in the sidebar; every "
        "figure recomputes at once."
    )
    phash = state.profile_crc(profile)
    try:
        defaults = services.default_assumptions(profile.model_dump_json())
        sets, months, calibrate = _controls(defaults, phash)
        calibration = None
        if calibrate:
            latest = services.store().latest_run()
            calibration = services.calibration_payload(latest)
            if calibration is None:
                st.info(
                    "No prototype run in the history yet: run one on the Prototype page. "
                    "Showing cited accuracies."
                )
        view = services.simulation_view(profile, sets, calibration, months, 2000)
    except AdvisorError as e:
        show_error(e, "The simulation could not run")
        return
    result, figs = view["result"], view["figures"]
    st.session_state[state.SIM_SETTINGS] = {
        "profile_crc": phash,
        "overrides": sets,
        "months": months,
        "calibration": calibration,
    }
    sim = SimulationResult.from_dict(result)

    st.subheader(f"{months}-month summary")
    st.table(summary_frame(sim, profile.model_dump(mode="json"), ""))
    st.caption(
        f"Totals are the median (P50) of {sim.draws:,} Monte Carlo draws, with the P10-P90 "
        "range of the same draws; the chart's lines are the same medians. Per month is the "
        "total spread over the horizon. Totals include people and data (labelling, "
        "evaluation, engineering time, answer review): see the tab beside infrastructure."
    )

    for line in old_price_lines(sim, date.today()):
        st.warning(line, icon=":material/history:")
    st.caption(
        "Fine-tuning and the hybrid's tuned model are priced as "
        + md(
            result["assumptions"]["sources"]
            .get("fine_tuning_model", "")
            .removeprefix("priced path: ")
        )
        + "."
    )

    st.subheader("Break-even")
    _break_even(result)
    if sets or calibration:
        used = result["overrides"]
        st.caption(
            "Overridden: "
            + ", ".join(f"{md(input_label(o['key']))} = {o['new']} (`{o['key']}`)" for o in used)
        )

    st.plotly_chart(figs["cumulative_cost"], key="fig.cumulative")
    tab_p, tab_f, tab_m, tab_l, tab_t = st.tabs(
        [
            "Infrastructure vs people",
            "Freshness & accuracy",
            "Monthly breakdown",
            "Latency vs budget",
            "Sensitivity",
        ]
    )
    with tab_p:
        st.plotly_chart(figs["cost_breakdown"], key="fig.breakdown")
    with tab_f:
        st.plotly_chart(figs["freshness"], key="fig.freshness")
    with tab_m:
        st.plotly_chart(figs["monthly_breakdown"], key="fig.monthly")
    with tab_l:
        st.plotly_chart(figs["latency"], key="fig.latency")
    with tab_t:
        strategy = st.radio(
            "Strategy",
            strategies(),
            format_func=label,
            horizontal=True,
            key="w.cost.tornado",
        )
        st.plotly_chart(figs[f"tornado_{strategy}"], key="fig.tornado")
    with st.expander("Table: one row per month and strategy"):
        frame, config = monthly_frame(sim)
        st.dataframe(frame, hide_index=True, column_config=config)
        st.caption(
            "Cumulative cost, stale share and accuracy are medians of the draws; the monthly "
            "bill and its parts are the run with every input at its central value."
        )
    if result.get("notes"):
        for note in result["notes"]:
            st.caption(note)


if __name__ == "__main__":
    render()
