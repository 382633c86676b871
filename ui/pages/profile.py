"""Profile page: the questionnaire. One form, one widget per schema field, help from the schema.

Widgets are seeded through session state (never `value=`), so loading an example or a file
is one assignment per field, and a bad upload leaves what the user typed untouched. Numbers
are typed as text and read by `ui.profile_form`, which refuses what it cannot read instead of
guessing. Fields are laid out one row of two at a time, so the tab order is the reading order;
each field's help is a caption under it rather than a help icon, because Streamlit 1.67 puts
every help icon in the tab order (a `<button>` with no way to set its tabindex).
"""

from __future__ import annotations

from enum import Enum

import streamlit as st
import yaml

from core.errors import AdvisorError, ProfileError
from core.profile import Profile, field_help, field_label, parse_profile_bytes
from ui import services, state
from ui.common import md, show_error
from ui.profile_form import NUMBER_FIELDS, profile_from_widgets, to_text

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


def _enum(name: str) -> type[Enum] | None:
    ann = Profile.model_fields[name].annotation
    return ann if isinstance(ann, type) and issubclass(ann, Enum) else None


def seed_widgets(profile: Profile | dict, overwrite: bool) -> None:
    """Put a profile into the widgets (all fields, or only those not yet on screen)."""
    data = profile.model_dump(mode="json") if isinstance(profile, Profile) else profile
    for name in state.FIELDS:
        key = PREFIX + name
        if overwrite or key not in st.session_state:
            st.session_state[key] = to_text(name, data.get(name))
        elif name in NUMBER_FIELDS and not isinstance(st.session_state[key], str | None):
            st.session_state[key] = to_text(name, st.session_state[key])  # set as a number


def _widget(name: str) -> None:
    key, lab = PREFIX + name, field_label(name)
    enum = _enum(name)
    if enum is not None:
        st.selectbox(
            lab, [e.value for e in enum], key=key, format_func=lambda v: v.replace("_", " ")
        )
    elif Profile.model_fields[name].annotation is bool:
        st.toggle(lab, key=key)
    elif name in NUMBER_FIELDS:
        optional = not Profile.model_fields[name].is_required()
        st.text_input(lab, key=key, max_chars=40, placeholder="no budget" if optional else "")
    else:
        st.text_input(lab, key=key, max_chars=200)
    st.caption(field_help(name))


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
    """Remember a profile in the history; the store keeps one row per distinct profile."""
    try:
        services.store().save_profile(profile.model_dump(mode="json"))
    except AdvisorError as e:
        show_error(e, "Could not save the profile to the history")


def _rows(names: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [names[i : i + 2] for i in range(0, len(names), 2)]


READING_ORDER = tuple(n for _, names in SECTIONS for n in names)


def render() -> None:
    st.title("Use-case profile", anchor=False)
    st.caption(
        "Describe the use case; every page works from this profile. "
        "Press Enter in any field, or the button, to apply it."
    )
    current = state.current_profile()

    examples = services.example_profiles()
    if examples:
        st.write("**Examples**")
        items = list(examples.items())
        for start in range(0, len(items), 4):  # row by row, so tabbing reads left to right
            for col, (name, path) in zip(st.columns(4), items[start : start + 4], strict=False):
                col.button(
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
            st.subheader(title, anchor=False)  # a heading link is one more tab stop
            for row in _rows(names):  # one row at a time: tab order = reading order
                for col, name in zip(st.columns(2), row, strict=False):
                    with col:
                        _widget(name)
        submitted = st.form_submit_button("Apply profile", type="primary")

    if submitted:
        values = {n: st.session_state.get(PREFIX + n) for n in state.FIELDS}
        try:
            profile = profile_from_widgets(values, READING_ORDER)
        except ProfileError as e:
            show_error(e, "Not applied: the profile is unchanged until these fields are fixed")
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
