"""SimulationResult: the typed, JSON-side value of one simulation run, as a Decision carries it.

`simulator.simulate.SimulationResult.to_dict()` is the producer; `SimulationResult.from_dict`
reads exactly that dict (or an older file's) and `to_dict` writes it back key for key, so a
decision file round-trips unchanged. `from_dict` is the one place that reads older spellings
(overrides and prices kept only inside `assumptions`); readers downstream use attributes.
Numbers are kept as given (an int stays an int), so the JSON text does not change either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# --- cost components ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CostComponent:
    """One column of the monthly bill (`<name>` in every simulation row)."""

    name: str  # "training_usd"
    label: str  # "training": table rows, chart legends
    colour: str
    kind: str = "infrastructure"  # or "people": labelling, evaluation, engineering time


# The simulator's bill, in display order: what each month's cost is made of. Colours are
# plotly's D3 set, distinct from the strategy colours so a stacked bar never reads as a strategy.
COST_COMPONENTS: tuple[CostComponent, ...] = (
    CostComponent("data_prep_usd", "data prep", "#8c564b"),  # example / paraphrase synthesis
    CostComponent("training_usd", "training", "#d62728"),  # first training + retrains
    CostComponent("embedding_usd", "embedding", "#2ca02c"),  # first embedding + re-embedding
    CostComponent("vector_store_usd", "vector store", "#17becf"),  # storage, writes, minimum
    CostComponent("retrieval_usd", "retrieval", "#bcbd22"),  # query embedding + vector reads
    CostComponent("hosting_usd", "hosting", "#7f7f7f"),  # idle GPU capacity or FT hosting fee
    CostComponent("inference_input_usd", "inference input", "#1f77b4"),  # prompt tokens
    CostComponent("inference_output_usd", "inference output", "#ff7f0e"),  # answer tokens
    # People and data (issue 17): examples written or relabelled, golden-set judging per
    # release, engineer-hours per retrain and per index refresh.
    CostComponent("labelling_usd", "labelling", "#9467bd", "people"),
    CostComponent("evaluation_usd", "evaluation", "#e377c2", "people"),
    CostComponent("engineering_usd", "engineering time", "#393b79", "people"),
    # A person checking answers before they go out (review_share of the queries).
    CostComponent("review_usd", "answer review", "#637939", "people"),
)
COST_KINDS = {"infrastructure": "Infrastructure", "people": "People and data"}
_COMPONENTS = {c.name: c for c in COST_COMPONENTS}
# Row columns ending in `_usd` that are totals, not components.
TOTAL_COLUMNS = ("monthly_cost_usd", "cumulative_cost_usd")


def component_label(name: str) -> str:
    """The label of a cost component; a column no longer listed prints as its own name."""
    c = _COMPONENTS.get(name)
    return c.label if c else name.removesuffix("_usd").replace("_", " ")


def component_colour(name: str, default: str = "#999999") -> str:
    c = _COMPONENTS.get(name)
    return c.colour if c else default


def component_kind(name: str) -> str:
    """ "infrastructure" or "people"; a column no longer listed counts as infrastructure."""
    c = _COMPONENTS.get(name)
    return c.kind if c else "infrastructure"


# The other row columns, in plain words; a band column adds its quantile ("..., P10").
ROW_LABELS = {
    "month": "Month",
    "strategy": "Strategy",
    "monthly_cost_usd": "Monthly cost (USD)",
    "cumulative_cost_usd": "Cumulative cost (USD)",
    "stale_fraction": "Stale share",
    "expected_accuracy": "Expected accuracy",
}
BAND_SUFFIXES = ("_p10", "_p50", "_p90")


def column_label(name: str) -> str:
    """The label of a simulation row column: `cumulative_cost_usd_p90` -> "Cumulative cost
    (USD), P90"; a cost component -> its label with "(USD)"."""
    for suffix in BAND_SUFFIXES:
        if name.endswith(suffix):
            return f"{column_label(name.removesuffix(suffix))}, {suffix[1:].upper()}"
    if name in ROW_LABELS:
        return ROW_LABELS[name]
    return f"{component_label(name)} (USD)" if name.endswith("_usd") else name.replace("_", " ")


# --- parts ------------------------------------------------------------------------------------


def _number(v: Any) -> float | None:
    """A JSON number as given (int stays int), or None for null / anything else."""
    return v if isinstance(v, int | float) and not isinstance(v, bool) else None


def _opt_str(v: Any) -> str | None:
    return None if v is None else str(v)


@dataclass(frozen=True)
class BreakEven:
    """When the strategy dearer in month 1 stops being dearer in cumulative cost."""

    pair: str
    a: str
    b: str
    month: int | None  # None: not within the horizon (or equal from the start)
    dearer_at_start: str | None
    cheaper_at_start: str | None
    difference_at_horizon_usd: float | None  # a minus b at the horizon

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BreakEven:
        a, b = str(d.get("a", "")), str(d.get("b", ""))
        month = d.get("month")
        return cls(
            pair=str(d.get("pair") or f"{a}_vs_{b}"),
            a=a,
            b=b,
            month=int(month) if isinstance(month, int | float) else None,
            dearer_at_start=_opt_str(d.get("dearer_at_start")),
            cheaper_at_start=_opt_str(d.get("cheaper_at_start")),
            difference_at_horizon_usd=_number(d.get("difference_at_horizon_usd")),
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LatencyEstimate:
    """End-to-end latency of one answer for one strategy, against the profile's p95 budget."""

    p50_ms: float | None
    p95_ms: float | None
    prompt_tokens: float | None
    components_ms: dict[str, dict[str, float | None]]  # "ttft_ms" -> {"p50": .., "p95": ..}
    budget_ms: float | None
    meets_budget: bool | None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LatencyEstimate:
        comps = d.get("components_ms") or {}
        ok = d.get("meets_budget")
        return cls(
            p50_ms=_number(d.get("p50_ms")),
            p95_ms=_number(d.get("p95_ms")),
            prompt_tokens=_number(d.get("prompt_tokens")),
            components_ms={
                str(k): {str(q): _number(x) for q, x in (v or {}).items()} for k, v in comps.items()
            },
            budget_ms=_number(d.get("budget_ms")),
            meets_budget=bool(ok) if ok is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["components_ms"] = {k: dict(v) for k, v in self.components_ms.items()}
        return d


@dataclass(frozen=True)
class SensitivityRow:
    """The horizon cost of one strategy with one input swung alone to its low / high end."""

    strategy: str
    parameter: str
    low_value: float | str | None
    high_value: float | str | None
    base_cost_usd: float | None
    cost_at_low_usd: float | None
    cost_at_high_usd: float | None
    swing_usd: float | None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SensitivityRow:
        def value(v: Any) -> float | str | None:
            return v if isinstance(v, str) else _number(v)

        return cls(
            strategy=str(d.get("strategy", "")),
            parameter=str(d.get("parameter", "")),
            low_value=value(d.get("low_value")),
            high_value=value(d.get("high_value")),
            base_cost_usd=_number(d.get("base_cost_usd")),
            cost_at_low_usd=_number(d.get("cost_at_low_usd")),
            cost_at_high_usd=_number(d.get("cost_at_high_usd")),
            swing_usd=_number(d.get("swing_usd")),
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Override:
    """One value the user set (`--set key=value`, a price file, a calibration run)."""

    key: str
    old: Any  # number or name (e.g. a generator model)
    new: Any
    origin: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Override:
        return cls(str(d.get("key", "")), d.get("old"), d.get("new"), str(d.get("origin") or ""))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PriceUsed:
    """One price the simulation used, with its range, source and as-of date."""

    value: float | None
    low: float | None
    high: float | None
    source: str
    as_of: str
    confidence: str
    entry: str = ""  # price-book entry, "models.gpt-6-luna"; "" in files before issue 17
    verified: bool = True  # False: the number could not be re-checked against a current source

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> PriceUsed:
        d = d or {}
        return cls(
            value=_number(d.get("value")),
            low=_number(d.get("low")),
            high=_number(d.get("high")),
            source=str(d.get("source") or ""),
            as_of=str(d.get("as_of") or ""),
            confidence=str(d.get("confidence") or ""),
            entry=str(d.get("entry") or ""),
            verified=d.get("verified") is not False,
        )

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        if not self.entry:  # an older file's price: write it back as it was
            d.pop("entry")
            d.pop("verified")
        return d

    def age_days(self, today: date) -> int | None:
        """Days between `as_of` and `today`; None when as_of is not a date."""
        try:
            return (today - date.fromisoformat(self.as_of[:10])).days
        except ValueError:
            return None


# A price older than this, on the day it is used, is flagged (app and report).
MAX_PRICE_AGE_DAYS = 183  # six months


@dataclass(frozen=True)
class OldPrice:
    """A price-book entry used by a simulation whose as-of date is over six months old."""

    entry: str  # "models.deepseek-chat" (or the price key for an older file)
    as_of: str
    age_days: int
    verified: bool

    def sentence(self) -> str:
        months = self.age_days // 30
        flag = "" if self.verified else ", not re-checked"
        return f"{self.entry} (as of {self.as_of}, {months} months old{flag})"


def old_prices(
    prices: Mapping[str, PriceUsed], today: date, max_age_days: int = MAX_PRICE_AGE_DAYS
) -> list[OldPrice]:
    """Entries among `prices` whose as_of is more than `max_age_days` before `today`, one
    per entry, oldest first."""
    out: dict[str, OldPrice] = {}
    for key, p in prices.items():
        age = p.age_days(today)
        if age is not None and age > max_age_days:
            name = p.entry or key
            out.setdefault(name, OldPrice(name, p.as_of, age, p.verified))
    return sorted(out.values(), key=lambda o: (-o.age_days, o.entry))


def _overrides(items: Any) -> list[Override]:
    return [Override.from_dict(o) for o in items or [] if isinstance(o, Mapping)]


def _prices(items: Any) -> dict[str, PriceUsed]:
    return {str(k): PriceUsed.from_dict(v) for k, v in (items or {}).items()}


@dataclass(frozen=True)
class AssumptionsUsed:
    """Every number the simulator used that the profile does not state, with its source."""

    values: dict[str, Any]  # name -> number, or a name (generator_model, billing)
    ranges: dict[str, list[float]]  # name -> [low, high]
    sources: dict[str, str]
    units: dict[str, str]
    overridden: list[str] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    prices: dict[str, PriceUsed] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> AssumptionsUsed:
        d = d or {}
        return cls(
            values=dict(d.get("values") or {}),
            ranges={str(k): list(v) for k, v in (d.get("ranges") or {}).items() if v},
            sources={str(k): str(v) for k, v in (d.get("sources") or {}).items()},
            units={str(k): str(v) for k, v in (d.get("units") or {}).items()},
            overridden=[str(k) for k in d.get("overridden") or []],
            overrides=_overrides(d.get("overrides")),
            prices=_prices(d.get("prices")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": dict(self.values),
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "sources": dict(self.sources),
            "units": dict(self.units),
            "overridden": list(self.overridden),
            "overrides": [o.to_dict() for o in self.overrides],
            "prices": {k: p.to_dict() for k, p in self.prices.items()},
        }


# --- the value --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulationResult:
    """Cost, freshness, accuracy and latency per strategy over `months`, as a Decision holds it.

    `rows` is the tidy table, one dict per (month, strategy): `month`, `strategy`,
    `monthly_cost_usd`, `cumulative_cost_usd`, `stale_fraction`, `expected_accuracy`, one
    column per COST_COMPONENTS entry, and `<column>_p10/_p50/_p90` Monte Carlo bands (null
    without draws).
    """

    months: int
    seed: int | None
    draws: int | None
    rows: list[dict[str, Any]]
    break_even: list[BreakEven] = field(default_factory=list)
    bands: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    latency: dict[str, LatencyEstimate] = field(default_factory=dict)
    sensitivity: list[SensitivityRow] = field(default_factory=list)
    assumptions: AssumptionsUsed = field(default_factory=lambda: AssumptionsUsed({}, {}, {}, {}))
    overrides: list[Override] = field(default_factory=list)
    prices_used: dict[str, PriceUsed] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    # --- reading the table

    def central(self, name: str) -> str:
        """The column that holds the central estimate of `name` (`cumulative_cost_usd`,
        `stale_fraction`, `expected_accuracy`): the P50 of the Monte Carlo draws when the run
        drew any, so it always lies inside the P10-P90 band of the same draws; else `name`
        itself, the run with every input at its central value (what `draws=0` gives).

        The two differ because inputs are drawn from skewed ranges around their central
        value: the cost at central inputs is not the median cost, and can fall outside the
        band (issue 19). Charts, tables and budget checks therefore read this column.
        """
        col = f"{name}_p50"
        if self.rows and all(r.get(col) is not None for r in self.rows):
            return col
        return name

    def old_prices(self, today: date) -> list[OldPrice]:
        """The price-book entries this run used that were over six months old on `today`."""
        return old_prices(self.prices_used, today)

    def is_drawn(self) -> bool:
        """Whether the rows carry Monte Carlo bands (the central line is then their P50)."""
        return self.central("cumulative_cost_usd") != "cumulative_cost_usd"

    def rows_by_strategy(self) -> dict[str, list[dict[str, Any]]]:
        """strategy -> its rows in month order; strategies in the order the table holds them."""
        out: dict[str, list[dict[str, Any]]] = {}
        for r in self.rows:
            out.setdefault(str(r.get("strategy")), []).append(r)
        for rs in out.values():
            rs.sort(key=lambda r: r.get("month") or 0)
        return out

    def component_columns(self) -> list[str]:
        """The cost-component columns the rows hold: COST_COMPONENTS order, then any other
        `*_usd` column (a newer or older simulator's) by its raw name."""
        cols = list(self.rows[0]) if self.rows else []
        known = [c.name for c in COST_COMPONENTS if c.name in cols]
        other = [
            k
            for k in cols
            if k.endswith("_usd") and k not in _COMPONENTS and k not in TOTAL_COLUMNS
        ]
        return known + other

    # --- JSON

    def to_dict(self) -> dict[str, Any]:
        """The dict `simulator.simulate.SimulationResult.to_dict()` writes, key for key."""
        return {
            "months": self.months,
            "seed": self.seed,
            "draws": self.draws,
            "rows": [dict(r) for r in self.rows],
            "break_even": [b.to_dict() for b in self.break_even],
            "bands": {s: {k: list(v) for k, v in b.items()} for s, b in self.bands.items()},
            "latency": {s: v.to_dict() for s, v in self.latency.items()},
            "sensitivity": [r.to_dict() for r in self.sensitivity],
            "assumptions": self.assumptions.to_dict(),
            "overrides": [o.to_dict() for o in self.overrides],
            "prices_used": {k: p.to_dict() for k, p in self.prices_used.items()},
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SimulationResult:
        """Read a simulation dict (validated at the Decision edge; `months` and `rows` are
        required). Older files kept the overrides and prices only inside `assumptions`."""
        a = d.get("assumptions") or {}
        seed, draws = d.get("seed"), d.get("draws")
        return cls(
            months=int(d["months"]),
            seed=int(seed) if isinstance(seed, int | float) else None,
            draws=int(draws) if isinstance(draws, int | float) else None,
            rows=[dict(r) for r in d["rows"] if isinstance(r, Mapping)],
            break_even=[
                BreakEven.from_dict(b) for b in d.get("break_even") or [] if isinstance(b, Mapping)
            ],
            bands={
                str(s): {str(k): list(v) for k, v in (b or {}).items()}
                for s, b in (d.get("bands") or {}).items()
            },
            latency={
                str(s): LatencyEstimate.from_dict(v or {})
                for s, v in (d.get("latency") or {}).items()
            },
            sensitivity=[
                SensitivityRow.from_dict(r)
                for r in d.get("sensitivity") or []
                if isinstance(r, Mapping)
            ],
            assumptions=AssumptionsUsed.from_dict(a),
            overrides=_overrides(d.get("overrides") or a.get("overrides")),
            prices_used=_prices(d.get("prices_used") or a.get("prices")),
            notes=[str(n) for n in d.get("notes") or []],
        )
