"""The profile form's values: what the widgets show, and the Profile they make. No streamlit.

Numbers are typed into text boxes, not number inputs: a number input silently turns an empty
box into its minimum (0 queries, a 1 ms budget) and "1e15" into 1. Here every number is read
from the text as typed, and anything that is not a number in the field's range is refused
with one line naming the field and the value, before anything is saved:

    Queries per month: must be at most 1,000,000,000,000, got '1e15'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from core.errors import ProfileError
from core.profile import Profile, field_label, format_validation_error

FIELDS = tuple(Profile.model_fields)
# Numeric fields: whole numbers, except the budget. An optional one left empty means "none".
INTEGER_FIELDS = tuple(n for n in FIELDS if Profile.model_fields[n].annotation is int)
NUMBER_FIELDS = (*INTEGER_FIELDS, "monthly_budget_usd")
_SEPARATORS = str.maketrans("", "", ",_ \u00a0\u202f")  # 50,000 / 50_000 / 50 000


def bounds(name: str) -> tuple[float | None, float | None, bool]:
    """(low, high, low is exclusive) from the schema's own constraints."""
    lo = hi = None
    exclusive = False
    for m in Profile.model_fields[name].metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, exclusive = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
    return lo, hi, exclusive


def _fmt(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"


def to_text(name: str, value: Any) -> Any:
    """A profile value as its widget holds it: numbers as text with thousands separators
    (None, no budget, as an empty box); every other field unchanged."""
    if name not in NUMBER_FIELDS:
        return value
    return "" if value is None else _fmt(value)


def parse_number(name: str, text: Any) -> int | float | None:
    """The number typed into `name`'s box, checked against its range; ProfileError naming
    the field otherwise. Empty is None for the budget and an error for required fields."""
    label = field_label(name)
    raw = "" if text is None else str(text)
    cleaned = raw.strip().translate(_SEPARATORS)
    if not cleaned:
        if Profile.model_fields[name].is_required():
            raise ProfileError(f"{label}: required; enter a number")
        return None
    try:
        x = float(cleaned)
    except ValueError:
        raise ProfileError(f"{label}: must be a number, got {raw.strip()!r}") from None
    if not math.isfinite(x):
        raise ProfileError(f"{label}: must be a finite number, got {raw.strip()!r}")
    lo, hi, exclusive = bounds(name)
    if lo is not None and (x <= lo if exclusive else x < lo):
        word = "more than" if exclusive else "at least"
        raise ProfileError(f"{label}: must be {word} {_fmt(lo)}, got {raw.strip()!r}")
    if hi is not None and x > hi:
        raise ProfileError(f"{label}: must be at most {_fmt(hi)}, got {raw.strip()!r}")
    if name in INTEGER_FIELDS:
        if not x.is_integer():
            raise ProfileError(f"{label}: must be a whole number, got {raw.strip()!r}")
        return int(cleaned) if cleaned.lstrip("+-").isdigit() else int(x)
    return x


def profile_from_widgets(values: Mapping[str, Any], order: tuple[str, ...] = FIELDS) -> Profile:
    """The form's values -> Profile, or one ProfileError listing every bad field once, by its
    label, in `order` (the form's reading order)."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in FIELDS:
        if name in NUMBER_FIELDS:
            try:
                data[name] = parse_number(name, values.get(name))
            except ProfileError as e:
                problems[name] = str(e)
        else:
            data[name] = values.get(name)
    try:
        profile = Profile.model_validate({k: v for k, v in data.items() if k not in problems})
    except ValidationError as err:
        # A field already refused above is missing here; its first line stands.
        for e, line in zip(err.errors(), format_validation_error(err, labels=True), strict=True):
            problems.setdefault(str(e["loc"][0]) if e["loc"] else "", line)
        profile = None
    if problems:
        lines = [problems[n] for n in order if n in problems]
        lines += [v for k, v in problems.items() if k not in order]
        raise ProfileError("; ".join(lines), lines)
    assert profile is not None
    return profile
