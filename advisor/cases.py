"""The labelled case library (data/cases) and store feedback, as the scorer's training data."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from advisor.features import featurize_many
from advisor.rules import SAFE_LOADER
from core.errors import ConfigError
from core.profile import Profile, format_validation_error
from core.registry import STRATEGIES

if TYPE_CHECKING:
    import numpy as np

CASES_DIR = Path(__file__).resolve().parent.parent / "data" / "cases"

# Synthetic cases are illustrations, not observations: they count half in training and never
# appear in evaluation. Feedback counts by outcome: a choice that worked is a real label; a
# mixed one is half a label; a failure says what not to pick, not what to pick, so it is skipped.
SYNTHETIC_WEIGHT = 0.5
OUTCOME_WEIGHT = {"worked": 1.0, "mixed": 0.5, "failed": 0.0}

SourceType = Literal["vendor_guide", "paper", "case_study", "documented_reasoning", "synthetic"]


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: SourceType
    citation: str = Field(min_length=3, max_length=400)
    url: str | None = Field(default=None, pattern=r"^https?://")


class Case(BaseModel):
    """One labelled use case: a full profile, the strategy that fits it, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=80)
    profile: Profile
    strategy: str
    justification: str = Field(min_length=10, max_length=400)
    source: Source

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, v: str) -> str:
        if v not in STRATEGIES:
            raise ValueError(f"must be one of {', '.join(STRATEGIES.values())}, got {v!r}")
        return v

    @property
    def synthetic(self) -> bool:
        return self.source.type == "synthetic"


def parse_cases(raw: Any, source: str) -> list[Case]:
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
        raise ConfigError(f"{source}: expected a mapping with a `cases` list")
    cases: list[Case] = []
    problems: list[str] = []
    for i, item in enumerate(raw["cases"]):
        cid = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            cases.append(Case.model_validate(item))
        except ValidationError as e:
            problems += [f"{source}: case `{cid}`: {line}" for line in format_validation_error(e)]
    if problems:
        raise ConfigError("; ".join(problems), problems)
    return cases


def _case_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def library_fingerprint(directory: Path = CASES_DIR) -> str:
    """SHA-256 over the case files, so a stored model can tell it is stale."""
    h = hashlib.sha256()
    for p in _case_files(directory):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@functools.cache
def _load_cases_cached(directory: str, fingerprint: str) -> tuple[Case, ...]:
    cases: list[Case] = []
    for p in _case_files(Path(directory)):
        try:
            raw = yaml.load(p.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{p}: cannot read cases ({e})") from None
        cases += parse_cases(raw, str(p))
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{directory}: duplicate case ids: {', '.join(dupes)}")
    return tuple(cases)


def load_cases(directory: str | Path = CASES_DIR) -> list[Case]:
    d = Path(directory)
    return list(_load_cases_cached(str(d), library_fingerprint(d)))


@dataclass(frozen=True)
class TrainingSet:
    X: np.ndarray  # (n, len(FEATURE_NAMES))
    y: list[str]
    weight: np.ndarray  # (n,)
    n_cases: int
    n_synthetic: int
    n_feedback: int
    skipped_feedback: int


def feedback_examples(
    rows: Iterable[Mapping[str, Any]],
) -> tuple[list[tuple[Profile, str, float]], int]:
    """(profile, label, weight) from store rows; rows that teach nothing or are invalid are
    skipped and counted. A 1-5 rating scales the weight (5 = full weight)."""
    out: list[tuple[Profile, str, float]] = []
    skipped = 0
    for r in rows:
        weight = OUTCOME_WEIGHT.get(str(r.get("outcome")), 0.0)
        rating = r.get("rating")
        if isinstance(rating, int | float) and 1 <= rating <= 5:
            weight *= rating / 5
        if weight <= 0 or r.get("chosen_strategy") not in STRATEGIES:
            skipped += 1
            continue
        try:
            profile = Profile.model_validate(r.get("profile"))
        except ValidationError:
            skipped += 1
            continue
        out.append((profile, str(r["chosen_strategy"]), weight))
    return out, skipped


def training_set(cases: Iterable[Case], feedback: Iterable[Mapping[str, Any]] = ()) -> TrainingSet:
    """Cases (synthetic ones at SYNTHETIC_WEIGHT) plus usable feedback, featurized."""
    import numpy as np

    cases = list(cases)
    fb, skipped = feedback_examples(feedback)
    profiles = [c.profile for c in cases] + [p for p, _, _ in fb]
    y = [c.strategy for c in cases] + [s for _, s, _ in fb]
    w = [SYNTHETIC_WEIGHT if c.synthetic else 1.0 for c in cases] + [wt for _, _, wt in fb]
    return TrainingSet(
        X=featurize_many(profiles),
        y=[str(s) for s in y],
        weight=np.asarray(w, dtype=float),
        n_cases=len(cases),
        n_synthetic=sum(c.synthetic for c in cases),
        n_feedback=len(fb),
        skipped_feedback=skipped,
    )
