"""Calibration: replace cited base accuracies with what the prototype measured.

Input is the prototype metrics JSON (ARCHITECTURE.md): one result
`{"strategy", "metrics": {...}}` or `{"results": [...]}`. Metrics may be null (absent).

Which figure is used: the first present metric of the result's task's `TaskSpec.calibrates`
(`core.registry`). Knowledge QA: `accuracy_paraphrased`, else `accuracy`: production users ask
in their own words, and fine-tuned models that memorised the training questions drop on
rephrasings (FineTuneBench, arXiv 2411.05059), so the paraphrased figure is the honest one.
A behaviour task (`"task": "classification"` or `"extraction"` in the result, as `ftrag
prototype --task` writes it) calibrates with its own accuracy: `accuracy` (labels), or
`field_accuracy` (fields written exactly as gold).

Which row calibrates which strategy: `strategy` names a prototype row (`core.registry.ROWS`) or
a strategy, and a row counts for the strategy it measures (`rag+constrained` measures `rag`).
When several rows measure one strategy, the one listed first in its `StrategySpec.rows` wins
(`rag` over `rag+constrained`): the plain row is the strategy as a user would deploy it. Rows
with an explicit `variant` are skipped: they measure what decoding forced, not what the
strategy learnt. The closed-book `base` row measures no strategy: recorded, sets nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from core.errors import ConfigError
from core.registry import ROWS, STRATEGIES, TASKS
from core.review import review_assumptions, review_split
from simulator.assumptions import Assumptions, accuracy_name

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


def _known_names() -> tuple[str, ...]:
    return (*ROWS.values(), *(s for s in STRATEGIES.values() if s not in ROWS))


def _registered_row(value: str) -> str:
    """A row or strategy the registries know; checked when parsed, so a row registered at run
    time (a test's toy strategy) is accepted."""
    names = _known_names()
    if value not in names:
        pattern = "^(" + "|".join(re.escape(n) for n in names) + ")$"
        raise PydanticCustomError(
            "string_pattern_mismatch",
            "String should match pattern '{pattern}' (a prototype row or strategy)",
            {"pattern": pattern},
        )
    return value


def _registered_task(value: str | None) -> str | None:
    if value is not None and value not in TASKS:
        raise PydanticCustomError(
            "task", "must be a prototype task ({known})", {"known": ", ".join(TASKS.values())}
        )
    return value


def strategy_of(row: str) -> str | None:
    """The strategy a row measures (None for the closed-book base); a strategy is its own."""
    return ROWS.get(row).strategy if row in ROWS else row


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Annotated[str, AfterValidator(_registered_row)]  # a row: `rag+constrained`
    metrics: Metrics
    variant: str | None = None
    task: Annotated[str | None, AfterValidator(_registered_task)] = None  # None: knowledge QA
    answers: list[Any] | None = None  # carried by the prototype output; not used here
    meta: dict[str, Any] = {}  # corpus, model, device: recorded, not used

    def accuracy(self) -> float | None:
        """The first present figure of the task's `calibrates` metrics (module docstring)."""
        metrics = self.metrics.model_dump()
        for key in TASKS.get(self.task or "knowledge_qa").calibrates:
            value = metrics.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                if not 0 <= value <= 1:
                    raise ConfigError(f"{key} must be a share in [0, 1], got {value}")
                return float(value)
        return None


class Results(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    results: list[Result] = Field(min_length=1)
    meta: dict[str, Any] = {}
    # What `ftrag prototype --strategy all` writes beside the results: recorded, not used.
    corpus: str | None = None
    task: str | None = None  # a task run: the dataset's name
    kind: Annotated[str | None, AfterValidator(_registered_task)] = None
    strategies: list[str] = []
    note: str | None = None


@dataclass(frozen=True)
class Calibration:
    source: str
    results: tuple[Result, ...]

    def accuracies(self) -> dict[str, float]:
        """strategy -> accuracy to use, in file order: from each strategy's highest-ranked row
        (its order in `StrategySpec.rows`, then file order) that has a figure and no variant."""
        best: dict[str, tuple[tuple[int, int], float]] = {}
        for i, r in enumerate(self.results):
            strategy = strategy_of(r.strategy)
            if r.variant or strategy is None or strategy not in STRATEGIES:
                continue
            acc = r.accuracy()
            if acc is None:
                continue
            rows = STRATEGIES.get(strategy).rows
            rank = (rows.index(r.strategy) if r.strategy in rows else len(rows), i)
            if strategy not in best or rank < best[strategy][0]:
                best[strategy] = (rank, acc)
        chosen = sorted(best.items(), key=lambda kv: kv[1][0][1])
        return {s: acc for s, (_, acc) in chosen}

    def to_dict(self) -> dict[str, Any]:
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
    values = {accuracy_name(s): acc for s, acc in cal.accuracies().items()}
    if not values:
        return a
    return a.with_overrides(values, origin=f"calibration: {cal.source}")


def review_plan(cal: Calibration, floor: float) -> dict[str, Any]:
    """The review assumptions a confidence `floor` gives on a prototype run: the share of its
    answers a person would check and the share of its wrong answers among them, from the first
    row whose answers carry the reader's confidence (the extractive reader, or the hybrid)."""
    if not 0 <= floor <= 1:
        raise ConfigError(f"review floor must be between 0 and 1, got {floor}")
    for r in cal.results:
        split = review_split(list(r.answers or []), floor)
        if split:
            settings = review_assumptions(split["review_share"], split["wrong_caught"])
            return {"row": r.strategy, **settings}
    raise ConfigError(
        f"{cal.source}: no answer carries the reader's confidence, so a review floor cannot "
        "be applied; use a run of the extractive reader (rag+constrained) or the hybrid, "
        "written with its answers"
    )
