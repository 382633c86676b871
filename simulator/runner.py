"""The I/O edge of the simulator: files and `key=value` strings in, a SimulationResult out.

The CLI and the UI call `run`; `simulate` itself stays pure.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.profile import Profile
from simulator.assumptions import derive_assumptions
from simulator.calibration import (
    apply_calibration,
    load_calibration,
    parse_calibration,
    review_plan,
)
from simulator.prices import load_price_book
from simulator.simulate import SimulationResult, simulate


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """["a=1", "prices.models.x.y=2"] -> {"a": "1", ...}; values stay text until validated."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"--set {item!r}: expected key=value")
        out[key.strip()] = value.strip()
    return out


def run(
    profile: Profile,
    months: int = 36,
    seed: int = 0,
    draws: int = 2000,
    prices_file: str | Path | None = None,
    sets: list[str] | None = None,
    calibration_file: str | Path | dict[str, Any] | None = None,
    start: date | None = None,
    review_floor: float | None = None,
) -> SimulationResult:
    """`calibration_file` is a prototype metrics file, or its already-parsed JSON (the app
    passes the latest stored run as a dict). `start` is the first simulated day (today).
    `review_floor`: a person checks the answers under this confidence floor, with the share
    and catch measured on the calibration run's answers (`review_plan`)."""
    assignments = parse_assignments(sets)
    price_keys = {k: v for k, v in assignments.items() if k.startswith("prices.")}
    other = {k: v for k, v in assignments.items() if k not in price_keys}
    book = load_price_book(user_file=prices_file, overrides=price_keys)
    a = derive_assumptions(profile, book, other, start=start, months=months)
    cal = None
    if isinstance(calibration_file, dict):
        cal = parse_calibration(calibration_file, "prototype run")
    elif calibration_file is not None:
        cal = load_calibration(calibration_file)
    if cal is not None:
        a = apply_calibration(a, cal)
    if review_floor is not None:
        if cal is None:
            raise ConfigError(
                "--review-floor: needs --calibration, a prototype run whose answers carry the "
                "reader's confidence"
            )
        plan = review_plan(cal, review_floor)
        origin = f"review plan: {plan.pop('row')} at a {review_floor:g} floor ({cal.source})"
        a = a.with_overrides(plan, origin=origin)
    return simulate(profile, a, months=months, seed=seed, draws=draws)
