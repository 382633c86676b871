"""Two saved profiles side by side (History page): what differs, what each is recommended, and
each one's 3-year cost summary, so a board sees what a change of inputs changes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import AdvisorError, ProfileError
from core.profile import Profile, field_label, profile_from_dict
from core.simulation import SimulationResult
from ui import services
from ui.common import label, md, show_error
from ui.cost_tables import summary_frame

MONTHS, DRAWS = 36, 2000  # the Cost page's defaults, so the figures match it


def differences(a: dict, b: dict) -> pd.DataFrame:
    """The fields whose values differ, with plain labels (name excluded)."""
    keys = [k for k in dict.fromkeys([*a, *b]) if k != "name" and a.get(k) != b.get(k)]
    return pd.DataFrame(
        [{"field": field_label(k), "A": str(a.get(k)), "B": str(b.get(k))} for k in keys]
    )


def _column(col, profile: Profile, tag: str) -> None:
    rec = services.recommend_view(profile)
    col.metric(
        f"{tag}: {profile.name}",
        label(rec["strategy"]),
        f"confidence {rec['confidence']:.0%}",
        delta_color="off",
    )
    view = services.simulation_view(profile, {}, None, MONTHS, DRAWS)
    sim = SimulationResult.from_dict(view["result"])
    col.dataframe(summary_frame(sim, profile.model_dump(), rec["strategy"]))


def render(rows: list[dict]) -> None:
    """`rows`: the Store's saved profiles (newest first)."""
    st.subheader("Compare two profiles")
    if len(rows) < 2:
        st.caption("Save a second profile to compare two side by side.")
        return
    by_id = {r["id"]: r for r in rows}
    ids = list(by_id)
    c1, c2 = st.columns(2)

    def name(i: int) -> str:
        return f"#{i} {by_id[i]['name']}"

    a = c1.selectbox("Profile A", ids, index=1, format_func=name, key="w.history.cmp.a")
    b = c2.selectbox("Profile B", ids, index=0, format_func=name, key="w.history.cmp.b")
    if a == b:
        st.caption("Pick two different profiles.")
        return
    try:
        pa = profile_from_dict(by_id[a]["payload"], f"profile #{a}")
        pb = profile_from_dict(by_id[b]["payload"], f"profile #{b}")
    except ProfileError as e:
        show_error(e, "A saved profile no longer validates")
        return
    diff = differences(pa.model_dump(), pb.model_dump())
    if diff.empty:
        st.info("The two profiles have the same inputs.")
    else:
        st.markdown(f"**{len(diff)} input(s) differ**")
        st.dataframe(diff, hide_index=True, key="w.history.cmp.diff")
    try:
        _column(c1, pa, "A")
        _column(c2, pb, "B")
    except AdvisorError as e:
        show_error(e, f"Could not compare {md(pa.name)} and {md(pb.name)}")
