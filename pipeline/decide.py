"""Compose recommend -> simulate -> (prototype run) into one Decision value."""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from core.decision import (
    KIND,
    SCHEMA_VERSION,
    Decision,
    default_title,
    load_prototype_run,
    now_iso,
    plain,
    prototype_from_dict,
)
from core.prototype_result import PrototypeRun

ROOT = Path(__file__).resolve().parent.parent


def _short_hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def collect_versions() -> dict[str, str]:
    """What produced a decision: package versions plus short hashes of the data files whose
    numbers it depends on (rules, price book, case library), so a reader can tell two reports
    apart even when the package version did not change."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("ftrag", "numpy", "pandas", "scikit-learn", "pydantic", "plotly", "jinja2"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    data = ROOT / "data"
    for name, paths in (
        ("rules", [data / "rules.yaml"]),
        ("price_book", list((data / "prices").glob("*.yaml"))),
        ("case_library", list((data / "cases").glob("*"))),
    ):
        try:
            files = [p for p in paths if p.is_file()]
            out[f"{name}_sha"] = _short_hash(files) if files else "absent"
        except OSError:
            out[f"{name}_sha"] = "unreadable"
    return out


def _assignments(overrides: Mapping[str, Any] | list[str] | None) -> list[str]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{k}={v}" for k, v in overrides.items()]
    return list(overrides)


def build_decision(
    profile,
    months: int = 36,
    overrides: Mapping[str, Any] | list[str] | None = None,
    calibration: str | Path | dict | None = None,
    prototype: PrototypeRun | Mapping[str, Any] | str | Path | None = None,
    seed: int = 0,
    *,
    draws: int = 2000,
    prices_file: str | Path | None = None,
    title: str | None = None,
    created_at: str | None = None,
    versions: Mapping[str, str] | None = None,
) -> Decision:
    """Recommend, simulate and attach a prototype run, as one Decision.

    `overrides` are simulator assumptions and prices (`{"change_rate_per_month": 0.1}` or
    `["prices.models.gpt-4o.input_per_mtok=2"]`); `calibration` is a prototype metrics file (or its
    parsed JSON) whose measured accuracy replaces the cited one in the simulation; `prototype` is
    a run to attach (a PrototypeRun, its JSON, or a file). `created_at` and `versions` are
    injectable so golden tests are byte-stable.
    """
    from advisor.recommend import recommend
    from core.profile import Profile, profile_from_dict
    from simulator.runner import run

    p = profile if isinstance(profile, Profile) else profile_from_dict(profile)
    rec = recommend(p)
    # Simulate from the decision's own date: a decision prices what could be bought that day
    # (a model retired since stays priced as it was), and a golden build is stable whatever
    # day the tests run.
    stamp = created_at or now_iso()
    sim = run(
        p,
        months=months,
        seed=seed,
        draws=draws,
        prices_file=prices_file,
        sets=_assignments(overrides),
        calibration_file=calibration,
        start=datetime.fromisoformat(stamp).date(),
    )
    proto: dict[str, Any] | None = None
    if isinstance(prototype, str | Path):
        proto = load_prototype_run(prototype)
    elif isinstance(prototype, PrototypeRun):
        proto = prototype.to_dict()
    elif prototype is not None:
        proto = prototype_from_dict(prototype)
    # Round-trip through JSON now, so the in-memory Decision is exactly what its file holds.
    data = plain(
        {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "title": title or default_title(p.name),
            "created_at": stamp,
            "versions": dict(versions) if versions is not None else collect_versions(),
            "profile": p.model_dump(mode="json"),
            "recommendation": rec.to_dict() if hasattr(rec, "to_dict") else rec,
            "simulation": sim.to_dict() if hasattr(sim, "to_dict") else sim,
            "prototype": proto,
        }
    )
    return Decision.from_dict(json.loads(json.dumps(data, allow_nan=False)), "build_decision")
