"""The use-case profile section: every profile field, in plain words."""

from __future__ import annotations

from typing import Any

from core.profile import field_label
from report.table import Table
from report.text import num


def _value(v: Any) -> str:
    if v is None:
        return "not set"
    return num(v).replace("_", " ") if isinstance(v, str) else num(v)


def profile_table(profile: dict[str, Any]) -> Table:
    """The profile's fields (its name heads the section instead)."""
    rows = [[field_label(k), _value(v)] for k, v in profile.items() if k != "name"]
    return Table("profile", ["Field", "Value"], rows, align=["l", "l"])
