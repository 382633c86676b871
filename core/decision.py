"""Decision: the one value a report renders (profile + recommendation + simulation + prototype).

A Decision holds typed values (`Recommendation`, `SimulationResult`, `PrototypeRun`) built from
JSON, and writes the same JSON back: `Decision.from_dict(json.loads(d.to_json()))` is equal to
`d`, and a report re-rendered from its JSON file is byte-identical to the first one. Files
written by `ftrag report --format json` are read back through `from_dict`, which validates them
at this edge and names the offending key; the values' own `from_dict`s then read older
spellings, so nothing downstream guesses keys. Must not import torch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import DecisionError, ProfileError
from core.prototype_result import PrototypeRun
from core.recommendation import Recommendation
from core.registry import STRATEGIES
from core.simulation import SimulationResult

KIND = "ftrag.decision"
SCHEMA_VERSION = 1
ROOT = Path(__file__).resolve().parent.parent
# A decision with a 600-month simulation and a full prototype run is a few MB; refuse more
# before parsing so a wrong file (a model, a dataset) fails fast with a clear message.
MAX_DECISION_BYTES = 64 * 1024 * 1024


# --- validation of foreign JSON (the edge) ----------------------------------------------------


class _Loose(BaseModel):
    """Known keys are checked; the producers (recommend, simulate, prototype) may add more."""

    model_config = ConfigDict(extra="allow")


class _Recommendation(_Loose):
    strategy: str
    confidence: float = Field(ge=0, le=1)
    scores: dict[str, float | None] = Field(default_factory=dict)
    rules: list[dict[str, Any]] = Field(default_factory=list)
    learned: dict[str, Any] | None = None

    @field_validator("strategy")
    @classmethod
    def _registered(cls, v: str) -> str:
        if v not in STRATEGIES:
            raise ValueError(f"must be one of {', '.join(STRATEGIES.values())}")
        return v


class _Simulation(_Loose):
    months: int = Field(ge=1)
    rows: list[dict[str, Any]] = Field(min_length=1)
    break_even: list[dict[str, Any]] = Field(default_factory=list)
    latency: dict[str, dict[str, Any]] = Field(default_factory=dict)
    sensitivity: list[dict[str, Any]] | None = None
    assumptions: dict[str, Any] = Field(default_factory=dict)
    overrides: list[dict[str, Any]] | None = None
    prices_used: dict[str, dict[str, Any]] = Field(default_factory=dict)


class _ProtoResult(_Loose):
    strategy: str = Field(min_length=1)
    metrics: dict[str, Any]
    meta: dict[str, Any] = Field(default_factory=dict)


class _Prototype(_Loose):
    results: list[_ProtoResult] = Field(min_length=1)


class _DecisionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["ftrag.decision"]
    schema_version: int
    title: str = Field(min_length=1, max_length=500)
    created_at: str
    versions: dict[str, str]
    profile: dict[str, Any]
    recommendation: _Recommendation
    simulation: _Simulation | None = None
    prototype: _Prototype | None = None

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if not 1 <= v <= SCHEMA_VERSION:
            raise ValueError(
                f"must be 1..{SCHEMA_VERSION} (this ftrag reads up to "
                f"{SCHEMA_VERSION}); upgrade ftrag"
            )
        return v

    @field_validator("created_at")
    @classmethod
    def _iso(cls, v: str) -> str:
        datetime.fromisoformat(v)  # ValueError names the bad text
        return v


def _error_lines(err: ValidationError, source: str) -> list[str]:
    """One line per problem, naming the key path (e.g. `recommendation.strategy`)."""
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "missing":
            msg = "required key is missing"
        elif e["type"] == "extra_forbidden":
            msg = "unknown key (not part of an ftrag decision)"
        else:
            msg = str(e["msg"]).removeprefix("Value error, ")
            msg = msg[0].lower() + msg[1:]
            if "input" in e and not isinstance(e["input"], dict | list):
                msg += f", got {e['input']!r}"
        lines.append(f"{source}: {key}: {msg}")
    return lines


def plain(obj: Any) -> Any:
    """JSON-shaped copy: numpy scalars to Python, tuples to lists, NaN/inf to None (JSON has
    no NaN, and a report must print "n/a" rather than invent a number)."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "item") and not isinstance(obj, int | float):  # numpy scalar
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, int):
        return obj
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def default_title(name: str) -> str:
    return f"{name or 'Use case'}: fine-tuning, RAG or hybrid?"


# --- the value --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """Everything a report shows. Build with `build_decision`, or read a file with
    `load_decision`; both validate."""

    profile: dict[str, Any]
    recommendation: Recommendation
    simulation: SimulationResult | None
    prototype: PrototypeRun | None
    created_at: str
    versions: dict[str, str] = field(default_factory=dict)
    title: str = ""  # empty -> "<profile name>: fine-tuning, RAG or hybrid?"

    def __post_init__(self) -> None:
        # A caller holding a part as JSON (`replace(d, prototype=load_prototype_run(p))`) gets
        # it read once, here, so the value always holds typed parts.
        for name, kind in (
            ("recommendation", Recommendation),
            ("simulation", SimulationResult),
            ("prototype", PrototypeRun),
        ):
            part = getattr(self, name)
            if isinstance(part, Mapping):
                object.__setattr__(self, name, kind.from_dict(part))
        if not self.title:
            object.__setattr__(self, "title", default_title(self.profile.get("name", "")))

    @property
    def strategy(self) -> str:
        return self.recommendation.strategy

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "title": self.title,
            "created_at": self.created_at,
            "versions": dict(self.versions),
            "profile": self.profile,
            "recommendation": self.recommendation.to_dict(),
            "simulation": self.simulation.to_dict() if self.simulation else None,
            "prototype": self.prototype.to_dict() if self.prototype else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any, source: str = "decision") -> Decision:
        """Validate foreign data; every problem is one line naming `source` and the key."""
        if not isinstance(data, dict):
            kind = "empty document" if data is None else type(data).__name__
            raise DecisionError(f"{source}: expected a JSON object (an ftrag decision), got {kind}")
        if data.get("kind") != KIND:
            got = data.get("kind")
            what = "key is missing" if "kind" not in data else f"is {got!r}"
            raise DecisionError(
                f'{source}: kind: {what}; not an ftrag decision file (expected "{KIND}"; '
                "write one with `ftrag report PROFILE --format json`)"
            )
        try:
            _DecisionFile.model_validate(data)
        except ValidationError as err:
            lines = _error_lines(err, source)
            raise DecisionError("; ".join(lines), lines) from None
        from core.profile import profile_from_dict

        try:
            profile_from_dict(data["profile"])
        except ProfileError as e:
            lines = [f"{source}: profile.{line}" for line in e.lines()]
            raise DecisionError("; ".join(lines), lines) from None
        sim, proto = data.get("simulation"), data.get("prototype")
        return cls(
            title=data["title"],
            profile=data["profile"],
            recommendation=Recommendation.from_dict(data["recommendation"]),
            simulation=SimulationResult.from_dict(sim) if sim is not None else None,
            prototype=PrototypeRun.from_dict(proto) if proto is not None else None,
            created_at=data["created_at"],
            versions=data["versions"],
        )


def _read_json(path: str | Path, what: str) -> Any:
    p = Path(path)
    if not p.exists():
        raise DecisionError(f"{p}: file not found")
    if not p.is_file():
        raise DecisionError(f"{p}: not a file")
    if p.stat().st_size > MAX_DECISION_BYTES:
        raise DecisionError(f"{p}: larger than the {MAX_DECISION_BYTES} byte limit for {what}")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DecisionError(f"{p}: not UTF-8 text (byte {e.start}); expected {what} JSON") from None
    except OSError as e:
        raise DecisionError(f"{p}: cannot read ({e.strerror})") from None
    if not text.strip():
        raise DecisionError(f"{p}: file is empty; expected {what} JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DecisionError(
            f"{p}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); expected {what}"
        ) from None


def load_decision(path: str | Path) -> Decision:
    """Read a decision JSON file (as `ftrag report --format json` writes it)."""
    return Decision.from_dict(_read_json(path, "an ftrag decision"), str(path))


def prototype_from_dict(data: Any, source: str = "prototype run") -> dict[str, Any]:
    """`{"results": [...]}` or one result object -> `{"results": [...]}`, validated JSON
    (`PrototypeRun.from_dict` reads it)."""
    if isinstance(data, dict) and "results" not in data and "strategy" in data:
        data = {"results": [data]}
    if not isinstance(data, dict):
        kind = "empty document" if data is None else type(data).__name__
        raise DecisionError(
            f'{source}: expected a prototype result object or {{"results": [...]}}, got {kind}'
        )
    try:
        _Prototype.model_validate(data)
    except ValidationError as err:
        lines = _error_lines(err, source)
        raise DecisionError("; ".join(lines), lines) from None
    return plain(data)


def load_prototype_run(path: str | Path) -> dict[str, Any]:
    """Read `ftrag prototype --format json` output (one result or `--strategy all`)."""
    return prototype_from_dict(_read_json(path, "a prototype run"), str(path))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
