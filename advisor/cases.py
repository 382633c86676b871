"""The labelled case library (data/cases) and store feedback, as the scorer's training data."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from advisor.features import featurize_many
from advisor.rules import SAFE_LOADER
from core.errors import ConfigError
from core.profile import Profile, format_validation_error
from core.registry import STRATEGIES

if TYPE_CHECKING:
    import numpy as np

CASES_DIR = Path(__file__).resolve().parent.parent / "data" / "cases"
# Borderline published cases kept out of every fit: `load_cases` reads only the top folder.
HELDOUT_DIR = CASES_DIR / "heldout"

# Synthetic cases are illustrations, not observations: they count half in training and never
# appear in evaluation. Feedback counts by outcome: a choice that worked is a real label; a
# mixed one is half a label; a failure says what not to pick, not what to pick, so it is skipped.
SYNTHETIC_WEIGHT = 0.5
OUTCOME_WEIGHT = {"worked": 1.0, "mixed": 0.5, "failed": 0.0}
# A case whose profile is all estimates counts ESTIMATE_WEIGHT in training; every scored field
# read from the source raises it linearly to 1 (`Case.evidence_weight`). Logistic regression
# takes one weight per row, not per cell, so the share of read fields is what it can use.
ESTIMATE_WEIGHT = 0.5
# The profile fields the scorer and the rules read (`name` is a label, not evidence).
SCORED_FIELDS = tuple(f for f in Profile.model_fields if f != "name")

SourceType = Literal["vendor_guide", "paper", "case_study", "documented_reasoning", "synthetic"]


class Source(BaseModel):
    """Where a label comes from, and whether we read the supporting sentence ourselves.

    `verified: true` needs the `quote` that supports the label; `verified: false` needs a
    `note` saying why (not re-checked, no stored copy, the source does not say it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: SourceType
    citation: str = Field(min_length=3, max_length=400)
    url: str | None = Field(default=None, pattern=r"^https?://")
    verified: bool
    quote: str | None = Field(default=None, min_length=10, max_length=800)
    note: str | None = Field(default=None, min_length=5, max_length=400)

    @model_validator(mode="after")
    def _checkable(self) -> Source:
        if self.verified and not self.quote:
            raise ValueError("`verified: true` needs the supporting `quote`")
        if not self.verified and not self.note:
            raise ValueError("`verified: false` needs a `note` saying why")
        return self

    @property
    def group(self) -> str:
        """The source as a cross-validation group: its URL without scheme, query or trailing
        slash (so two cases from one paper or one blog post share a group), else the citation
        up to the first comma (author and year)."""
        if self.url:
            u = re.sub(r"^https?://(www\.)?", "", self.url).split("?")[0].split("#")[0]
            return u.rstrip("/").lower()
        return self.citation.split(",")[0].strip().lower()


class Case(BaseModel):
    """One labelled use case: a full profile, the strategy that fits it, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=80)
    profile: Profile
    strategy: str
    justification: str = Field(min_length=10, max_length=400)
    source: Source
    # Profile fields stated by the source; every other field is an estimate.
    read_fields: list[str] = Field(default_factory=list)
    # Held-out cases only: the rule of thumb this case defeats.
    borderline: str | None = Field(default=None, min_length=10, max_length=300)

    @field_validator("read_fields")
    @classmethod
    def _known_fields(cls, v: list[str]) -> list[str]:
        unknown = [f for f in v if f not in SCORED_FIELDS]
        if unknown:
            raise ValueError(f"unknown profile field(s) {unknown} (allowed: {list(SCORED_FIELDS)})")
        if len(set(v)) != len(v):
            raise ValueError(f"listed twice: {sorted({f for f in v if v.count(f) > 1})}")
        return v

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, v: str) -> str:
        if v not in STRATEGIES:
            raise ValueError(f"must be one of {', '.join(STRATEGIES.values())}, got {v!r}")
        return v

    @property
    def synthetic(self) -> bool:
        return self.source.type == "synthetic"

    @property
    def estimated_fields(self) -> list[str]:
        return [f for f in SCORED_FIELDS if f not in self.read_fields]

    @property
    def evidence_weight(self) -> float:
        """ESTIMATE_WEIGHT for an all-estimated profile, rising linearly to 1 when every scored
        field was read from the source; synthetic cases count SYNTHETIC_WEIGHT on top."""
        share = len(self.read_fields) / len(SCORED_FIELDS)
        w = ESTIMATE_WEIGHT + (1 - ESTIMATE_WEIGHT) * share
        return w * (SYNTHETIC_WEIGHT if self.synthetic else 1.0)


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
    """The training library: the `*.yaml` files directly in `directory` (never `heldout/`)."""
    d = Path(directory)
    return list(_load_cases_cached(str(d), library_fingerprint(d)))


def load_heldout(directory: str | Path = HELDOUT_DIR) -> list[Case]:
    """The held-out borderline cases: scored by `ftrag advisor evaluate`, never fitted on.
    Each must say which rule of thumb it defeats (`borderline`) and be verified."""
    cases = load_cases(directory)
    problems = [
        f"{directory}: case `{c.id}`: " + msg
        for c in cases
        for msg, bad in (
            ("held-out cases need `borderline` (the rule of thumb it defeats)", not c.borderline),
            ("held-out cases must be verified (`source.verified: true`)", not c.source.verified),
            ("held-out cases cannot be synthetic", c.synthetic),
        )
        if bad
    ]
    if problems:
        raise ConfigError("; ".join(problems), problems)
    return cases


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
    """Cases (weighted by `Case.evidence_weight`) plus usable feedback, featurized."""
    import numpy as np

    cases = list(cases)
    fb, skipped = feedback_examples(feedback)
    profiles = [c.profile for c in cases] + [p for p, _, _ in fb]
    y = [c.strategy for c in cases] + [s for _, s, _ in fb]
    w = [c.evidence_weight for c in cases] + [wt for _, _, wt in fb]
    return TrainingSet(
        X=featurize_many(profiles),
        y=[str(s) for s in y],
        weight=np.asarray(w, dtype=float),
        n_cases=len(cases),
        n_synthetic=sum(c.synthetic for c in cases),
        n_feedback=len(fb),
        skipped_feedback=skipped,
    )
