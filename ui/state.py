"""The few named session keys, and the shareable link that carries the current profile.

Every page reads the current profile through `current_profile()`; nothing else stores it.
The URL holds one query parameter per profile field, so a shared link reproduces the profile;
it is validated on load exactly like an uploaded file.
"""

from __future__ import annotations

import uuid
import zlib
from typing import Any

import streamlit as st
from pydantic import ValidationError

from core.errors import ProfileError
from core.profile import Profile, format_validation_error

# Session keys: the whole app state. Widget keys are local to their page (prefix "w.").
PROFILE = "ftrag.profile"  # dict: the current, validated profile
RESULTS = "ftrag.results"  # dict: latest prototype results shown ({"results": [...], ...})
DECISION = "ftrag.decision"  # dict | None: a decision reopened from history
SESSION_ID = "ftrag.session_id"  # str: keys this browser session's jobs
LINK_SEEN = "ftrag.link_seen"  # str: the query string already applied (apply a link once)
FLASH = "ftrag.flash"  # list[(kind, text)]: messages to show once on the next render
SIM_SETTINGS = "ftrag.sim"  # dict: the Cost page's overrides, months, calibration (for reports)
REVIEW_PLAN = "ftrag.review_plan"  # dict | None: a Prototype page review plan the Cost page costs

FIELDS = tuple(Profile.model_fields)

# Sensible defaults for a first visit: a mid-sized, weekly-changing support bot, so every page
# has something real to show before the user types anything.
DEFAULT_PROFILE: dict[str, Any] = {
    "name": "Policy chatbot",
    "task": "customer_support",
    "knowledge_update_frequency": "weekly",
    "latency_budget_ms": 3000,
    "traceability": "required",
    "style_consistency": "medium",
    "structured_output": False,
    "knowledge_base_tokens": 2_000_000,
    "labeled_examples": 500,
    "queries_per_month": 50_000,
    "deployment": "cloud_api",
    "ml_maturity": "medium",
    "access_control": False,
    "monthly_budget_usd": None,
}


def init() -> None:
    """Create the session keys once per browser session."""
    ss = st.session_state
    ss.setdefault(PROFILE, Profile.model_validate(DEFAULT_PROFILE).model_dump(mode="json"))
    ss.setdefault(RESULTS, None)
    ss.setdefault(DECISION, None)
    ss.setdefault(SESSION_ID, uuid.uuid4().hex)
    ss.setdefault(LINK_SEEN, "")
    ss.setdefault(FLASH, [])
    ss.setdefault(SIM_SETTINGS, dict(DEFAULT_SIM))
    ss.setdefault(REVIEW_PLAN, None)


def current_profile() -> Profile:
    return Profile.model_validate(st.session_state[PROFILE])


def profile_crc(profile: Profile) -> int:
    """A short fingerprint of a profile, to key widgets and settings made for it."""
    return zlib.crc32(profile.model_dump_json().encode())


DEFAULT_SIM = {"overrides": {}, "months": 36, "calibration": None}


def sim_settings() -> dict:
    """The Cost page's settings (overrides, months, calibration) if they were made for the
    current profile; else the defaults. The Recommendation and Report pages simulate with these,
    so all three pages show the same run."""
    sim = dict(st.session_state[SIM_SETTINGS])
    crc = profile_crc(current_profile())
    if sim.pop("profile_crc", crc) != crc:
        return dict(DEFAULT_SIM)
    return sim


def set_profile(profile: Profile) -> None:
    """Make `profile` current everywhere, and put it in the URL so the link reproduces it."""
    st.session_state[PROFILE] = profile.model_dump(mode="json")
    write_link(profile)


def flash(kind: str, text: str) -> None:
    st.session_state[FLASH].append((kind, text))


def show_flash() -> None:
    for kind, text in st.session_state[FLASH]:
        getattr(st, kind)(text)
    st.session_state[FLASH] = []


# --- the shareable link --------------------------------------------------------------------


def encode_link(profile: Profile) -> dict[str, str]:
    """One query parameter per field; None (no budget) is left out."""
    out = {}
    for k, v in profile.model_dump(mode="json").items():
        if v is None:
            continue
        out[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out


def decode_link(params: dict[str, str]) -> Profile:
    """Query parameters -> Profile, or ProfileError with one line per bad field.

    Parameters that are not profile fields are ignored (a link may carry tracking tags);
    pydantic's lax mode turns "3000" into 3000 and "true" into True.
    """
    data = {k: v for k, v in params.items() if k in FIELDS}
    if data.get("monthly_budget_usd") in ("", "none", "None"):
        data.pop("monthly_budget_usd")
    try:
        return Profile.model_validate(data)
    except ValidationError as err:
        lines = format_validation_error(err, source="link")
        raise ProfileError("; ".join(lines), lines) from None


def _query_key(params: dict[str, str]) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k in FIELDS)


def write_link(profile: Profile) -> None:
    params = encode_link(profile)
    st.query_params.from_dict(params)
    st.session_state[LINK_SEEN] = _query_key(params)


def sync_link() -> None:
    """Apply a link the first time it is seen; otherwise keep the URL showing the profile.

    Page switches clear the query string, so it is rewritten on every run.
    """
    params = {k: st.query_params[k] for k in st.query_params}
    key = _query_key(params)
    if key and key != st.session_state[LINK_SEEN]:
        st.session_state[LINK_SEEN] = key
        try:
            profile = decode_link(params)
        except ProfileError as e:
            from ui.common import show_error

            show_error(e, "The profile in this link is invalid; keeping the current profile")
            write_link(current_profile())
            return
        set_profile(profile)
        flash("success", f"Loaded profile **{profile.name}** from the link.")
        return
    write_link(current_profile())
