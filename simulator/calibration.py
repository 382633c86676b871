"""Calibration: replace cited base accuracies with what the prototype measured.

Input is the prototype metrics JSON (ARCHITECTURE.md): one result
`{"strategy", "metrics": {...}}` or `{"results": [...]}`. Metrics may be null (absent).

Which figure is used: `accuracy_paraphrased` when present, else `accuracy`. Production users
ask in their own words, and fine-tuned models that memorised the training questions drop on
rephrasings (FineTuneBench, arXiv 2411.05059), so the paraphrased figure is the honest one.
Rows with a `variant` (e.g. constrained decoding) are skipped: they measure what decoding forced,
not what the strategy learnt. The closed-book `base` row is recorded but sets nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError
from simulator.assumptions import Assumptions

Fraction = Annotated[float, Field(ge=0, le=1)] | None
NonNeg = Annotated[float, Field(ge=0)] | None
MAX_BYTES = 50 * 1024 * 1024


class Metrics(BaseModel):
    # Extra metrics are allowed (e.g. a retrained accuracy beside accuracy_updated).
    model_config = ConfigDict(extra="allow", frozen=True)

    accuracy: Fraction = None
    accuracy_paraphrased: Fraction = None
    accuracy_updated: Fraction = None
    format_compliance: Fraction = None
    source_accuracy: Fraction = None
    latency_ms_p50: NonNeg = None
    latency_ms_p95: NonNeg = None
    build_seconds: NonNeg = None
    prompt_tokens_mean: NonNeg = None
    peak_rss_mb: NonNeg = None


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A `+suffix` names a variant row (e.g. `rag+constrained`), treated like `variant`.
    strategy: Annotated[str, Field(pattern=r"^(rag|fine_tuning|hybrid|base)(\+[a-z_]+)?$")]
    metrics: Metrics
    variant: str | None = None
    answers: list[Any] | None = None  # carried by the prototype output; not used here
    meta: dict[str, Any] = {}  # corpus, model, device: recorded, not used


class Results(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    results: list[Result] = Field(min_length=1)
    meta: dict[str, Any] = {}


@dataclass(frozen=True)
class Calibration:
    source: str
    results: tuple[Result, ...]

    def accuracies(self) -> dict[str, float]:
        """strategy -> accuracy to use (first row without a variant that has one)."""
        out: dict[str, float] = {}
        for r in self.results:
            if r.variant or "+" in r.strategy or r.strategy == "base" or r.strategy in out:
                continue
            acc = r.metrics.accuracy_paraphrased
            acc = r.metrics.accuracy if acc is None else acc
            if acc is not None:
                out[r.strategy] = acc
        return out

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "used_accuracy": self.accuracies(),
            "results": [r.model_dump(exclude={"answers"}) for r in self.results],
        }


def parse_calibration(data: Any, source: str) -> Calibration:
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a JSON object with `strategy` and `metrics`, or `results`"
        )
    try:
        if "results" in data:
            results = tuple(Results.model_validate(data).results)
        else:
            results = (Result.model_validate(data),)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            key = ".".join(str(p) for p in e["loc"]) or "(top level)"
            msg = e["msg"][0].lower() + e["msg"][1:]
            if e["type"] == "extra_forbidden":
                msg = "unknown key"
            elif "input" in e and not isinstance(e["input"], dict | list):
                msg += f", got {e['input']!r}"
            lines.append(f"{source}: {key}: {msg}")
        raise ConfigError("; ".join(lines), lines) from None
    return Calibration(source, results)


def load_calibration(path: str | Path) -> Calibration:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: calibration file not found")
    if p.stat().st_size > MAX_BYTES:
        raise ConfigError(f"{p}: calibration file larger than {MAX_BYTES} bytes")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        where = f" (line {e.lineno})" if isinstance(e, json.JSONDecodeError) else ""
        raise ConfigError(f"{p}: not valid JSON{where}") from None
    return parse_calibration(data, str(p))


def apply_calibration(a: Assumptions, cal: Calibration) -> Assumptions:
    """Measured accuracy replaces base_accuracy_<strategy>; recorded as an override."""
    values = {f"base_accuracy_{s}": acc for s, acc in cal.accuracies().items()}
    if not values:
        return a
    return a.with_overrides(values, origin=f"calibration: {cal.source}")
