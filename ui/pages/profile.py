"""Profile page: the questionnaire. One form, one widget per schema field, help from the schema.

Widgets are seeded through session state (never `value=`), so loading an example or a file
is one assignment per field, and a bad upload leaves what the user typed untouched.
"""

from __future__ import annotations

from enum import Enum

import streamlit as st
import yaml

from core.errors import AdvisorError, ProfileError
from core.profile import Profile, field_help, parse_profile_bytes, profile_from_dict
from ui import services, state
from ui.common import md, show_error

FORM = "profile_form"
PREFIX = "w.profile."
UPLOAD_SEEN = "w.profile.upload_seen"

# Widget layout: (section title, fields). Every schema field appears once (checked by tests).
SECTIONS = (
    ("Use case", ("name", "task", "queries_per_month", "latency_budget_ms", "monthly_budget_usd")),
    (
        "Knowledge",
        ("knowledge_update_frequency", "knowledge_base_tokens", "traceability", "access_control"),
    ),
    ("Behaviour", ("style_consistency", "structured_output", "labeled_examples")),
    ("Team and platform", ("deployment", "ml_maturity")),
)
LABELS = {
    "name": "Name",
    "task": "Task",
    "knowledge_update_frequency": "Knowledge changes",
    "latency_budget_ms": "Latency budget, p95 (ms)",
    "traceability": "Traceability",
    "style_consistency": "Style consistency",
    "structured_output": "Structured output",
    "knowledge_base_tokens": "Knowledge base size (tokens)",
    "labeled_examples": "Labelled examples",
    "queries_per_month": "Queries per month",
    "deployment": "Deployment",
    "ml_maturity": "ML maturity",
    "access_control": "Per-user document permissions",
    "monthly_budget_usd": "Monthly budget (USD)",
}


def _bounds(name: str, kind: type = int) -> dict:
    """min/max for a numeric widget, from the schema's own constraints (one numeric type,
    as Streamlit requires)."""
    out = {}
    for m in Profile.model_fields[name].metadata:
        if getattr(m, "ge", None) is not None:
            out["min_value"] = m.ge
        if getattr(m, "gt", None) is not None:
            out["min_value"] = m.gt + 1
        if getattr(m, "le", None) is not None:
            out["max_value"] = m.le
    return {k: kind(v) for k, v in out.items()}


def _enum(name: str) -> type[Enum] | None:
    ann = Profile.model_fields[name].annotation
    return ann if isinstance(ann, type) and issubclass(ann, Enum) else None


def seed_widgets(profile: Profile | dict, overwrite: bool) -> None:
    """Put a profile into the widgets (all fields, or only those not yet on screen)."""
    data = profile.model_dump(mode="json") if isinstance(profile, Profile) else profile
    for name in state.FIELDS:
        key = PREFIX + name
        if overwrite or key not in st.session_state:
            st.session_state[key] = data.get(name)


def _widget(name: str) -> None:
    key, help_ = PREFIX + name, field_help(name)
    lab = LABELS.get(name, name)
    enum = _enum(name)
    ann = Profile.model_fields[name].annotation
    if enum is not None:
        st.selectbox(
            lab,
            [e.value for e in enum],
            key=key,
            help=help_,
            format_func=lambda v: v.replace("_", " "),
        )
    elif ann is bool:
        st.toggle(lab, key=key, help=help_)
    elif ann is int:
        st.number_input(lab, step=1, key=key, help=help_, **_bounds(name))
    elif name == "monthly_budget_usd":
        st.number_input(
            lab,
            value=None,
            step=100.0,
            key=key,
            help=help_,
            placeholder="no budget",
            **_bounds(name, float),
        )
    else:
        st.text_input(lab, key=key, help=help_, max_chars=200)


def _apply(profile: Profile, message: str) -> None:
    seed_widgets(profile, overwrite=True)
    state.set_profile(profile)
    state.flash("success", message)


def _load_example(path) -> None:
    """Button callback: runs before the widgets exist, so they can be re-seeded."""
    try:
        profile = parse_profile_bytes(path.read_bytes(), source=path.name)
    except ProfileError as e:
        state.flash("error", "\n".join(e.lines()))
        return
    _apply(profile, f"Loaded example **{md(profile.name)}**.")
    _save(profile)


def _handle_upload() -> None:
    """Parse an uploaded file once per file; on error list each bad field, keep the inputs."""
    up = st.file_uploader(
        "Load a profile file (JSON or YAML)",
        type=["json", "yaml", "yml"],
        key="w.profile.upload",
        max_upload_size=1,
        help="The same format `ftrag recommend` reads.",
    )
    if up is None:
        return
    try:
        profile = parse_profile_bytes(up.getvalue(), source=up.name)
    except ProfileError as e:
        show_error(e, f"{up.name} is not a valid profile; your inputs are unchanged")
        return
    if st.session_state.get(UPLOAD_SEEN) != up.file_id:
        st.session_state[UPLOAD_SEEN] = up.file_id
        seed_widgets(profile, overwrite=True)
        state.set_profile(profile)
        _save(profile)
        st.success(f"Loaded **{md(profile.name)}** from {md(up.name)}.")


def _save(profile: Profile) -> None:
    """Remember a submitted profile in the history, skipping an identical repeat."""
    try:
        store = services.store()
        latest = store.list_profiles(limit=1)
        if not latest or latest[0]["payload"] != profile.model_dump(mode="json"):
            store.save_profile(profile.model_dump(mode="json"))
    except AdvisorError as e:
        show_error(e, "Could not save the profile to the history")


def render() -> None:
    st.title("Use-case profile")
    st.caption(
        "Describe the use case; every page works from this profile. "
        "Press Enter in any field, or the button, to apply it."
    )
    current = state.current_profile()

    examples = services.example_profiles()
    if examples:
        st.write("**Examples**")
        cols = st.columns(min(4, len(examples)))
        for i, (name, path) in enumerate(examples.items()):
            cols[i % len(cols)].button(
                name.capitalize(),
                key=f"w.profile.example.{path.stem}",
                on_click=_load_example,
                args=(path,),
                width="stretch",
            )

    with st.expander(
        "Upload or download a profile file",
        expanded=st.session_state.get("w.profile.upload") is not None,
    ):
        _handle_upload()
        c1, c2 = st.columns(2)
        data = current.model_dump(mode="json")
        stem = "".join(ch if ch.isalnum() else "_" for ch in current.name.lower())[:60] or "profile"
        c1.download_button(
            "Download JSON",
            current.to_json(),
            f"{stem}.json",
            "application/json",
            key="w.profile.dl_json",
        )
        c2.download_button(
            "Download YAML",
            yaml.safe_dump(data, sort_keys=False),
            f"{stem}.yaml",
            "application/x-yaml",
            key="w.profile.dl_yaml",
        )

    seed_widgets(current, overwrite=False)
    with st.form(FORM, enter_to_submit=True):
        for title, names in SECTIONS:
            st.subheader(title)
            cols = st.columns(2)
            for i, name in enumerate(names):
                with cols[i % 2]:
                    _widget(name)
        submitted = st.form_submit_button("Apply profile", type="primary")

    if submitted:
        values = {n: st.session_state.get(PREFIX + n) for n in state.FIELDS}
        try:
            profile = profile_from_dict(values)
        except ProfileError as e:
            show_error(e, "The profile has invalid fields")
        else:
            state.set_profile(profile)
            _save(profile)
            state.flash(
                "success",
                f"Profile **{md(profile.name)}** applied. "
                "Open **Recommendation** to see what it implies.",
            )
            st.rerun()  # so the sidebar and the link show the new profile at once


if __name__ == "__main__":
    render()
