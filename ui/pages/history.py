"""History page: saved profiles, decisions, prototype runs and feedback from the Store; any of
the first three can be reopened (made current) in one click."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from core.errors import AdvisorError, ProfileError
from core.profile import profile_from_dict
from ui import compare, services, state
from ui.common import label, show_error

LIMIT = 200


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _forget_profile_widgets() -> None:
    """So the Profile page re-seeds its form from the reopened profile."""
    for k in [k for k in st.session_state if str(k).startswith("w.profile.")]:
        del st.session_state[k]


def _reopen_profile(payload: dict, source: str) -> bool:
    try:
        profile = profile_from_dict(payload, source)
    except ProfileError as e:
        show_error(e, "This saved profile no longer validates")
        return False
    _forget_profile_widgets()
    state.set_profile(profile)
    return True


def _picker(rows: list[dict], what: str, describe) -> int | None:
    ids = [r["id"] for r in rows]
    by_id = {r["id"]: r for r in rows}
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = c1.selectbox(
        f"{what.capitalize()} to reopen",
        ids,
        format_func=lambda i: describe(by_id[i]),
        key=f"w.history.pick.{what}",
    )
    if c2.button(f"Open {what}", key=f"w.history.open.{what}", icon=":material/open_in_new:"):
        return chosen
    return None


def _profiles(store) -> None:
    rows = store.list_profiles(LIMIT)
    if not rows:
        st.caption("No saved profiles yet: applying the profile form saves one.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": r["id"],
                    "saved": _when(r["created_at"]),
                    "name": r["name"],
                    "task": r["payload"].get("task"),
                    "updates": r["payload"].get("knowledge_update_frequency"),
                }
                for r in rows
            ]
        ),
        hide_index=True,
        key="w.history.t.profiles",
    )
    rid = _picker(rows, "profile", lambda r: f"#{r['id']} {r['name']} ({_when(r['created_at'])})")
    if rid is not None and _reopen_profile(store.load_profile(rid), f"profile #{rid}"):
        state.flash("success", f"Profile #{rid} is now the current profile.")
        st.switch_page("ui/pages/profile.py")
    st.divider()
    compare.render(rows)


def _decisions(store) -> None:
    rows = store.list_decisions(LIMIT)
    if not rows:
        st.caption("No saved decisions yet: save one from the Report page.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": r["id"],
                    "saved": _when(r["created_at"]),
                    "profile": r["profile_name"],
                    "strategy": label(r["strategy"]),
                }
                for r in rows
            ]
        ),
        hide_index=True,
        key="w.history.t.decisions",
    )
    rid = _picker(
        rows,
        "decision",
        lambda r: (
            f"#{r['id']} {r['profile_name']} → {label(r['strategy'])} ({_when(r['created_at'])})"
        ),
    )
    if rid is None:
        return
    decision = store.load_decision(rid)
    if _reopen_profile(decision.get("profile", {}), f"decision #{rid}"):
        st.session_state[state.DECISION] = decision
        state.flash("success", f"Decision #{rid} reopened.")
        st.switch_page("ui/pages/report.py")


def _runs(store) -> None:
    rows = store.list_runs(LIMIT)
    if not rows:
        st.caption("No prototype runs yet: run one on the Prototype page.")
        return
    table = []
    for r in rows:
        results = r["payload"].get("results") or [r["payload"]]
        acc = {x.get("strategy"): (x.get("metrics") or {}).get("accuracy") for x in results}
        table.append(
            {
                "id": r["id"],
                "saved": _when(r["created_at"]),
                "corpus": r["corpus"],
                "strategies": r["strategy"],
                **{f"accuracy {label(k)}": v for k, v in acc.items()},
            }
        )
    frame = pd.DataFrame(table)
    percent = {
        c: st.column_config.NumberColumn(c, format="percent")
        for c in frame.columns
        if c.startswith("accuracy")
    }
    st.dataframe(frame, hide_index=True, key="w.history.t.runs", column_config=percent)
    rid = _picker(
        rows,
        "run",
        lambda r: f"#{r['id']} {r['corpus']}: {r['strategy']} ({_when(r['created_at'])})",
    )
    if rid is None:
        return
    payload = store.load_run(rid)
    results = payload.get("results") or ([payload] if "strategy" in payload else [])
    corpus = next((r["corpus"] for r in rows if r["id"] == rid), "")
    st.session_state[state.RESULTS] = {"results": results, "corpus": corpus, "run_id": rid}
    state.flash("success", f"Prototype run #{rid} reopened.")
    st.switch_page("ui/pages/prototype.py")


def _feedback(store) -> None:
    rows = store.list_feedback(LIMIT)
    if not rows:
        st.caption("No feedback yet: record a decision on the Recommendation page.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": r["id"],
                    "saved": _when(r["created_at"]),
                    "profile": (r["profile"] or {}).get("name"),
                    "chosen": label(r["chosen_strategy"]),
                    "outcome": r["outcome"],
                    "rating": r["rating"],
                    "note": r["note"],
                }
                for r in rows
            ]
        ),
        hide_index=True,
        key="w.history.t.feedback",
    )


def render() -> None:
    st.title("History")
    try:
        store = services.store()
    except AdvisorError as e:
        show_error(e, "The history store cannot be opened")
        return
    st.caption(f"Store: `{store.path}`")
    tabs = st.tabs(["Profiles", "Decisions", "Prototype runs", "Feedback"])
    try:
        for tab, part in zip(tabs, (_profiles, _decisions, _runs, _feedback), strict=True):
            with tab:
                part(store)
    except AdvisorError as e:
        show_error(e, "The history could not be read")


if __name__ == "__main__":
    render()
