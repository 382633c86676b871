"""Price book: `data/prices/*.yaml`, validated once here, at the edge.

Every entry carries `source` and `as_of`; low-confidence ([U]) entries carry a `range` per
field, which the Monte Carlo samples. Users override any value with a price file (same layout,
`{models: {...}, gpus: {...}}`) or with `prices.<file>.<entry>.<field>=value` keys; every
override is recorded in `PriceBook.overrides` so the output can show it.

Loading is the only I/O of the simulator and lives in `load_price_book`; everything after it
is pure.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from core.errors import ConfigError

PRICES_DIR = Path(__file__).resolve().parent.parent / "data" / "prices"
FILES = ("models", "gpus", "embeddings", "vector_stores", "people", "defaults")
# A price older than this (as_of vs the day it is used) is flagged in the app and the report.
MAX_PRICE_AGE_DAYS = 183  # six months
NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]


class Entry(BaseModel):
    """Fields every priced entry shares: where the number comes from, how sure we are, and
    whether it can still be bought.

    `verified: false` marks an entry whose number could not be re-checked against a current
    source; it keeps its old `as_of`, so the age warning fires for it. `available_to_new_users`
    and `retires` say whether a new customer can buy the thing at all, and until when; either
    one needs an `availability_source`. The simulator refuses to price an entry that is closed
    to new users or retires within the simulated months (`closed_reason`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    as_of: date
    verified: StrictBool = True
    confidence: Literal["high", "medium", "low"] = "high"
    range: dict[str, tuple[float, float]] = Field(default_factory=dict)
    available_to_new_users: StrictBool = True
    retires: date | None = None
    availability_source: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _check_range(self) -> Entry:
        if (not self.available_to_new_users or self.retires) and not self.availability_source:
            raise ValueError(
                "`available_to_new_users: false` or a `retires` date needs an "
                "`availability_source` saying where that comes from"
            )
        if self.confidence == "low" and not self.range:
            raise ValueError("confidence is low, so a `range` {field: [low, high]} is required")
        for key, (lo, hi) in self.range.items():
            value = getattr(self, key, None)
            if key not in type(self).model_fields or not isinstance(value, int | float):
                raise ValueError(f"range names `{key}`, which is not a numeric field here")
            if not lo <= value <= hi:
                raise ValueError(f"range for `{key}` is [{lo}, {hi}], must contain {value}")
        return self

    def bounds(self, key: str) -> tuple[float, float]:
        v = float(getattr(self, key))
        return self.range.get(key, (v, v))

    def closed_reason(self, start: date, end: date) -> str | None:
        """Why this entry cannot be bought for the whole of [start, end], or None if it can."""
        where = f" ({self.availability_source})" if self.availability_source else ""
        if not self.available_to_new_users:
            return f"closed to new users{where}"
        if self.retires is not None and self.retires <= end:
            return f"shuts down on {self.retires}, before {end}{where}"
        return None


class FineTuning(Entry):
    training_per_mtok: NonNeg
    input_per_mtok: NonNeg
    cached_input_per_mtok: NonNeg | None = None
    output_per_mtok: NonNeg
    hosting_per_hour: NonNeg = 0.0


class TokenModel(Entry):
    billing: Literal["per_token"]
    input_per_mtok: NonNeg
    cached_input_per_mtok: NonNeg | None = None
    output_per_mtok: NonNeg
    fine_tuning: FineTuning | None = None


class SelfHostedModel(Entry):
    billing: Literal["gpu_hours"]
    gpu: str
    prefill_tokens_per_s: Pos
    decode_tokens_per_s: Pos
    min_gpus: Annotated[int, Field(ge=0, le=10_000)] = 1
    lora_train_tokens_per_gpu_hour: Pos


class Gpu(Entry):
    usd_per_hour: Pos


class Embedding(Entry):
    usd_per_mtok: NonNeg


class VectorStore(Entry):
    storage_per_gb_month: NonNeg
    read_per_munits: NonNeg
    write_per_munits: NonNeg
    monthly_minimum: NonNeg = 0.0
    fixed_monthly: NonNeg = 0.0
    gb_per_million_vectors: Pos
    read_units_per_gb: NonNeg
    min_read_units_per_query: NonNeg
    write_units_per_vector: NonNeg


class LabellingCost(Entry):
    """People writing or checking one training or evaluation example."""

    usd_per_example: NonNeg


class EngineeringCost(Entry):
    """One hour of an engineer's time, loaded (salary plus overheads)."""

    hourly_rate_usd: NonNeg


class ReviewCost(Entry):
    """One hour of a person checking answers against their sources before they go out."""

    usd_per_hour: NonNeg


class PeopleCosts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    labelling: LabellingCost
    engineering: EngineeringCost
    review: ReviewCost


class DeploymentDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    generator_model: str
    embedding_model: str
    vector_store: str
    # The fine-tuning path priced when the generator has no open cloud fine-tuning path on the
    # simulated dates: an open-weights model trained with LoRA on rented GPUs.
    open_weights_model: str
    why: str = Field(min_length=1)


GeneratorModel = Annotated[TokenModel | SelfHostedModel, Field(discriminator="billing")]
ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "models": TypeAdapter(dict[str, GeneratorModel]),
    "gpus": TypeAdapter(dict[str, Gpu]),
    "embeddings": TypeAdapter(dict[str, Embedding]),
    "vector_stores": TypeAdapter(dict[str, VectorStore]),
    "people": TypeAdapter(PeopleCosts),
    "defaults": TypeAdapter(
        dict[Literal["cloud_api", "private_cloud", "on_premises"], DeploymentDefaults]
    ),
}


@dataclass(frozen=True)
class Override:
    key: str  # e.g. "prices.models.gpt-4o-mini.input_per_mtok" or an assumption name
    old: Any
    new: Any
    origin: str  # "--set", a file name, "calibration: FILE"

    def to_dict(self) -> dict:
        return {"key": self.key, "old": self.old, "new": self.new, "origin": self.origin}


@dataclass(frozen=True)
class PriceBook:
    models: dict[str, TokenModel | SelfHostedModel]
    gpus: dict[str, Gpu]
    embeddings: dict[str, Embedding]
    vector_stores: dict[str, VectorStore]
    people: PeopleCosts
    defaults: dict[str, DeploymentDefaults]
    overrides: tuple[Override, ...] = field(default_factory=tuple)


def _explain(e: ErrorDetails) -> str:
    """Pydantic's error, as `must be >= 0, got -1`."""
    ctx, t = e.get("ctx", {}), e["type"]
    got = f", got {e['input']!r}" if "input" in e and not isinstance(e["input"], dict) else ""
    if t == "greater_than_equal":
        return f"must be >= {ctx['ge']:g}{got}"
    if t == "greater_than":
        return f"must be > {ctx['gt']:g}{got}"
    if t == "less_than_equal":
        return f"must be <= {ctx['le']:g}{got}"
    if t == "missing":
        return "is required"
    if t == "extra_forbidden":
        return "unknown key"
    if t.startswith("bool"):
        return f"must be true or false{got}"
    if t.startswith(("date", "datetime")):
        return f"must be a date written YYYY-MM-DD{got}"
    msg = str(e["msg"]).removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] + (got if t != "value_error" else "")


def _validate(name: str, raw: Any, origins: dict[str, str]) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"prices/{name}.yaml: expected a mapping of entries")
    try:
        return ADAPTERS[name].validate_python(raw)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            # Drop discriminator tags ("per_token") from the location.
            loc = [str(p) for p in e["loc"] if p not in ("per_token", "gpu_hours")]
            key = ".".join(loc)
            origin = next(
                (
                    o
                    for k, o in origins.items()
                    if k == f"{name}.{key}" or f"{name}.{key}".startswith(k + ".")
                ),
                None,
            )
            where = f"prices/{name}.yaml" + (f" (overridden by {origin})" if origin else "")
            lines.append(f"{where}: {key} {_explain(e)}")
        raise ConfigError("; ".join(lines), lines) from None


def _read_yaml(path: Path, label: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found") from None
    except OSError as e:
        raise ConfigError(f"{label}: cannot read ({e.strerror})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{label}: not valid YAML{where}") from None


def coerce(text: str) -> Any:
    """`--set` values arrive as text: parse them as YAML scalars (numbers, null, strings)."""
    try:
        return yaml.safe_load(text) if isinstance(text, str) else text
    except yaml.YAMLError:
        return text


def _set_path(raw: dict, name: str, rest: str, value: Any, key: str) -> Any:
    """Set `rest` (entry.field[.field]) inside raw[name]; entry names may contain dots,
    so match the longest existing entry name first."""
    table = raw[name]
    entries = sorted(table, key=len, reverse=True)
    entry = next((e for e in entries if rest.startswith(e + ".")), None)
    if entry is None:
        raise ConfigError(
            f"{key}: no entry in prices/{name}.yaml matches (known: {', '.join(sorted(table))})"
        )
    node, parts = table[entry], rest[len(entry) + 1 :].split(".")
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            raise ConfigError(f"{key}: prices/{name}.yaml has no `{entry}.{p}` block")
        node = node[p]
    old = node.get(parts[-1])
    node[parts[-1]] = value
    return old


def _merge(base: dict, new: dict) -> None:
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v


def _flatten(d: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(d, dict):
        return [kv for k, v in d.items() for kv in _flatten(v, f"{prefix}.{k}")]
    return [(prefix, d)]


def load_price_book(
    prices_dir: str | Path | None = None,
    user_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> PriceBook:
    """Read the price book, apply a user price file, then `prices.*` overrides, then validate."""
    base_dir = Path(prices_dir) if prices_dir else PRICES_DIR
    raw = {n: _read_yaml(base_dir / f"{n}.yaml", f"prices/{n}.yaml") or {} for n in FILES}
    pristine = copy.deepcopy(raw)
    origins: dict[str, str] = {}  # "models.gpt-4o-mini.input_per_mtok" -> origin
    records: list[Override] = []

    if user_file is not None:
        label = str(user_file)
        user = _read_yaml(Path(user_file), label)
        if not isinstance(user, dict):
            raise ConfigError(f"{label}: expected a mapping with keys among {', '.join(FILES)}")
        for name, table in user.items():
            if name not in FILES:
                raise ConfigError(f"{label}: unknown section `{name}` (known: {', '.join(FILES)})")
            if not isinstance(table, dict):
                raise ConfigError(f"{label}: `{name}` must be a mapping of entries")
            _merge(raw[name], copy.deepcopy(table))
            for path, value in _flatten(table, name):
                origins[path] = label
                old = _lookup(pristine, path)
                records.append(Override(f"prices.{path}", old, value, label))

    for key, text in (overrides or {}).items():
        parts = key.split(".", 2)
        if len(parts) < 3 or parts[0] != "prices" or parts[1] not in FILES:
            raise ConfigError(
                f"{key}: price overrides look like prices.<{'|'.join(FILES)}>.<entry>.<field>"
            )
        value = coerce(text)
        old = _set_path(raw, parts[1], parts[2], value, key)
        origins[f"{parts[1]}.{parts[2]}"] = f"--set {key}"
        records.append(Override(key, old, value, "--set"))

    tables = {n: _validate(n, raw[n], origins) for n in FILES}
    return PriceBook(**tables, overrides=tuple(records))


def _lookup(d: dict, path: str) -> Any:
    """Value at "file.entry.field" in the raw book (entry names may contain dots), or None."""
    name, _, rest = path.partition(".")
    table = d.get(name) or {}
    entry = next(
        (e for e in sorted(table, key=len, reverse=True) if rest.startswith(e + ".")), None
    )
    node: Any = table.get(entry) if entry else None
    for p in rest[len(entry) + 1 :].split(".") if entry else ():
        if not isinstance(node, dict) or p not in node:
            return None
        node = node[p]
    return node
