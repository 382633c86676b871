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
from typing import TYPE_CHECKING, Any, TypeAlias

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
# USD per month: anything that broadcasts to (draws, months), or a `Bill`.
Cost: TypeAlias = "float | np.ndarray | Bill"
# Ovadia et al. 2024, Mistral-7B current events: RAG .875, FT with paraphrases .588, FT+RAG
# .810 (base .481): the cited base accuracies until a calibration file replaces them.
OVADIA = "Ovadia et al. 2024 (arXiv 2312.05934), Mistral-7B current events"


def accumulate_months(op: np.ufunc, x: np.ndarray) -> np.ndarray:
    """`op.accumulate(x, axis=1)` (a running sum or product along the months) into a new
    column-major array. Month by month: each step combines two contiguous columns, about twice
    as fast as `np.cumsum`/`np.cumprod` writing across a row-major array, and the operations
    are the same, in the same order, so the results agree to the last bit. Column-major, as
    every full-size array here (`Bill.sum`): the Monte Carlo's band sorts then run down
    contiguous columns too."""
    out = np.empty(x.shape, order="F")
    out[:, 0] = x[:, 0]
    for m in range(1, x.shape[1]):
        op(out[:, m - 1], x[:, m], out=out[:, m])
    return out


def queries_by_month(q0: Param, growth: Param, months: int) -> np.ndarray:
    """q0 (1 + growth)^(m - 1) for m = 1..months, shape (draws, months): a running product
    along the months, one pass instead of a power per cell."""
    g, start = np.broadcast_arrays(
        np.reshape(np.asarray(growth, dtype=float), (-1, 1)) + 1.0, np.reshape(q0, (-1, 1))
    )
    factors = np.empty((len(g), months), order="F")
    factors[:, 0] = start[:, 0]
    factors[:, 1:] = g
    return accumulate_months(np.multiply, factors)


def retrain_mask(months: int, interval: int) -> np.ndarray:
    """1.0 in months that start with a retrain (1+T, 1+2T, ...), else 0; shape (months,)."""
    m = np.arange(1, months + 1)
    if interval <= 0:
        return np.zeros(months)
    return ((m > 1) & ((m - 1) % interval == 0)).astype(float)


class Bill:
    """USD per month as a dense part (anything that broadcasts to (draws, months)) plus terms
    `coef x pattern`: a coef is a float or a (draws, 1) array, a pattern a (1, months) row
    such as "month 1 only", "retrain months" or "every month".

    Costs paid in a few months (first training, retrains, the first embedding), every month,
    or per query stay terms until the bill is summed (`Bill.sum`): terms of one pattern are
    added on their (draws, 1) coefs first, then once into the (draws, months) total. A Monte
    Carlo of 10,000 draws x 60 months thus builds a few full arrays per strategy instead of
    one per term; that, and sorting instead of partitioning for the bands, is what bench/
    measures. The arithmetic is ordinary: `+` with a Bill or an array, `*` by a float or a
    (draws, 1) array.
    """

    __slots__ = ("dense", "terms")
    __array_ufunc__ = None  # `array * bill` defers to Bill.__rmul__

    def __init__(self, dense: Any = None, terms: tuple = ()) -> None:
        self.dense, self.terms = dense, tuple(terms)

    def __add__(self, other: Any) -> Bill:
        if isinstance(other, Bill):
            dense = other.dense if self.dense is None else _plus(self.dense, other.dense)
            return Bill(dense, self.terms + other.terms)
        return Bill(_plus(self.dense, other), self.terms)

    __radd__ = __add__

    def __mul__(self, k: Any) -> Bill:
        dense = None if self.dense is None else self.dense * k
        return Bill(dense, tuple((c * k, pat) for c, pat in self.terms))

    __rmul__ = __mul__

    @staticmethod
    def sum(items: Any, draws: int, months: int, start: np.ndarray | None = None) -> np.ndarray:
        """The (draws, months) sum of bills and arrays (plus `start`, a full-size array the
        caller hands over: the total is accumulated into it).

        Terms are grouped by pattern and their coefs added on (draws, 1) columns first. A
        month pattern that is one value in most months (every month, month 1, retrain
        months, all but month 1) becomes a column added to every month plus a few months
        corrected; other patterns (queries by month) are multiplied out once per group."""
        shape = (draws, months)
        dense: list[Any] = []
        groups: dict[int, list[Any]] = {}
        for x in items:
            if isinstance(x, Bill):
                if x.dense is not None:
                    dense.append(x.dense)
                for c, pat in x.terms:
                    g = groups.setdefault(id(pat), [pat, 0.0])
                    g[1] = g[1] + c
            elif np.any(x):
                dense.append(x)
        const: Any = 0.0
        sparse, fresh = [], []
        for pat, c in groups.values():
            if pat.shape[0] == 1:
                values, counts = np.unique(pat[0], return_counts=True)
                usual = values[np.argmax(counts)]
                off = pat[0] - usual
                if 2 * np.count_nonzero(off) <= months:
                    const = const + c * usual
                    cols = np.flatnonzero(off)
                    if len(cols):
                        sparse.append((cols, off[cols], c))
                    continue
            fresh.append(c * pat)
        out = start
        for x in fresh:  # new arrays: the first full-size one becomes the total
            if out is None and np.shape(x) == shape:
                out = x
            elif out is None:
                out = np.array(np.broadcast_to(x, shape), dtype=float, order="F")
            else:
                out += x
        for x in dense:
            if out is None:
                out = np.array(np.broadcast_to(x, shape), dtype=float, order="F")
            else:
                out += x
        if out is None:
            out = np.zeros(shape, order="F")
        for cols, off, c in sparse:
            out[:, cols] += np.reshape(c, (-1, 1)) * off
        if np.any(const):
            out += const
        return out


def _plus(a: Any, b: Any) -> Any:
    return b if a is None else (a if b is None else a + b)


class Context:
    """What every strategy's functions may read: the inputs, the month axis, queries by month,
    effective prices and the retrieval-side costs. Built once per `evaluate` call.

    `p` holds every model input by name (profile, assumptions, `gen.`/`ft.`/`emb.`/`vs.`
    prices); `decisions` the whole-number choices that are not drawn (retrain intervals).
    """

    def __init__(
        self,
        p: Mapping[str, Param],
        billing: str,
        decisions: Mapping[str, int],
        months: int,
        ft_billing: str | None = None,
    ) -> None:
        self.p, self.billing, self.decisions, self.months = p, billing, dict(decisions), months
        self.ft_billing = ft_billing or billing
        # Draws: the longest first axis among the inputs (1 when they are all floats).
        self.draws = max((np.shape(v)[0] for v in p.values() if np.ndim(v) == 2), default=1)
        self.m = np.arange(1, months + 1)[None, :]
        self.first = (self.m == 1).astype(float)  # upfront work is billed in month 1
        self.zero = np.zeros((1, 1))
        # Month patterns as bills: `ctx.once * X` costs X in month 1, `ctx.monthly(X)` every
        # month, `ctx.every(T) * X` at each retrain (months 1+T, 1+2T, ...).
        self.once = Bill(terms=((1.0, self.first),))
        self.ones = np.ones((1, months))
        self.q = queries_by_month(p["queries_per_month"], p["query_growth_per_month"], months)
        self.context_tokens = p["k_retrieved"] * p["chunk_tokens"]  # retrieved chunks/query

        # Effective USD per 1M tokens. Self-hosted: a GPU-hour buys prefill_tokens_per_s * 3600
        # input tokens or decode_tokens_per_s * 3600 output tokens at full batching; a LoRA
        # adapter merged into the weights serves at the base model's cost.
        self.floor: Param = 0.0  # reserved GPUs of a strategy served by the generator
        if billing == "gpu_hours":
            gpu = p["gpu.usd_per_hour"]
            self.gen_in = gpu / (p["gen.prefill_tokens_per_s"] * 3600) * M
            self.gen_out = gpu / (p["gen.decode_tokens_per_s"] * 3600) * M
            self.gen_cached = self.gen_in
            # Reserved capacity, whatever the strategy: tokens use part of it, hosting the rest.
            self.floor = p["gen.min_gpus"] * HOURS_PER_MONTH * gpu
        else:
            self.gen_in, self.gen_out = p["gen.input_per_mtok"], p["gen.output_per_mtok"]
            self.gen_cached = p["gen.cached_input_per_mtok"]
        # The tuned model (fine-tuning, hybrid): the generator's own cloud fine-tuning, or LoRA
        # on self-hosted open weights (the generator itself when it is self-hosted, `ft.*`
        # throughputs otherwise) with its own reserved GPUs.
        if self.ft_billing == "gpu_hours":
            src = "gen" if billing == "gpu_hours" else "ft"
            gpu = p["gpu.usd_per_hour"]
            self.ft_in = self.ft_cached = gpu / (p[f"{src}.prefill_tokens_per_s"] * 3600) * M
            self.ft_out = gpu / (p[f"{src}.decode_tokens_per_s"] * 3600) * M
            self.train_per_mtok = gpu / p[f"{src}.lora_train_tokens_per_gpu_hour"] * M
            self.ft_floor: Param = p[f"{src}.min_gpus"] * HOURS_PER_MONTH * gpu
            self.ft_fee: Param = 0.0
        else:
            self.ft_in, self.ft_out = p["ft.input_per_mtok"], p["ft.output_per_mtok"]
            self.ft_cached = p["ft.cached_input_per_mtok"]
            self.train_per_mtok = p["ft.training_per_mtok"]
            self.ft_floor = 0.0
            self.ft_fee = p["ft.hosting_per_hour"] * HOURS_PER_MONTH  # hosted FT deployments
        # People: USD per example written or judged, USD per engineer-hour.
        self.per_example = p["people.usd_per_example"]
        self.per_hour = p["people.hourly_rate_usd"]
        # A person checks review_share of the answers, whatever the strategy (a policy).
        hours = p["review_share"] * p["review_minutes_per_answer"] / 60
        self.review = self.per_query(hours * p["people.review_usd_per_hour"])

    def inference(
        self, static: Param, dynamic: Param, price_in: Param, price_cached: Param, price_out: Param
    ) -> tuple[Cost, Cost]:
        """Per-query tokens -> monthly USD (input, output). The static prefix (instructions)
        is cacheable: `cached_prefix_fraction` of it is billed at the cached rate."""
        p = self.p
        cached = static * p["cached_prefix_fraction"]
        # USD per query, (draws, 1), times queries by month: kept as terms, so a strategy's
        # per-query costs are summed before they are multiplied by the queries (`Bill.sum`).
        usd_in = self.per_query(
            ((static - cached + dynamic) * price_in + cached * price_cached) / M
        )
        usd_out = self.per_query(p["answer_tokens"] * price_out / M)
        return usd_in, usd_out

    def per_query(self, usd: Param) -> Bill:
        """`usd` for each query of the month."""
        return Bill(terms=((usd, self.q),))

    def retrain_mask(self, interval: int) -> np.ndarray:
        """`retrain_mask` as a (1, months) row."""
        return retrain_mask(self.months, interval)[None, :]

    def every(self, interval: int) -> Bill:
        """1 in the retrain months of `interval` (months 1+T, 1+2T, ...; never for 0)."""
        return Bill(terms=((1.0, self.retrain_mask(interval)),))

    def monthly(self, coef: Param) -> Bill:
        """`coef` in every month."""
        return Bill(terms=((coef, self.ones),))

    @cached_property
    def index_refreshes(self) -> Bill:
        """1 in months the index is built or refreshed: month 1, then every month while the
        knowledge changes (the changed share is re-embedded monthly)."""
        changes = (np.asarray(self.p["change_rate_per_month"]) > 0).astype(float)
        return self.once + Bill(terms=((changes, 1.0 - self.first),))

    def evaluation(self, releases: Param | Bill) -> Cost:
        """A golden set judged by people at every release."""
        return releases * self.p["eval_examples_per_release"] * self.per_example

    def engineering(self, hours: Param | Bill) -> Cost:
        return hours * self.per_hour

    @cached_property
    def retrieval(self) -> dict[str, Cost]:
        """The costs of keeping an index and searching it: embedding, vector store and
        retrieval components, the same for every strategy that retrieves."""
        p = self.p
        n_tok, c, emb = (
            p["knowledge_base_tokens"],
            p["change_rate_per_month"],
            p["emb.usd_per_mtok"],
        )
        vectors = n_tok / p["chunk_tokens"]
        gb = vectors / M * p["vs.gb_per_million_vectors"]
        # First embedding in month 1, then every month the changed share is re-embedded.
        changed = self.once + self.monthly(c)
        embedding = changed * (n_tok * emb / M)
        writes = changed * (vectors * p["vs.write_units_per_vector"] * p["vs.write_per_munits"] / M)
        storage = gb * p["vs.storage_per_gb_month"] + p["vs.fixed_monthly"]
        read_units = np.maximum(p["vs.min_read_units_per_query"], gb * p["vs.read_units_per_gb"])
        reads = self.per_query(read_units * p["vs.read_per_munits"] / M)
        spent = self.monthly(storage) + writes
        # The plan minimum tops up storage + writes + reads to the minimum monthly bill.
        minimum = p["vs.monthly_minimum"]
        top_up: Cost = 0.0
        if np.any(minimum):
            spend = Bill.sum([spent, reads], self.draws, self.months)  # fresh: used in place
            np.subtract(minimum, spend, out=spend)
            top_up = np.maximum(spend, 0.0, out=spend)
        # The query is embedded too.
        lookups = reads + self.per_query(p["prompt_tokens"] * emb / M)
        return {
            "embedding_usd": embedding,
            "vector_store_usd": spent + top_up,
            "retrieval_usd": lookups,
        }

    def stale_since_training(self, interval: int) -> np.ndarray:
        """Knowledge held in weights: a sawtooth, 1 - (1 - c)^age with age = months since the
        last (re)training, reset at every retrain (interval 0: trained once, never again)."""
        keep = 1.0 - np.asarray(self.p["change_rate_per_month"], dtype=float)
        age = (self.m - 1) % interval + 1 if interval > 0 else self.m
        # The sawtooth repeats every `interval` months: raise to those few ages once, then
        # tile them along the months.
        ages = np.arange(1, int(age.max()) + 1)
        stale = 1.0 - keep.reshape(-1, 1) ** ages
        return np.tile(stale, (1, -(-self.months // len(ages))))[:, : self.months]

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
        0); a value is a float, an array or a `Bill` (`ctx.once * X`, `ctx.every(T) * X`,
        `ctx.per_query(X)`, `ctx.monthly(X)`), which keeps the Monte Carlo cheap.
        `hosting_usd` is the strategy's own fee; `evaluate` adds the reserved GPU capacity
        its tokens leave idle when self-hosted.
    base_accuracy: the default, range and source of `base_accuracy_<strategy>`.
    stale: Context -> share of the knowledge that changed since the strategy last saw it, at
        the end of each month. Default: as fresh as the index (`index_stale`).
    prompt_tokens: Assumptions -> prompt tokens per query, for prefill latency. Default:
        instructions + prompt + retrieved chunks.
    retrieves: whether a query waits for embedding and vector search. Default: yes.
    tuned: whether it serves a fine-tuned model, so it is priced on the fine-tuning path
        (its prices and, when self-hosted, its reserved GPUs). Default: no.
    """

    costs: Callable[[Context], Mapping[str, Cost]]
    base_accuracy: BaseAccuracy
    stale: Callable[[Context], np.ndarray] = index_stale
    prompt_tokens: Callable[[Assumptions], float] = retrieval_prompt_tokens
    retrieves: bool = True
    tuned: bool = False


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
    p, once = ctx.p, ctx.once
    n_tok, c, epochs = p["knowledge_base_tokens"], p["change_rate_per_month"], p["epochs"]
    prompt, answer = p["prompt_tokens"], p["answer_tokens"]
    interval = ctx.decisions["retrain_interval_months"]
    example_tok = p["labeled_examples"] * (prompt + answer)
    corpus_tok = n_tok * (1.0 + p["paraphrases_per_chunk"])
    mask = ctx.every(interval)
    train_tok = once * (epochs * (corpus_tok + example_tok)) + mask * (
        epochs * (corpus_tok * p["retrain_corpus_fraction"] + example_tok)
    )
    changed_since = 1.0 - (1.0 - c) ** max(interval, 1)
    para_usd = n_tok * (ctx.gen_in + p["paraphrases_per_chunk"] * ctx.gen_out) / M
    usd_in, usd_out = ctx.inference(
        p["ft_instruction_tokens"], prompt, ctx.ft_in, ctx.ft_cached, ctx.ft_out
    )
    # People: write the examples the team lacks, then relabel the changed share at each
    # retrain (their answers changed with the facts); judge a golden set and spend
    # engineer-hours at every training.
    target = p["ft_examples_target"]
    to_label = once * np.maximum(0.0, target - p["labeled_examples"]) + mask * (
        changed_since * target
    )
    trainings = once + mask
    return {
        "data_prep_usd": (once + mask * changed_since) * para_usd,
        "training_usd": train_tok * (ctx.train_per_mtok / M),
        "hosting_usd": ctx.ft_fee,
        "inference_input_usd": usd_in,
        "inference_output_usd": usd_out,
        "labelling_usd": to_label * ctx.per_example,
        "evaluation_usd": ctx.evaluation(trainings),
        "engineering_usd": ctx.engineering(trainings * p["eng_hours_per_retrain"]),
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
    # People: a golden set judged at launch and at each pipeline release; engineer-hours at
    # every index refresh.
    releases = ctx.once + ctx.every(ctx.decisions["rag_release_interval_months"])
    return {
        **ctx.retrieval,
        "inference_input_usd": usd_in,
        "inference_output_usd": usd_out,
        "evaluation_usd": ctx.evaluation(releases),
        "engineering_usd": ctx.engineering(ctx.index_refreshes * p["eng_hours_per_index_refresh"]),
    }


def hybrid_costs(ctx: Context) -> dict[str, Cost]:
    """RAG's index plus an FT model that learnt behaviour, RAFT-style: examples with oracle and
    distractor chunks in context (Zhang et al. 2024); missing examples are synthesised by the
    generator. Retrains every `hybrid_retrain_interval_months` (0 = never)."""
    p, once = ctx.p, ctx.once
    prompt, answer, labeled = p["prompt_tokens"], p["answer_tokens"], p["labeled_examples"]
    n_ex = np.maximum(labeled, p["hybrid_min_examples"])
    synth = n_ex - labeled
    cx = ctx.context_tokens
    prep = once * (synth * ((cx + prompt) * ctx.gen_in + (prompt + answer) * ctx.gen_out) / M)
    mask = once + ctx.every(ctx.decisions["hybrid_retrain_interval_months"])
    train_tok = mask * (p["epochs"] * n_ex * (prompt + answer + cx))
    usd_in, usd_out = ctx.inference(
        p["ft_instruction_tokens"], prompt + cx, ctx.ft_in, ctx.ft_cached, ctx.ft_out
    )
    # People write the seed examples the team lacks (the generator expands them above); it
    # learns behaviour, not facts, so retrains need no relabelling. Judged and engineered at
    # every training, plus engineer-hours at every index refresh.
    seed = once * np.maximum(0.0, p["ft_examples_target"] - labeled)
    hours = (
        mask * p["eng_hours_per_retrain"] + ctx.index_refreshes * p["eng_hours_per_index_refresh"]
    )
    return {
        "data_prep_usd": prep,
        "training_usd": train_tok * (ctx.train_per_mtok / M),
        **ctx.retrieval,
        "hosting_usd": ctx.ft_fee,
        "inference_input_usd": usd_in,
        "inference_output_usd": usd_out,
        "labelling_usd": seed * ctx.per_example,
        "evaluation_usd": ctx.evaluation(mask),
        "engineering_usd": ctx.engineering(hours),
    }


COST_MODELS["fine_tuning"] = StrategyModel(
    fine_tuning_costs,
    BaseAccuracy(0.588, 0.45, 0.70, OVADIA + " (FT w/ paraphrases .588)"),
    stale=lambda ctx: ctx.stale_since_training(ctx.decisions["retrain_interval_months"]),
    prompt_tokens=lambda a: a.ft_instruction_tokens + a.prompt_tokens,
    retrieves=False,
    tuned=True,
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
    tuned=True,
)
