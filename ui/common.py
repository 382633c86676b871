"""Small rendering helpers shared by the pages: errors, labels, escaping."""

from __future__ import annotations

import re

import streamlit as st

from core.errors import AdvisorError
from core.registry import ROWS, STRATEGIES

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")


def md(text: object) -> str:
    """Escape user text for st.markdown, so a profile name cannot inject links or markup."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def code(text: object) -> str:
    """User text as an inline code span: nothing inside one is markup, so it needs no escapes
    (md() would show its backslashes), only no backtick or line break to end it early."""
    return "`" + " ".join(str(text).replace("`", "'").split()) + "`"


def strategies() -> tuple[str, ...]:
    """The registered strategies, in display order (read at call time: a strategy registered
    after import, such as a test's toy one, shows up)."""
    return STRATEGIES.values()


def label(value: str) -> str:
    """A strategy's label, else a prototype row's, else the raw name (an old run's row)."""
    return STRATEGIES.label(value) if value in STRATEGIES else ROWS.label(value)


def colour(value: str) -> str:
    return STRATEGIES.colour(value) if value in STRATEGIES else ROWS.colour(value)


def show_error(err: AdvisorError, title: str | None = None) -> None:
    """One line per problem, each naming the field or file; never a traceback."""
    lines = err.lines()
    head = f"**{title}**\n\n" if title else ""
    st.error(head + "\n".join(f"- {md(line)}" for line in lines), icon=":material/error:")


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def filterable_table(
    table,
    filters: dict[str, tuple[str, str]],
    *,
    noun: str,
    key: str,
    filename: str,
    note: str = "",
) -> None:
    """A table with one multiselect filter per column (`filters`: column -> (title, widget
    key); none picked = all), a count of what is shown, and a CSV download of exactly that."""
    shown = table
    for col, (column, (title, fkey)) in zip(st.columns(len(filters)), filters.items(), strict=True):
        picked = col.multiselect(title, sorted(set(table[column].dropna())), key=fkey)
        if picked:
            shown = shown[shown[column].isin(picked)]
    st.caption(
        f"{len(shown):,} of {len(table):,} {noun} shown (no filter picked = all)."
        + (f" {note}" if note else "")
    )
    st.dataframe(shown, hide_index=True, key=key)
    st.download_button(
        f"Download these {noun} (CSV)",
        shown.to_csv(index=False).encode("utf-8"),
        file_name=filename,
        mime="text/csv",
        icon=":material/download:",
        key=f"{key}.csv",
    )
