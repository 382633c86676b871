"""Use-case profile: the public input contract (see ARCHITECTURE.md).

Validated once, here, at the edge. Field names are the public interface; every field's
description is the help text the UI and `ftrag schema` show.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from core.errors import ProfileError

# Refuse profile files bigger than this before parsing: a profile is a few hundred bytes.
MAX_PROFILE_BYTES = 256 * 1024


class Task(str, Enum):
    KNOWLEDGE_QA = "knowledge_qa"
    CUSTOMER_SUPPORT = "customer_support"
    CLASSIFICATION = "classification"
    EXTRACTION = "extraction"
    SUMMARIZATION = "summarization"
    CONTENT_GENERATION = "content_generation"
    CODE_ASSISTANT = "code_assistant"


class UpdateFrequency(str, Enum):
    NEVER = "never"
    YEARLY = "yearly"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"
    WEEKLY = "weekly"
    DAILY = "daily"
    REALTIME = "realtime"


class Traceability(str, Enum):
    NONE = "none"
    PREFERRED = "preferred"
    REQUIRED = "required"


class Level(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Deployment(str, Enum):
    CLOUD_API = "cloud_api"
    PRIVATE_CLOUD = "private_cloud"
    ON_PREMISES = "on_premises"


# Ordinal positions used by the rules, the scorer features and the simulator.
UPDATE_ORDER = [f.value for f in UpdateFrequency]
LEVEL_ORDER = [lv.value for lv in Level]


class Profile(BaseModel):
    """A use case, as an architect describes it."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)

    name: str = Field(min_length=1, max_length=200, description="Short name of the use case.")
    task: Task = Field(description="What the model does for the user.")
    knowledge_update_frequency: UpdateFrequency = Field(
        description="How often the domain knowledge the answers depend on changes."
    )
    latency_budget_ms: int = Field(
        gt=0, le=600_000, description="p95 budget for one answer, end to end, in milliseconds."
    )
    traceability: Traceability = Field(
        description="Must answers cite their sources? none, preferred or required."
    )
    style_consistency: Level = Field(
        description="How much tone and answer format must stay fixed (low, medium, high)."
    )
    structured_output: bool = Field(description="Must output follow a schema (JSON, a template)?")
    knowledge_base_tokens: int = Field(
        ge=0, le=10**13, description="Size of the domain knowledge in tokens."
    )
    labeled_examples: int = Field(
        ge=0, le=10**9, description="Curated input->output pairs available for training."
    )
    queries_per_month: int = Field(ge=0, le=10**12, description="Expected queries per month.")
    deployment: Deployment = Field(
        description="Where the model must run: a cloud API, a private cloud or on premises."
    )
    ml_maturity: Level = Field(
        description="The team's ability to train, evaluate and run models (low, medium, high)."
    )
    access_control: bool = Field(
        default=False, description="Do users have per-user document permissions?"
    )
    monthly_budget_usd: float | None = Field(
        default=None, ge=0, le=1e9, description="Monthly budget in USD, if there is one."
    )

    @field_validator("name")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        # min_length counts spaces; a name of only spaces reads as no name in every list.
        if not v.strip():
            raise PydanticCustomError("blank", "must not be blank")
        return v

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


# What each field is called on screen and in reports, in the schema's order: one place, so the
# form, the report and the error messages never name a field two ways.
FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "task": "Task",
    "knowledge_update_frequency": "Knowledge changes",
    "latency_budget_ms": "Latency budget, p95 (ms)",
    "traceability": "Traceability",
    "style_consistency": "Style consistency",
    "structured_output": "Structured output",
    "knowledge_base_tokens": "Knowledge base size (tokens)",
    "labeled_examples": "Labelled examples",
    "queries_per_month": "Queries per month",
    "deployment": "Deployment",
    "ml_maturity": "ML maturity",
    "access_control": "Per-user document permissions",
    "monthly_budget_usd": "Monthly budget (USD)",
}


def field_label(name: str) -> str:
    """A field's label; a name that is not a field (an old file's) prints in plain words."""
    return FIELD_LABELS.get(name) or name.replace("_", " ")


def format_validation_error(
    err: ValidationError, source: str | None = None, labels: bool = False
) -> list[str]:
    """One line per bad field, naming the field and the value the user gave. `labels` names
    a field by its on-screen label (the form) instead of its key (files, links)."""
    lines = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "(profile)"
        if labels and len(e["loc"]) == 1:
            field = field_label(field)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field (not part of the profile schema)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = msg[0].lower() + msg[1:]
            if "input" in e and not isinstance(e["input"], dict):
                msg += f", got {e['input']!r}"
        prefix = f"{source}: " if source else ""
        lines.append(f"{prefix}{field}: {msg}")
    return lines


def profile_from_dict(data: Any, source: str | None = None) -> Profile:
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "empty document"
        where = source or "profile"
        raise ProfileError(f"{where}: expected a mapping of profile fields, got {kind}")
    try:
        return Profile.model_validate(data)
    except ValidationError as err:
        lines = format_validation_error(err, source)
        raise ProfileError("; ".join(lines), lines) from None


def parse_profile_text(text: str, source: str = "profile") -> Profile:
    """Parse JSON or YAML text (JSON is a subset of YAML, but JSON errors read better)."""
    if not text.strip():
        raise ProfileError(f"{source}: file is empty")
    stripped = text.lstrip()
    try:
        data = json.loads(text) if stripped.startswith(("{", "[")) else yaml.safe_load(text)
    except json.JSONDecodeError as e:
        raise ProfileError(
            f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
        ) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ProfileError(f"{source}: not valid YAML{where}") from None
    return profile_from_dict(data, source)


def parse_profile_bytes(raw: bytes, source: str = "profile") -> Profile:
    if len(raw) > MAX_PROFILE_BYTES:
        raise ProfileError(
            f"{source}: file is {len(raw)} bytes, larger than the {MAX_PROFILE_BYTES} byte limit"
        )
    if b"\x00" in raw:
        raise ProfileError(f"{source}: binary file, expected JSON or YAML text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ProfileError(f"{source}: not UTF-8 text (byte {e.start})") from None
    return parse_profile_text(text, source)


def load_profile(path: str | Path) -> Profile:
    p = Path(path)
    if not p.exists():
        raise ProfileError(f"{p}: file not found")
    if not p.is_file():
        raise ProfileError(f"{p}: not a file")
    size = p.stat().st_size
    if size > MAX_PROFILE_BYTES:
        raise ProfileError(f"{p}: file is {size} bytes, larger than the {MAX_PROFILE_BYTES} limit")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ProfileError(f"{p}: cannot read ({e.strerror})") from None
    return parse_profile_bytes(raw, str(p))


def profile_json_schema() -> dict:
    return Profile.model_json_schema()


def field_help(name: str) -> str:
    """Help text for a field, from its one source: the schema description."""
    return Profile.model_fields[name].description or ""
