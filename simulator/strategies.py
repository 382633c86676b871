"""The per-strategy parts of the model, registered by strategy value.

`evaluate` (simulator/model.py) builds one `Context` per run: queries by month, effective token
prices and the retrieval-side costs, that is every quantity two strategies may share. It then
asks each strategy's `StrategyModel` for its monthly cost components and its stale fraction;
`latency` asks for its prompt length and whether it retrieves. Which strategies exist, their
labels and their order is `core.registry.STRATEGIES`; a registered strategy with no model here
is a ConfigError naming it.

Adding a strategy, once `core.registry.STRATEGIES` knows it:

    def toy_costs(ctx: Context) -> dict[str, Cost]:
        return {"hosting_usd": 100.0}  # keys from COMPONENTS; the ones left out are 0

    COST_MODELS["toy"] = StrategyModel(toy_costs, BaseAccuracy(0.8, 0.7, 0.9, "judgment"))

The strategy's `base_accuracy_toy` is then an assumption like the others: overridable with
`--set`, ranged for the Monte Carlo and the tornado, and replaced by a calibration file's
measurement. Pure: no I/O, no randomness.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from core.errors import ConfigError
from core.registry import STRATEGIES
from core.simulation import COST_COMPONENTS

if TYPE_CHECKING:
    from simulator.assumptions import Assumptions

HOURS_PER_MONTH = 730.0  # 8760 h / 12
DAYS_PER_MONTH = 365.25 / 12
M = 1e6  # prices are per million tokens / units
# The cost columns, declared once in core (with their labels and chart colours).
COMPONENTS = tuple(c.name for c in COST_COMPONENTS)
# A model input: a float, or an array of shape (draws, 1) for the Monte Carlo and the tornado.
Param: TypeAlias = "float | np.ndarray"
# USD per month: anything that broadcasts to (draws, months).
Cost: TypeAlias = "float | np.ndarray"
# Ovadia et al. 2024, Mistral-7B current events: RAG .875, FT with paraphrases .588, FT+RAG
# .810 (base .481): the cited base accuracies until a calibration file replaces them.
OVADIA = "Ovadia et al. 2024 (arXiv 2312.05934), Mistral-7B current events"


def retrain_mask(months: int, interval: int) -> np.ndarray:
    """1.0 in months that start with a retrain (1+T, 1+2T, ...), else 0; shape (months,)."""
    m = np.arange(1, months + 1)
    if interval <= 0:
        return np.zeros(months)
    return ((m > 1) & ((m - 1) % interval == 0)).astype(float)


class Context:
    """What every strategy's functions may read: the inputs, the month axis, queries by month,
    effective prices and the retrieval-side costs. Built once per `evaluate` call.

    `p` holds every model input by name (profile, assumptions, `gen.`/`ft.`/`emb.`/`vs.`
    prices); `decisions` the whole-number choices that are not drawn (retrain intervals).
    """

    def __init__(
        self, p: Mapping[str, Param], billing: str, decisions: Mapping[str, int], months: int
    ) -> None:
        self.p, self.billing, self.decisions, self.months = p, billing, dict(decisions), months
        self.m = np.arange(1, months + 1)[None, :]
        self.first = (self.m == 1).astype(float)  # upfront work is billed in month 1
        self.zero = np.zeros((1, 1))
        self.q = p["queries_per_month"] * (1.0 + p["query_growth_per_month"]) ** (self.m - 1)
        self.context_tokens = p["k_retrieved"] * p["chunk_tokens"]  # retrieved chunks/query

        # Effective USD per 1M tokens. Self-hosted: a GPU-hour buys prefill_tokens_per_s * 3600
        # input tokens or decode_tokens_per_s * 3600 output tokens at full batching; a LoRA
        # adapter merged into the weights serves at the base model's cost.
        if billing == "gpu_hours":
            gpu = p["gpu.usd_per_hour"]
            self.gen_in = gpu / (p["gen.prefill_tokens_per_s"] * 3600) * M
            self.gen_out = gpu / (p["gen.decode_tokens_per_s"] * 3600) * M
            self.gen_cached = self.ft_in = self.ft_cached = self.gen_in
            self.ft_out = self.gen_out
            self.train_per_mtok = gpu / p["gen.lora_train_tokens_per_gpu_hour"] * M
            # Reserved capacity, whatever the strategy: tokens use part of it, hosting the rest.
            self.floor: Cost = p["gen.min_gpus"] * HOURS_PER_MONTH * gpu
            self.ft_fee: Cost = 0.0
        else:
            self.gen_in, self.gen_out = p["gen.input_per_mtok"], p["gen.output_per_mtok"]
            self.gen_cached = p["gen.cached_input_per_mtok"]
            self.ft_in, self.ft_out = p["ft.input_per_mtok"], p["ft.output_per_mtok"]
            self.ft_cached = p["ft.cached_input_per_mtok"]
            self.train_per_mtok = p["ft.training_per_mtok"]
            self.floor = 0.0
            self.ft_fee = p["ft.hosting_per_hour"] * HOURS_PER_MONTH  # hosted FT deployments

    def inference(
        self, static: Param, dynamic: Param, price_in: Param, price_cached: Param, price_out: Param
    ) -> tuple[Cost, Cost]:
        """Per-query tokens -> monthly USD (input, output). The static prefix (instructions)
        is cacheable: `cached_prefix_fraction` of it is billed at the cached rate."""
        p = self.p
        cached = static * p["cached_prefix_fraction"]
        usd_in = self.q * ((static - cached + dynamic) * price_in + cached * price_cached) / M
        usd_out = self.q * p["answer_tokens"] * price_out / M
        return usd_in, usd_out

    def retrain_mask(self, interval: int) -> np.ndarray:
        """`retrain_mask` as a (1, months) row."""
        return retrain_mask(self.months, interval)[None, :]

    @cached_property
    def retrieval(self) -> dict[str, Cost]:
        """The costs of keeping an index and searching it: embedding, vector store and
        retrieval components, the same for every strategy that retrieves."""
        p, first, q = self.p, self.first, self.q
        n_tok, c, emb = (
            p["knowledge_base_tokens"],
            p["change_rate_per_month"],
            p["emb.usd_per_mtok"],
        )
        vectors = n_tok / p["chunk_tokens"]
        gb = vectors / M * p["vs.gb_per_million_vectors"]
        # First embedding in month 1, then every month the changed share is re-embedded.
        embedding = (first + c) * n_tok * emb / M
        writes = (
            (first + c) * vectors * p["vs.write_units_per_vector"] * p["vs.write_per_munits"] / M
        )
        storage = gb * p["vs.storage_per_gb_month"] + p["vs.fixed_monthly"]
        read_units = np.maximum(p["vs.min_read_units_per_query"], gb * p["vs.read_units_per_gb"])
        reads = q * read_units * p["vs.read_per_munits"] / M
        # The plan minimum tops up storage + writes + reads to the minimum monthly bill.
        top_up = np.maximum(0.0, p["vs.monthly_minimum"] - (storage + writes + reads))
        return {
            "embedding_usd": embedding,
            "vector_store_usd": storage + writes + top_up,
            "retrieval_usd": reads + q * p["prompt_tokens"] * emb / M,  # the query is embedded
        }

    def stale_since_training(self, interval: int) -> np.ndarray:
        """Knowledge held in weights: a sawtooth, 1 - (1 - c)^age with age = months since the
        last (re)training, reset at every retrain (interval 0: trained once, never again)."""
        keep = 1.0 - np.asarray(self.p["change_rate_per_month"], dtype=float)
        age = (self.m - 1) % interval + 1 if interval > 0 else self.m
        return 1.0 - keep**age

    @cached_property
    def stale_after_ingestion(self) -> np.ndarray:
        """Knowledge looked up in an index: only what changed within the ingestion lag,
        1 - (1 - c)^(lag / 30.44 days), constant over time and independent of retraining."""
        keep = 1.0 - np.asarray(self.p["change_rate_per_month"], dtype=float)
        return 1.0 - keep ** (np.asarray(self.p["ingestion_lag_days"]) / DAYS_PER_MONTH)


@dataclass(frozen=True)
class BaseAccuracy:
    """A strategy's accuracy on knowledge it holds fresh: the default of its
    `base_accuracy_<strategy>` assumption, the range the Monte Carlo draws from, and why."""

    value: float
    low: float
    high: float
    source: str

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.value <= self.high <= 1:
            raise ConfigError(
                f"BaseAccuracy: need 0 <= low <= value <= high <= 1, got "
                f"low={self.low}, value={self.value}, high={self.high}"
            )
        if not self.source:
            raise ConfigError("BaseAccuracy: `source` must say where the number comes from")


def index_stale(ctx: Context) -> np.ndarray:
    """A strategy that reads its facts from the index is as fresh as the index."""
    return ctx.stale_after_ingestion


def retrieval_prompt_tokens(a: Assumptions) -> float:
    """Instructions + the user's prompt + the retrieved chunks."""
    return a.instruction_tokens + a.prompt_tokens + a.k_retrieved * a.chunk_tokens


@dataclass(frozen=True)
class StrategyModel:
    """One strategy's part of the model.

    costs: Context -> {component: USD per month}, keys from COMPONENTS (the ones left out are
        0). `hosting_usd` is the strategy's own fee; `evaluate` adds the reserved GPU capacity
        its tokens leave idle when self-hosted.
    base_accuracy: the default, range and source of `base_accuracy_<strategy>`.
    stale: Context -> share of the knowledge that changed since the strategy last saw it, at
        the end of each month. Default: as fresh as the index (`index_stale`).
    prompt_tokens: Assumptions -> prompt tokens per query, for prefill latency. Default:
        instructions + prompt + retrieved chunks.
    retrieves: whether a query waits for embedding and vector search. Default: yes.
    """

    costs: Callable[[Context], Mapping[str, Cost]]
    base_accuracy: BaseAccuracy
    stale: Callable[[Context], np.ndarray] = index_stale
    prompt_tokens: Callable[[Assumptions], float] = retrieval_prompt_tokens
    retrieves: bool = True


COST_MODELS: dict[str, StrategyModel] = {}


def cost_models() -> dict[str, StrategyModel]:
    """Every registered strategy's model, in registry (display) order."""
    missing = [s for s in STRATEGIES.values() if s not in COST_MODELS]
    if missing:
        raise ConfigError(
            f"strategy `{missing[0]}` is registered in core.registry.STRATEGIES but has no "
            f"simulator cost model; add `COST_MODELS[{missing[0]!r}] = StrategyModel(...)` "
            "(simulator/strategies.py)"
        )
    return {s: COST_MODELS[s] for s in STRATEGIES.values()}


# --- the built-in strategies ------------------------------------------------------------------
def fine_tuning_costs(ctx: Context) -> dict[str, Cost]:
    """Knowledge FT trains on the corpus plus paraphrases (Ovadia et al.: paraphrases are how
    FT learns facts) and on the labelled examples; retrains redo retrain_corpus_fraction of the
    corpus. Paraphrases are generated once (month 1) and, at each retrain, for the share that
    changed since the previous training. No retrieval: short prompts, FT token prices."""
    p, first = ctx.p, ctx.first
    n_tok, c, epochs = p["knowledge_base_tokens"], p["change_rate_per_month"], p["epochs"]
    prompt, answer = p["prompt_tokens"], p["answer_tokens"]
    interval = ctx.decisions["retrain_interval_months"]
    example_tok = p["labeled_examples"] * (prompt + answer)
    corpus_tok = n_tok * (1.0 + p["paraphrases_per_chunk"])
    mask = ctx.retrain_mask(interval)
    train_tok = epochs * (
        first * (corpus_tok + example_tok)
        + mask * (corpus_tok * p["retrain_corpus_fraction"] + example_tok)
    )
    changed_since = 1.0 - (1.0 - c) ** max(interval, 1)
    para_usd = n_tok * (ctx.gen_in + p["paraphrases_per_chunk"] * ctx.gen_out) / M
    usd_in, usd_out = ctx.inference(
        p["ft_instruction_tokens"], prompt, ctx.ft_in, ctx.ft_cached, ctx.ft_out
    )
    return {
        "data_prep_usd": (first + mask * changed_since) * para_usd,
        "training_usd": train_tok * ctx.train_per_mtok / M,
        "hosting_usd": ctx.ft_fee,
        "inference_input_usd": usd_in,
        "inference_output_usd": usd_out,
    }


def rag_costs(ctx: Context) -> dict[str, Cost]:
    """The index, and the base model reading long prompts: instructions that hold tone and
    format, plus k retrieved chunks."""
    p = ctx.p
    usd_in, usd_out = ctx.inference(
        p["instruction_tokens"],
        p["prompt_tokens"] + ctx.context_tokens,
        ctx.gen_in,
        ctx.gen_cached,
        ctx.gen_out,
    )
    return {**ctx.retrieval, "inference_input_usd": usd_in, "inference_output_usd": usd_out}


def hybrid_costs(ctx: Context) -> dict[str, Cost]:
    """RAG's index plus an FT model that learnt behaviour, RAFT-style: examples with oracle and
    distractor chunks in context (Zhang et al. 2024); missing examples are synthesised by the
    generator. Retrains every `hybrid_retrain_interval_months` (0 = never)."""
    p, first = ctx.p, ctx.first
    prompt, answer, labeled = p["prompt_tokens"], p["answer_tokens"], p["labeled_examples"]
    n_ex = np.maximum(labeled, p["hybrid_min_examples"])
    synth = n_ex - labeled
    cx = ctx.context_tokens
    prep = first * synth * ((cx + prompt) * ctx.gen_in + (prompt + answer) * ctx.gen_out) / M
    mask = first + ctx.retrain_mask(ctx.decisions["hybrid_retrain_interval_months"])
    train_tok = mask * p["epochs"] * n_ex * (prompt + answer + cx)
    usd_in, usd_out = ctx.inference(
        p["ft_instruction_tokens"], prompt + cx, ctx.ft_in, ctx.ft_cached, ctx.ft_out
    )
    return {
        "data_prep_usd": prep,
        "training_usd": train_tok * ctx.train_per_mtok / M,
        **ctx.retrieval,
        "hosting_usd": ctx.ft_fee,
        "inference_input_usd": usd_in,
        "inference_output_usd": usd_out,
    }


COST_MODELS["fine_tuning"] = StrategyModel(
    fine_tuning_costs,
    BaseAccuracy(0.588, 0.45, 0.70, OVADIA + " (FT w/ paraphrases .588)"),
    stale=lambda ctx: ctx.stale_since_training(ctx.decisions["retrain_interval_months"]),
    prompt_tokens=lambda a: a.ft_instruction_tokens + a.prompt_tokens,
    retrieves=False,
)
COST_MODELS["rag"] = StrategyModel(
    rag_costs, BaseAccuracy(0.875, 0.75, 0.92, OVADIA + " (RAG .875)")
)
# Hybrid reads its facts from retrieval, so it is as fresh as RAG; its prompt carries the
# retrieved chunks but the short FT instructions.
COST_MODELS["hybrid"] = StrategyModel(
    hybrid_costs,
    BaseAccuracy(0.810, 0.70, 0.92, OVADIA + " (FT+RAG .810)"),
    prompt_tokens=lambda a: (
        a.ft_instruction_tokens + a.prompt_tokens + a.k_retrieved * a.chunk_tokens
    ),
)
