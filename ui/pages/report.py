"""Report page: the current decision (profile + recommendation + simulation + prototype) as
Markdown, HTML, PDF and JSON downloads and a Markdown ADR (MADR layout), with the Markdown
previewed.

The decision uses the Cost page's overrides and the latest prototype results of this session,
or a decision reopened from the History page.
"""

from __future__ import annotations

import streamlit as st

from core.decision import Decision
from core.errors import AdvisorError
from report.sections.feasibility import verdict
from ui import services, state
from ui.common import md, show_error

MIME = {
    "md": "text/markdown",
    "html": "text/html",
    "json": "application/json",
    "pdf": "application/pdf",
    "adr": "text/markdown",
}
# (label, file suffix) of each download; the ADR is Markdown, named so it is not mistaken for
# the report.
DOWNLOADS = {
    "md": ("Download MD", "md"),
    "html": ("Download HTML", "html"),
    "json": ("Download JSON", "json"),
    "adr": ("Download ADR", "adr.md"),
}


def _slug(text: str) -> str:
    s = "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")
    return "-".join(filter(None, s.split("-")))[:60] or "decision"


def _current_decision() -> tuple[dict, bool]:
    """(decision, reopened): a decision reopened from History wins until it is closed."""
    reopened = st.session_state[state.DECISION]
    if reopened:
        return reopened, True
    profile = state.current_profile()
    return services.decision_view(
        profile, state.sim_settings(), st.session_state[state.RESULTS]
    ), False


def _close_reopened() -> None:
    st.session_state[state.DECISION] = None


def render() -> None:
    st.title("Report")
    try:
        decision, reopened = _current_decision()
    except AdvisorError as e:
        show_error(e, "The decision could not be built")
        return
    try:
        value = Decision.from_dict(decision, "decision")
    except AdvisorError as e:
        show_error(e, "The decision could not be read")
        return
    if reopened:
        st.info(f"Showing a decision reopened from the history: **{md(value.title)}**.")
        st.button("Back to the current profile", on_click=_close_reopened, key="w.report.close")
    v = verdict(value)
    if v["warnings"]:
        st.warning(
            "**Check the budgets first.**\n\n" + "\n".join(f"- {md(w)}" for w in v["warnings"]),
            icon=":material/warning:",
        )
    sim = state.sim_settings()
    parts = [f"strategy **{md(v['label'])}** ({v['score_name']} {v['confidence']})"]
    if not reopened:
        parts.append(f"{sim.get('months', 36)}-month simulation")
        if sim.get("overrides"):
            parts.append(f"{len(sim['overrides'])} assumption override(s) from the Cost page")
        if sim.get("calibration"):
            parts.append("calibrated from the latest prototype run")
    parts.append(
        "with prototype results"
        if value.prototype
        else "no prototype results (run one on the Prototype page)"
    )
    st.caption(" · ".join(parts))

    stem = _slug(str(value.profile.get("name", "decision")))
    bar = st.container(horizontal=True, gap="small")
    try:
        for fmt, (text, suffix) in DOWNLOADS.items():
            bar.download_button(
                text,
                services.render_report(decision, fmt),
                f"{stem}.{suffix}",
                MIME[fmt],
                key=f"w.report.dl_{fmt}",
                icon=":material/download:",
                on_click="ignore",
            )
        if bar.button("Prepare PDF", key="w.report.pdf", icon=":material/picture_as_pdf:"):
            with st.spinner("Rendering the PDF (static charts)..."):
                pdf = services.render_report(decision, "pdf")
            bar.download_button(
                "Download PDF",
                pdf,
                f"{stem}.pdf",
                MIME["pdf"],
                key="w.report.dl_pdf",
                icon=":material/download:",
                on_click="ignore",
                type="primary",
            )
    except AdvisorError as e:
        show_error(e, "The report could not be rendered")
    if not reopened and bar.button("Save to history", key="w.report.save", icon=":material/save:"):
        try:
            rid = services.store().save_decision(decision)
        except AdvisorError as e:
            show_error(e, "Could not save the decision")
        else:
            st.success(f"Decision saved (#{rid}).")

    st.subheader("Preview")
    try:
        preview = services.render_report(decision, "md").decode("utf-8")
    except AdvisorError as e:
        show_error(e, "No preview")
        return
    with st.container(border=True, height=900):
        st.markdown(preview)


if __name__ == "__main__":
    render()
