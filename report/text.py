"""How numbers, dates and names appear in a report: one formatter per kind, and display order.

Missing or null data prints as "n/a": a report never invents a figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from core.registry import Registry

NA = "n/a"


def as_number(x: Any) -> float | None:
    """A finite number, or None for null, booleans, text and NaN/inf."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def usd(x: Any) -> str:
    v = as_number(x)
    if v is None:
        return NA
    sign = "-" if v < 0 else ""
    v = abs(v)
    return f"{sign}${v:,.0f}" if v >= 100 else f"{sign}${v:,.2f}"


def pct(x: Any, digits: int = 1) -> str:
    v = as_number(x)
    return NA if v is None else f"{v * 100:.{digits}f}%"


def num(x: Any) -> str:
    """General number: thousands separators, at most 4 significant digits after the point."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, str):
        return x
    v = as_number(x)
    if v is None:
        return NA
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    return f"{v:.4g}"


def ms(x: Any) -> str:
    v = as_number(x)
    return NA if v is None else f"{v:,.0f}"


def sec(x: Any) -> str:
    v = as_number(x)
    return NA if v is None else (f"{v:,.1f}" if v >= 10 else f"{v:.2f}")


def integer(x: Any) -> str:
    v = as_number(x)
    return NA if v is None else f"{v:,.0f}"


FORMATTERS = {"pct": pct, "ms": ms, "sec": sec, "int": integer, "usd": usd, "num": num}


def band(lo: Any, hi: Any, fmt=usd) -> str:
    if as_number(lo) is None or as_number(hi) is None:
        return NA
    return f"{fmt(lo)} - {fmt(hi)}"


def mean_of(values: Iterable[Any]) -> float | None:
    """Mean of the numbers among `values` (nulls skipped), or None when there are none."""
    vs = [v for v in (as_number(x) for x in values) if v is not None]
    return sum(vs) / len(vs) if vs else None


def max_of(values: Iterable[Any]) -> float | None:
    vs = [v for v in (as_number(x) for x in values) if v is not None]
    return max(vs) if vs else None


def display_date(iso: str) -> str:
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    offset = dt.utcoffset()
    tz = " UTC" if offset is not None and offset.total_seconds() == 0 else ""
    return dt.strftime("%Y-%m-%d %H:%M") + tz


def day_of(iso: str) -> date | None:
    """The calendar day of an ISO timestamp (a decision's `created_at`), or None."""
    try:
        return datetime.fromisoformat(iso).date()
    except ValueError:
        return None


def url_text(url: Any) -> str:
    """Citation URLs print as text without the scheme: a reader can find the paper, and the
    HTML never links out (the report must work, and stay quiet, offline)."""
    if not url:
        return ""
    text = str(url)
    for scheme in ("https://", "http://"):
        text = text.removeprefix(scheme)
    return text


def in_order(names: Iterable[Any], registry: Registry[Any]) -> list[str]:
    """The names present, registered ones in registry order, then any unknown one (an old
    file's) as first seen; the registry's `label()` prints those by their raw name."""
    present = list(dict.fromkeys(str(n) for n in names))
    return [v for v in registry.values() if v in present] + [
        n for n in present if n not in registry
    ]
