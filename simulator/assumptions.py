"""Assumptions: every number the simulator uses that the profile does not state outright.

`derive_assumptions(profile, book)` maps the profile onto values through the tables below; each
table says why its numbers are what they are. Every numeric assumption has a low/high range (the
Monte Carlo samples it, the tornado swings it) and can be overridden by name:
`--set change_rate_per_month=0.1`, `--set change_rate_per_month.high=0.3`,
`--set generator_model=gpt-4o`. Unknown keys and bad values raise ConfigError naming both.

Sources are tagged: a paper or price page when there is one, "judgment" when the number is an
engineering estimate (these carry wide ranges on purpose).
"""

from __future__ import annotations

import calendar
import difflib
import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

from core.errors import ConfigError
from core.profile import Profile
from simulator.prices import Entry, Override, PriceBook, SelfHostedModel, TokenModel, coerce
from simulator.strategies import cost_models

# Fraction of the knowledge base that changes per month, by update frequency. Judgment: a
# "yearly" domain still sees ~20% of documents touched in a year; "daily" domains (prices,
# tickets, news) see most of their volatile part change within months. Ranges are x0.5..x2.
CHANGE_RATE = {
    "never": 0.0,
    "yearly": 0.02,
    "quarterly": 0.035,
    "monthly": 0.05,
    "weekly": 0.10,
    "daily": 0.20,
    "realtime": 0.35,
}
# Days between a document changing and its new version being searchable. Judgment: a nightly
# batch ingestion (1 day) is the common default; realtime domains need streaming ingestion.
INGESTION_LAG_DAYS = {"realtime": 0.05}
DEFAULT_INGESTION_LAG_DAYS = 1.0
# (user prompt tokens, answer tokens) per query, by task. Judgment from typical payloads:
# classification answers a label, extraction and summarisation read long inputs.
TASK_TOKENS = {
    "knowledge_qa": (150, 150),
    "customer_support": (300, 250),
    "classification": (200, 10),
    "extraction": (800, 200),
    "summarization": (2000, 300),
    "content_generation": (300, 600),
    "code_assistant": (800, 400),
}
# Chunks retrieved per query, by traceability. Ovadia et al. 2024 retrieve up to k=5; citing
# sources reliably needs a little more recall, so "required" retrieves more (judgment).
K_BY_TRACEABILITY = {"none": 3, "preferred": 5, "required": 8}
# System prompt + few-shot examples a model that was NOT fine-tuned needs to hold tone and
# format (Balaguer et al. 2024: FT has a high upfront cost but short prompts). Judgment.
INSTRUCTION_TOKENS = {"low": 100, "medium": 300, "high": 800}
SCHEMA_INSTRUCTION_TOKENS = 200  # schema + an example when structured_output is required
# Retrain cadence for fine-tuning, when the user does not set one: the longest interval whose
# peak stale fraction, 1 - (1 - c)^T, stays under this target; at least monthly, at most
# yearly. "never" changing knowledge is trained once.
STALE_TARGET = 0.2
MAX_RETRAIN_INTERVAL = 12
# Latency, by billing kind. Cloud: REFERENCES.md [U] (query embedding 30-150 ms, vector search
# 20-100 ms, TTFT 300-1500 ms); per-stream decode speed is judgment. Self-hosted 8B with a
# local encoder and FAISS: judgment.
LATENCY = {
    "per_token": dict(
        embed_ms_p50=50.0,
        embed_ms_p95=150.0,
        search_ms_p50=30.0,
        search_ms_p95=100.0,
        ttft_ms_p50=400.0,
        ttft_ms_p95=1500.0,
        prefill_tokens_per_s_stream=5000.0,
        decode_tokens_per_s_p50=80.0,
        decode_tokens_per_s_p95=40.0,
    ),
    "gpu_hours": dict(
        embed_ms_p50=15.0,
        embed_ms_p95=40.0,
        search_ms_p50=10.0,
        search_ms_p95=40.0,
        ttft_ms_p50=150.0,
        ttft_ms_p95=500.0,
        prefill_tokens_per_s_stream=8000.0,
        decode_tokens_per_s_p50=40.0,
        decode_tokens_per_s_p95=25.0,
    ),
}
# Base accuracy of each strategy on knowledge it holds (fresh): `base_accuracy_<strategy>`,
# whose default, range and source each strategy's model gives (simulator/strategies.py).
# Replaced by measured prototype accuracy when a calibration file is given.
ACCURACY_PREFIX = "base_accuracy_"


@dataclass(frozen=True)
class Spec:
    unit: str
    source: str
    lo: float = 0.0  # hard validity bounds for a value
    hi: float = math.inf
    integer: bool = False
    rng: tuple[str, float, float] = ("rel", 0.5, 2.0)  # ("rel", x_lo, x_hi) | ("abs", lo, hi)


SPECS: dict[str, Spec] = {
    "change_rate_per_month": Spec("fraction/month", "judgment: CHANGE_RATE table", 0, 1),
    "ingestion_lag_days": Spec(
        "days", "judgment: nightly batch ingestion", 0, 365, rng=("rel", 0.25, 7.0)
    ),
    "retrain_interval_months": Spec(
        "months, 0 = never", "rule: peak stale <= 20%", 0, 120, integer=True, rng=("rel", 0.5, 2.0)
    ),
    "hybrid_retrain_interval_months": Spec(
        "months, 0 = never",
        "judgment: behaviour refresh with base-model upgrades",
        0,
        120,
        integer=True,
        rng=("rel", 0.5, 2.0),
    ),
    "chunk_tokens": Spec(
        "tokens", "Ovadia et al. 2024: 256-token chunks", 16, 8192, rng=("rel", 0.5, 2.0)
    ),
    "k_retrieved": Spec(
        "chunks/query",
        "judgment from Ovadia et al. k<=5, by traceability",
        0,
        100,
        rng=("rel", 0.6, 1.6),
    ),
    "prompt_tokens": Spec("tokens/query", "judgment: TASK_TOKENS table", 1, 1e6),
    "answer_tokens": Spec("tokens/query", "judgment: TASK_TOKENS table", 1, 1e6),
    "instruction_tokens": Spec(
        "tokens/query",
        "Balaguer et al. 2024 (longer prompts w/o FT); judgment: INSTRUCTION_TOKENS table",
        0,
        1e6,
    ),
    "ft_instruction_tokens": Spec("tokens/query", "judgment: FT internalises format", 0, 1e6),
    "cached_prefix_fraction": Spec(
        "fraction",
        "judgment: share of static prefix hitting the prompt cache",
        0,
        1,
        rng=("abs", 0.0, 0.9),
    ),
    "paraphrases_per_chunk": Spec(
        "paraphrases", "Ovadia et al. 2024: accuracy rises up to 10", 0, 100, rng=("abs", 1.0, 10.0)
    ),
    "epochs": Spec(
        "epochs", "judgment: common 2-4 epoch LoRA/API fine-tunes", 0.1, 100, rng=("abs", 1.0, 5.0)
    ),
    "retrain_corpus_fraction": Spec(
        "fraction",
        "judgment: retrain from base on the full corpus to avoid forgetting; "
        "incremental with replay is cheaper",
        0,
        1,
        rng=("abs", 0.3, 1.0),
    ),
    "hybrid_min_examples": Spec(
        "examples",
        "judgment: RAFT-style training set size (Zhang et "
        "al. 2024); synthesised when labelled examples fall short",
        0,
        1e9,
        rng=("rel", 0.3, 3.0),
    ),
    "query_growth_per_month": Spec(
        "fraction/month", "judgment: flat traffic by default", -1, 10, rng=("abs", 0.0, 0.05)
    ),
    # People and data (issue 17). The rates (USD per example, per engineer-hour) are in the
    # price book (prices/people.yaml); these are the quantities.
    "ft_examples_target": Spec(
        "examples",
        "OpenAI fine-tuning guide: gains from 50-100 examples, more for harder tasks; judgment "
        "500 (range 100-2000). People write what the profile's labelled examples lack, and "
        "relabel the changed share at each fine-tuning retrain",
        0,
        1e7,
        rng=("rel", 0.2, 4.0),
    ),
    "eval_examples_per_release": Spec(
        "examples/release",
        "judgment: a 200-question golden set judged by people at every release (launch, each "
        "retrain, each RAG pipeline release); 1,000 examples cost 800-1,600 USD to annotate "
        "(The Neural Base, human annotation cost)",
        0,
        1e6,
        rng=("rel", 0.25, 2.5),
    ),
    "eng_hours_per_retrain": Spec(
        "engineer-hours",
        "judgment: data pipeline run, training job, eval triage and deployment of a new "
        "checkpoint (range 4-40 h)",
        0,
        1e4,
        rng=("rel", 0.25, 2.5),
    ),
    "eng_hours_per_index_refresh": Spec(
        "engineer-hours",
        "judgment: an ingestion run with spot checks of what changed, once a month when the "
        "knowledge changes (range 0.5-8 h)",
        0,
        1e4,
        rng=("rel", 0.25, 4.0),
    ),
    "rag_release_interval_months": Spec(
        "months, 0 = never",
        "judgment: a prompt or base-model upgrade a year, as the hybrid's behaviour refresh",
        0,
        120,
        integer=True,
    ),
    # A person checks some answers before they go out (the prototype's review plan): a policy,
    # off by default. Its rate is in the price book (prices/people.yaml: review).
    "review_share": Spec(
        "fraction of answers",
        "policy: off by default; the Prototype page measures it at a confidence floor",
        0,
        1,
        rng=("rel", 1.0, 1.0),
    ),
    "review_catch": Spec(
        "fraction of wrong answers",
        "policy: share of the wrong answers among those checked (= review_share when they are "
        "picked at random; the Prototype page measures it when they are picked by confidence)",
        0,
        1,
        rng=("rel", 0.8, 1.2),
    ),
    "review_minutes_per_answer": Spec(
        "minutes/answer",
        "judgment: reading an answer against the passages it cites, 2 min (range 1-5)",
        0,
        600,
        rng=("rel", 0.5, 2.5),
    ),
}
# Latency inputs (LATENCY table), by billing kind; not drawn.
LATENCY_SPECS: dict[str, Spec] = {
    "embed_ms_p50": Spec("ms", "REFERENCES.md [U]: 30-150 ms", rng=("rel", 0.5, 2.0)),
    "embed_ms_p95": Spec("ms", "REFERENCES.md [U]: 30-150 ms"),
    "search_ms_p50": Spec("ms", "REFERENCES.md [U]: 20-100 ms"),
    "search_ms_p95": Spec("ms", "REFERENCES.md [U]: 20-100 ms"),
    "ttft_ms_p50": Spec("ms", "REFERENCES.md [U]: TTFT 300-1500 ms"),
    "ttft_ms_p95": Spec("ms", "REFERENCES.md [U]: TTFT 300-1500 ms"),
    "prefill_tokens_per_s_stream": Spec("tokens/s", "judgment", 1, 1e9),
    "decode_tokens_per_s_p50": Spec("tokens/s", "judgment", 0.1, 1e6),
    "decode_tokens_per_s_p95": Spec("tokens/s", "judgment: slow tail", 0.1, 1e6),
}
CHOICES = ("generator_model", "embedding_model", "vector_store", "fine_tuning_model")
# Assumptions the Monte Carlo and the tornado vary (the rest are decisions or latency).
UNCERTAIN = (
    "change_rate_per_month",
    "ingestion_lag_days",
    "chunk_tokens",
    "k_retrieved",
    "prompt_tokens",
    "answer_tokens",
    "instruction_tokens",
    "ft_instruction_tokens",
    "cached_prefix_fraction",
    "paraphrases_per_chunk",
    "epochs",
    "retrain_corpus_fraction",
    "hybrid_min_examples",
    "query_growth_per_month",
    "ft_examples_target",
    "eval_examples_per_release",
    "eng_hours_per_retrain",
    "eng_hours_per_index_refresh",
    "review_catch",
    "review_minutes_per_answer",
)  # plus every strategy's base_accuracy_<strategy>: see `uncertain`


def accuracy_name(strategy: str) -> str:
    """The assumption that holds a strategy's base accuracy: `base_accuracy_<strategy>`."""
    return ACCURACY_PREFIX + strategy


def accuracy_specs() -> dict[str, Spec]:
    """`base_accuracy_<strategy>` for every simulated strategy, as its model states it."""
    return {
        accuracy_name(s): Spec(
            "fraction",
            m.base_accuracy.source,
            0,
            1,
            rng=("abs", m.base_accuracy.low, m.base_accuracy.high),
        )
        for s, m in cost_models().items()
    }


def specs() -> dict[str, Spec]:
    """Every numeric assumption, in display order: model inputs, base accuracies, latency."""
    return {**SPECS, **accuracy_specs(), **LATENCY_SPECS}


@dataclass(frozen=True)
class PriceParam:
    """One resolved price the model uses, with its provenance and range."""

    value: float
    low: float
    high: float
    source: str
    as_of: str
    confidence: str
    entry: str = ""  # the price-book entry, "models.gpt-6-luna"
    verified: bool = True


@dataclass(frozen=True)
class Assumptions:
    change_rate_per_month: float
    ingestion_lag_days: float
    retrain_interval_months: int
    hybrid_retrain_interval_months: int
    chunk_tokens: float
    k_retrieved: float
    prompt_tokens: float
    answer_tokens: float
    instruction_tokens: float
    ft_instruction_tokens: float
    cached_prefix_fraction: float
    paraphrases_per_chunk: float
    epochs: float
    retrain_corpus_fraction: float
    hybrid_min_examples: float
    query_growth_per_month: float
    ft_examples_target: float
    eval_examples_per_release: float
    eng_hours_per_retrain: float
    eng_hours_per_index_refresh: float
    rag_release_interval_months: int
    review_share: float
    review_catch: float
    review_minutes_per_answer: float
    embed_ms_p50: float
    embed_ms_p95: float
    search_ms_p50: float
    search_ms_p95: float
    ttft_ms_p50: float
    ttft_ms_p95: float
    prefill_tokens_per_s_stream: float
    decode_tokens_per_s_p50: float
    decode_tokens_per_s_p95: float
    # Choices and resolved prices.
    generator_model: str
    embedding_model: str
    vector_store: str
    fine_tuning_model: str
    billing: str  # "per_token" (API) or "gpu_hours" (self-hosted)
    ft_billing: str  # how the tuned model is priced: "per_token" (cloud FT) or "gpu_hours"
    start_date: str = ""  # ISO date of simulated month 1
    available_until: str = ""  # ISO date: the first shutdown among the entries priced, or ""
    # strategy -> its base accuracy, read as `a.base_accuracy_<strategy>`: a strategy's
    # assumptions live here rather than in a field, so adding one needs no edit to this file.
    base_accuracy: MappingProxyType[str, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    prices: MappingProxyType[str, PriceParam] = field(
        repr=False, default_factory=lambda: MappingProxyType({})
    )
    ranges: MappingProxyType[str, tuple[float, float]] = field(
        repr=False, default_factory=lambda: MappingProxyType({})
    )
    sources: MappingProxyType[str, str] = field(
        repr=False, default_factory=lambda: MappingProxyType({})
    )
    overrides: tuple[Override, ...] = ()

    def __getattr__(self, name: str) -> float:
        """`a.base_accuracy_rag` reads `a.base_accuracy["rag"]`."""
        # Reached only for names that are not fields; __dict__ avoids recursing while a copy
        # or an unpickled instance has no `base_accuracy` yet.
        if name.startswith(ACCURACY_PREFIX):
            accuracy = self.__dict__.get("base_accuracy", {})
            strategy = name.removeprefix(ACCURACY_PREFIX)
            if strategy in accuracy:
                return float(accuracy[strategy])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def overridden(self) -> tuple[str, ...]:
        return tuple(o.key for o in self.overrides)

    def numeric_names(self) -> tuple[str, ...]:
        """The numeric assumptions this instance holds, in display order."""
        return (*SPECS, *(accuracy_name(s) for s in self.base_accuracy), *LATENCY_SPECS)

    def value(self, name: str) -> float:
        return float(getattr(self, name))

    def decisions(self) -> dict[str, int]:
        """The whole-number choices (retrain intervals): fixed, never drawn."""
        return {name: int(getattr(self, name)) for name, spec in SPECS.items() if spec.integer}

    def uncertain(self) -> tuple[str, ...]:
        """The assumptions the Monte Carlo draws and the tornado swings."""
        return (*UNCERTAIN, *(accuracy_name(s) for s in self.base_accuracy))

    def with_overrides(self, overrides: dict[str, Any], origin: str = "--set") -> Assumptions:
        """Return a copy with `name=value` or `name.low`/`name.high` replaced, validated."""
        every = specs()
        table = {n: every[n] for n in self.numeric_names() if n in every}
        changes: dict[str, Any] = {}
        ranges, sources = dict(self.ranges), dict(self.sources)
        records = list(self.overrides)
        for key, raw in overrides.items():
            name, _, bound = key.partition(".")
            if name in CHOICES:
                raise ConfigError(
                    f"{key}: choices are resolved against the price book; pass "
                    "them to derive_assumptions"
                )
            if name not in table or bound not in ("", "low", "high"):
                near = difflib.get_close_matches(name, [*table, *CHOICES], n=3)
                hint = f" (did you mean {', '.join(near)}?)" if near else ""
                raise ConfigError(f"{key}: unknown assumption{hint}")
            spec, value = table[name], coerce(raw)
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise ConfigError(f"{key}: must be a number, got {raw!r}")
            if not spec.lo <= value <= spec.hi:
                raise ConfigError(f"{key}: must be between {spec.lo} and {spec.hi}, got {raw!r}")
            if spec.integer and not bound and value != int(value):
                raise ConfigError(f"{key}: must be a whole number, got {raw!r}")
            if bound:
                lo, hi = ranges[name]
                ranges[name] = (float(value), hi) if bound == "low" else (lo, float(value))
                old = lo if bound == "low" else hi
            else:
                old = getattr(self, name)
                value = int(value) if spec.integer else float(value)
                changes[name] = value
                ranges[name] = _range(spec, value)
                sources[name] = f"override: {origin}"
            records.append(Override(key, old, value, origin))
        for name, (lo, hi) in ranges.items():
            v = changes.get(name, getattr(self, name))
            if not lo <= v <= hi:
                raise ConfigError(f"{name}: range [{lo}, {hi}] must contain the value {v}")
        # Answers a person checks, picked at random, hold as many of the wrong answers as
        # their share: the catch follows the share unless it was set (a measured one).
        share = changes.get("review_share", self.review_share)
        catch_set = sources["review_catch"].startswith("override") or any(
            k.partition(".")[0] == "review_catch" for k in overrides
        )
        if "review_share" in changes and not catch_set:
            changes["review_catch"] = share
            ranges["review_catch"] = _range(SPECS["review_catch"], share)
            sources["review_catch"] = "= review_share: answers picked at random to check"
        # Catching wrong answers needs someone to check answers.
        catch = changes.get("review_catch", self.review_catch), ranges["review_catch"][1]
        if share == 0 and any(catch):
            raise ConfigError(
                "review_catch: no answer is checked (review_share is 0), so none of the wrong "
                "ones can be caught; set review_share too"
            )
        accuracy = {s: changes.pop(accuracy_name(s), v) for s, v in self.base_accuracy.items()}
        return replace(
            self,
            **changes,
            base_accuracy=MappingProxyType(accuracy),
            ranges=MappingProxyType(ranges),
            sources=MappingProxyType(sources),
            overrides=tuple(records),
        )

    def to_dict(self) -> dict[str, Any]:
        values = {
            name: getattr(self, name)
            for name in (*self.numeric_names(), *CHOICES, "billing", "ft_billing", "start_date")
        }
        return {
            "values": values,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "sources": dict(self.sources),
            "units": {k: s.unit for k, s in specs().items()},
            "overridden": list(self.overridden),
            "overrides": [o.to_dict() for o in self.overrides],
            "prices": {k: asdict(v) for k, v in self.prices.items()},
        }


def _range(spec: Spec, value: float) -> tuple[float, float]:
    kind, a, b = spec.rng
    lo, hi = (value * a, value * b) if kind == "rel" else (min(a, value), max(b, value))
    return (max(spec.lo, lo), min(spec.hi, hi))


def auto_retrain_interval(change_rate: float) -> int:
    """Longest interval T (months) with 1 - (1 - c)^T <= STALE_TARGET, clamped to [1, 12];
    0 (train once, never retrain) when nothing changes."""
    if change_rate <= 0:
        return 0
    if change_rate >= 1:
        return 1
    t = math.floor(math.log(1 - STALE_TARGET) / math.log(1 - change_rate))
    return min(MAX_RETRAIN_INTERVAL, max(1, t))


def _price(entry: Entry, key: str, where: str) -> PriceParam:
    lo, hi = entry.bounds(key)
    return PriceParam(
        float(getattr(entry, key)),
        lo,
        hi,
        entry.source,
        str(entry.as_of),
        entry.confidence,
        where,
        entry.verified,
    )


def horizon_end(start: date, months: int) -> date:
    """The last simulated day: month 1 starts on `start`, month `months` ends the day before
    the same day of the month `months` later (clamped to a short month's last day)."""
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


@dataclass(frozen=True)
class Resolved:
    """The priced components: the generator's billing, every price by parameter name, and the
    fine-tuning path with the sentence that says why it was priced."""

    billing: str
    prices: MappingProxyType[str, PriceParam]
    ft_billing: str
    fine_tuning_model: str
    why: str
    available_until: date | None

    def __getitem__(self, i: int) -> Any:  # (billing, prices) as a tuple, for older callers
        return (self.billing, self.prices)[i]


def _open(key: str, name: str, entry: Entry, window: tuple[date, date] | None) -> None:
    """Refuse an entry that cannot be bought for every simulated month."""
    reason = entry.closed_reason(*window) if window else None
    if reason:
        start, end = window  # type: ignore[misc]
        raise ConfigError(
            f"{key}: {name!r} cannot be bought for the simulated months {start} to {end}: "
            f"{reason}; pick another (--set {key}=...) or a shorter horizon"
        )


def _self_hosted(book: PriceBook, name: str, prefix: str, out: dict, window) -> SelfHostedModel:
    model = book.models[name]
    assert isinstance(model, SelfHostedModel)
    if model.gpu not in book.gpus:
        raise ConfigError(f"prices/models.yaml: {name}.gpu names unknown GPU {model.gpu!r}")
    _open("fine_tuning_model" if prefix == "ft" else "generator_model", name, model, window)
    gpu = book.gpus[model.gpu]
    _open(f"prices.gpus.{model.gpu}", model.gpu, gpu, window)
    out["gpu.usd_per_hour"] = _price(gpu, "usd_per_hour", f"gpus.{model.gpu}")
    for k in (
        "prefill_tokens_per_s",
        "decode_tokens_per_s",
        "min_gpus",
        "lora_train_tokens_per_gpu_hour",
    ):
        out[f"{prefix}.{k}"] = _price(model, k, f"models.{name}")
    return model


def _cloud_ft(gen: TokenModel, name: str, window) -> str | None:
    """Why the generator's own cloud fine-tuning path is closed on the simulated dates."""
    if gen.fine_tuning is None:
        return f"{name} has no fine-tuning prices in prices/models.yaml (not offered)"
    for entry in (gen, gen.fine_tuning):
        reason = entry.closed_reason(*window) if window else None
        if reason:
            return f"{name} fine-tuning is {reason}"
    return None


def resolve_prices(
    book: PriceBook,
    generator: str,
    embedding: str,
    store: str,
    fine_tuning: str | None = None,
    start: date | None = None,
    end: date | None = None,
    fallback: str | None = None,
) -> Resolved:
    """Pick the entries the chosen components need; names are the model's parameter names.

    With `start`/`end`, every entry priced must be open to new users and not shut down before
    `end` (a ConfigError names the entry and why otherwise); without them nothing is checked
    (for listing what the book holds). Fine-tuning is priced on `fine_tuning` when given, else
    on the generator itself when it is self-hosted (LoRA on the same GPUs), else on the
    generator's cloud fine-tuning path when it is open, else on `fallback`, an open-weights
    model trained with LoRA on rented GPUs.
    """
    window = (start, end) if start and end else None
    for key, name, table in (
        ("generator_model", generator, book.models),
        ("embedding_model", embedding, book.embeddings),
        ("vector_store", store, book.vector_stores),
        ("fine_tuning_model", fine_tuning, book.models),
    ):
        if name is not None and name not in table:
            raise ConfigError(
                f"{key}: unknown {key.replace('_', ' ')} {name!r} "
                f"(known: {', '.join(sorted(table))})"
            )
    gen = book.models[generator]
    out: dict[str, PriceParam] = {}
    if isinstance(gen, SelfHostedModel):
        if fine_tuning not in (None, generator):
            raise ConfigError(
                f"fine_tuning_model: a self-hosted generator ({generator}) is fine-tuned with "
                f"LoRA on its own GPUs; {fine_tuning!r} cannot be chosen beside it"
            )
        _self_hosted(book, generator, "gen", out, window)
        billing = ft_billing = "gpu_hours"
        ft_name = generator
        why = f"LoRA on {generator}, the self-hosted generator, on its own GPUs"
    else:
        _open("generator_model", generator, gen, window)
        for k in ("input_per_mtok", "output_per_mtok"):
            out[f"gen.{k}"] = _price(gen, k, f"models.{generator}")
        # No cached rate published: bill cached tokens at the full input rate.
        cached = (
            "cached_input_per_mtok" if gen.cached_input_per_mtok is not None else "input_per_mtok"
        )
        out["gen.cached_input_per_mtok"] = _price(gen, cached, f"models.{generator}")
        billing = "per_token"
        closed = _cloud_ft(gen, generator, window)
        wanted = fine_tuning if fine_tuning is not None else (generator if not closed else fallback)
        if wanted is None:
            raise ConfigError(
                f"generator_model: {closed}; set fine_tuning_model to one that can be tuned"
            )
        ft_model = book.models[wanted]
        if isinstance(ft_model, SelfHostedModel):
            _self_hosted(book, wanted, "ft", out, window)
            ft_billing, ft_name = "gpu_hours", wanted
            why = f"LoRA on open-weights {wanted} on rented {ft_model.gpu} GPU-hours" + (
                f", because {closed}" if closed and fine_tuning is None else " (chosen)"
            )
        else:
            reason = _cloud_ft(ft_model, wanted, window)
            if reason:
                raise ConfigError(f"fine_tuning_model: {reason}; pick an open-weights model")
            if wanted != generator:
                raise ConfigError(
                    f"fine_tuning_model: the cloud fine-tuning path of {wanted!r} serves "
                    f"{wanted}, not the generator {generator!r}; pick an open-weights model"
                )
            ft = gen.fine_tuning
            assert ft is not None
            where = f"models.{generator}.fine_tuning"
            for k in ("input_per_mtok", "output_per_mtok"):
                out[f"ft.{k}"] = _price(ft, k, where)
            cached = (
                "cached_input_per_mtok"
                if ft.cached_input_per_mtok is not None
                else "input_per_mtok"
            )
            out["ft.cached_input_per_mtok"] = _price(ft, cached, where)
            out["ft.training_per_mtok"] = _price(ft, "training_per_mtok", where)
            out["ft.hosting_per_hour"] = _price(ft, "hosting_per_hour", where)
            ft_billing, ft_name = "per_token", generator
            why = f"{generator}'s cloud fine-tuning, open to new users for every simulated month"
    emb = book.embeddings[embedding]
    _open("embedding_model", embedding, emb, window)
    out["emb.usd_per_mtok"] = _price(emb, "usd_per_mtok", f"embeddings.{embedding}")
    vs = book.vector_stores[store]
    _open("vector_store", store, vs, window)
    for k in (
        "storage_per_gb_month",
        "read_per_munits",
        "write_per_munits",
        "monthly_minimum",
        "fixed_monthly",
        "gb_per_million_vectors",
        "read_units_per_gb",
        "min_read_units_per_query",
        "write_units_per_vector",
    ):
        out[f"vs.{k}"] = _price(vs, k, f"vector_stores.{store}")
    out["people.usd_per_example"] = _price(
        book.people.labelling, "usd_per_example", "people.labelling"
    )
    out["people.hourly_rate_usd"] = _price(
        book.people.engineering, "hourly_rate_usd", "people.engineering"
    )
    out["people.review_usd_per_hour"] = _price(book.people.review, "usd_per_hour", "people.review")
    until = min(
        (e.retires for e in _entries(book, generator, ft_name, embedding, store) if e.retires),
        default=None,
    )
    return Resolved(billing, MappingProxyType(out), ft_billing, ft_name, why, until)


def _entries(book: PriceBook, generator: str, ft_name: str, embedding: str, store: str):
    """Every price-book entry a run with these choices buys from."""
    for name in dict.fromkeys((generator, ft_name)):
        model = book.models[name]
        yield model
        if isinstance(model, SelfHostedModel) and model.gpu in book.gpus:
            yield book.gpus[model.gpu]
        elif isinstance(model, TokenModel) and name == ft_name and model.fine_tuning:
            yield model.fine_tuning
    yield book.embeddings[embedding]
    yield book.vector_stores[store]


def derive_assumptions(
    profile: Profile,
    book: PriceBook,
    overrides: dict[str, Any] | None = None,
    origin: str = "--set",
    start: date | None = None,
    months: int = 36,
) -> Assumptions:
    """Map a profile (and the price book's deployment defaults) onto assumptions, then apply
    `overrides` (assumption names, `.low`/`.high`, and component choices).

    `start` is the first simulated day (today when None: the one input read from the clock)
    and `months` the horizon; every entry priced must be open to new users over it."""
    overrides = dict(overrides or {})
    choices = {k: str(overrides.pop(k)) for k in CHOICES if k in overrides}
    d = book.defaults[profile.deployment]
    gen = choices.get("generator_model", d.generator_model)
    emb = choices.get("embedding_model", d.embedding_model)
    store = choices.get("vector_store", d.vector_store)
    start = start or date.today()
    end = horizon_end(start, months)
    r = resolve_prices(
        book,
        gen,
        emb,
        store,
        choices.get("fine_tuning_model"),
        start,
        end,
        d.open_weights_model,
    )
    billing, prices = r.billing, r.prices

    freq = profile.knowledge_update_frequency
    c = CHANGE_RATE[freq]
    prompt, answer = TASK_TOKENS[profile.task]
    instr = INSTRUCTION_TOKENS[profile.style_consistency] + (
        SCHEMA_INSTRUCTION_TOKENS if profile.structured_output else 0
    )
    values: dict[str, Any] = dict(
        change_rate_per_month=c,
        ingestion_lag_days=INGESTION_LAG_DAYS.get(freq, DEFAULT_INGESTION_LAG_DAYS),
        retrain_interval_months=auto_retrain_interval(c),
        hybrid_retrain_interval_months=12,
        chunk_tokens=256.0,
        k_retrieved=float(K_BY_TRACEABILITY[profile.traceability]),
        prompt_tokens=float(prompt),
        answer_tokens=float(answer),
        instruction_tokens=float(instr),
        ft_instruction_tokens=50.0,
        cached_prefix_fraction=0.5,
        paraphrases_per_chunk=5.0,
        epochs=3.0,
        retrain_corpus_fraction=1.0,
        hybrid_min_examples=1000.0,
        query_growth_per_month=0.0,
        ft_examples_target=500.0,
        eval_examples_per_release=200.0,
        eng_hours_per_retrain=16.0,
        eng_hours_per_index_refresh=2.0,
        rag_release_interval_months=12,
        review_share=0.0,
        review_catch=0.0,
        review_minutes_per_answer=2.0,
        **LATENCY[billing],
    )
    accuracy = {s: m.base_accuracy.value for s, m in cost_models().items()}
    numeric = {
        **{k: values[k] for k in SPECS},
        **{accuracy_name(s): v for s, v in accuracy.items()},
        **{k: values[k] for k in LATENCY_SPECS},
    }
    table = specs()
    ranges = {k: _range(table[k], float(v)) for k, v in numeric.items()}
    sources = {k: table[k].source for k in numeric}
    chosen_why = f"prices/defaults.yaml ({profile.deployment}): {d.why}"
    for k in CHOICES:
        sources[k] = "user override" if k in choices else chosen_why
    sources["fine_tuning_model"] = f"priced path: {r.why}"
    a = Assumptions(
        **values,
        generator_model=gen,
        embedding_model=emb,
        vector_store=store,
        fine_tuning_model=r.fine_tuning_model,
        billing=billing,
        ft_billing=r.ft_billing,
        start_date=start.isoformat(),
        available_until=r.available_until.isoformat() if r.available_until else "",
        base_accuracy=MappingProxyType(accuracy),
        prices=prices,
        ranges=MappingProxyType(ranges),
        sources=MappingProxyType(sources),
        overrides=tuple(book.overrides),
    )
    if choices:
        a = replace(
            a,
            overrides=a.overrides
            + tuple(
                Override(k, getattr(d, k, "default path"), v, origin) for k, v in choices.items()
            ),
        )
    return a.with_overrides(overrides, origin) if overrides else a
