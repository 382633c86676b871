"""The registries every layer reads: strategies, prototype rows and prototype tasks.

Each is declared once here, with its value, label, colour and order; no other file spells out
the list. Adding a strategy is `register_strategy(...)` plus its rule column, cost function and
prototype row (see the README's "Adding a strategy"). Registration order is display order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from core.errors import ConfigError


@dataclass(frozen=True)
class StrategySpec:
    """A deployable strategy the advisor can recommend and the simulator can cost."""

    value: str  # the public name: profile feedback, JSON, CLI
    label: str  # "Fine-tuning": tables, legends
    phrase: str  # "fine-tuning": inside a sentence ("The rules favour ...")
    colour: str  # one hex colour per strategy, everywhere (app, report, PDF)
    # The prototype rows that measure it; the first is its primary row (what the app runs for
    # it alone, and what calibrates the simulator when several rows measured it).
    rows: tuple[str, ...] = ()
    # Rule-score tie-break, lower wins: every vendor guide says start with prompting +
    # retrieval and fine-tune only when form or cost demands it (RAG 0, hybrid 1, FT 2).
    tie_rank: int = 9
    description: str = ""


@dataclass(frozen=True)
class RowSpec:
    """One row of a prototype table: a strategy as built and measured (or the base floor)."""

    value: str  # "rag+constrained"
    label: str
    colour: str
    strategy: str | None  # the StrategySpec it measures; None for the closed-book base
    description: str = ""
    trains: bool = False  # needs a training run (slow; `--retrain` concerns it)
    # The row's answers are shaped by decoding, not learnt (forced JSON); its format score
    # measures the decoder, which the report says beside the number.
    forced_format: bool = False


# Metrics every prototype task reports after its headline ones (ARCHITECTURE.md).
COMMON_METRICS = (
    "latency_ms_p50",
    "latency_ms_p95",
    "build_seconds",
    "prompt_tokens_mean",
    "peak_rss_mb",
)


@dataclass(frozen=True)
class TaskSpec:
    """A kind of prototype the runner can build: its data format and headline metrics."""

    value: str
    label: str
    data: str  # "corpus" (docs + qa.jsonl) or "dataset" (task.yaml + train/test.jsonl)
    metrics: tuple[str, ...]  # the headline metric keys, in display order
    profile_tasks: tuple[str, ...] = ()  # profile `task` values this prototype stands for
    rows: tuple[str, ...] = ()  # the rows that run on it, in order
    available: bool = True
    # The metrics that stand for a strategy's accuracy in the simulator calibration, first
    # present one wins (simulator/calibration.py says why for each task).
    calibrates: tuple[str, ...] = ("accuracy",)

    @property
    def metric_keys(self) -> tuple[str, ...]:
        """Every metric a result of this task must hold: headline ones, then COMMON_METRICS."""
        return (*self.metrics, *COMMON_METRICS)


S = TypeVar("S", StrategySpec, RowSpec, TaskSpec)


@dataclass
class Registry(Generic[S]):
    """An ordered name -> spec table with one clear error for unknown names."""

    kind: str
    _items: dict[str, S] = field(default_factory=dict)

    def register(self, spec: S) -> S:
        if spec.value in self._items:
            raise ConfigError(f"{self.kind} `{spec.value}` is registered twice")
        self._items[spec.value] = spec
        return spec

    def unregister(self, value: str) -> None:
        """Remove one entry (tests that register a toy entry clean up with this)."""
        self._items.pop(value, None)

    def get(self, value: str) -> S:
        try:
            return self._items[value]
        except KeyError:
            known = ", ".join(self._items)
            raise ConfigError(f"{self.kind}: unknown {value!r}; known: {known}") from None

    def values(self) -> tuple[str, ...]:
        return tuple(self._items)

    def __iter__(self) -> Iterator[S]:
        return iter(tuple(self._items.values()))

    def __contains__(self, value: object) -> bool:
        return value in self._items

    def __len__(self) -> int:
        return len(self._items)

    def label(self, value: str) -> str:
        """The display label, or the value itself for a name no longer registered (an old
        file may hold one)."""
        spec = self._items.get(str(value))
        return spec.label if spec else str(value)

    def colour(self, value: str, default: str = "#999999") -> str:
        """The hex colour of a strategy or row; grey for anything else (tasks have none)."""
        return getattr(self._items.get(str(value)), "colour", default)


STRATEGIES: Registry[StrategySpec] = Registry("strategy")
ROWS: Registry[RowSpec] = Registry("prototype row")
TASKS: Registry[TaskSpec] = Registry("prototype task")

# Colours: ColorBrewer Dark2, colour-blind safe and distinct in greyscale print.
STRATEGIES.register(
    StrategySpec(
        "fine_tuning",
        "Fine-tuning",
        "fine-tuning",
        "#d95f02",
        rows=("fine_tuning",),
        tie_rank=2,
        description="LoRA or full fine-tuning: the model learns behaviour (and facts) in its "
        "weights.",
    )
)
STRATEGIES.register(
    StrategySpec(
        "rag",
        "RAG",
        "RAG",
        "#1b9e77",
        rows=("rag", "rag+constrained"),
        tie_rank=0,
        description="Retrieval-augmented generation: facts are looked up at answer time.",
    )
)
STRATEGIES.register(
    StrategySpec(
        "hybrid",
        "Hybrid (FT + RAG)",
        "a hybrid (fine-tuning + RAG)",
        "#7570b3",
        rows=("hybrid", "hybrid+route"),
        tie_rank=1,
        description="A model fine-tuned to use retrieved context (RAFT-style) plus retrieval.",
    )
)

ROWS.register(
    RowSpec(
        "base",
        "Closed-book base",
        "#999999",
        None,
        "The generator with no context: the floor every strategy is compared against.",
    )
)
ROWS.register(
    RowSpec(
        "rag",
        "RAG",
        "#1b9e77",
        "rag",
        "Retrieved passages in the prompt; the generator writes its answer freely.",
    )
)
ROWS.register(
    RowSpec(
        "rag+constrained",
        "RAG, extractive span search (constrained)",
        "#66c2a5",
        "rag",
        "Same index; the answer is a span copied from a retrieved sentence (forced JSON).",
        forced_format=True,
    )
)
ROWS.register(
    RowSpec(
        "fine_tuning",
        "Fine-tuning",
        "#d95f02",
        "fine_tuning",
        "LoRA adapter trained on the question-answer pairs; no retrieval.",
        trains=True,
    )
)
ROWS.register(
    RowSpec(
        "hybrid",
        "Hybrid (FT + RAG)",
        "#7570b3",
        "hybrid",
        "LoRA trained to read retrieved context, used with retrieval; re-indexes, never "
        "retrains, after an update.",
        trains=True,
    )
)

ROWS.register(
    RowSpec(
        "hybrid+route",
        "Hybrid, fine-tuned + retrieval for what is new (routed)",
        "#a6a1d6",
        "hybrid",
        "The fine-tuned adapter answers; retrieval supplies only what came after training: a "
        "label the nearest examples vote for, a field read by few-shot retrieval.",
        trains=True,
    )
)
QA_ROWS = ("base", "rag", "rag+constrained", "fine_tuning", "hybrid")

TASKS.register(
    TaskSpec(
        "knowledge_qa",
        "Knowledge QA",
        data="corpus",
        metrics=(
            "accuracy",
            "accuracy_paraphrased",
            "accuracy_updated",
            "exact_match",
            "token_f1",
            "format_compliance",
            "source_accuracy",
        ),
        profile_tasks=(
            "knowledge_qa",
            "customer_support",
            "summarization",
            "content_generation",
            "code_assistant",
        ),
        rows=QA_ROWS,
        # Paraphrased first: users ask in their own words, and a fine-tuned model that
        # memorised the training questions drops on rephrasings (FineTuneBench, 2411.05059).
        calibrates=("accuracy_paraphrased", "accuracy"),
    )
)
# Behaviour tasks (task.yaml + train/test.jsonl; prototype/task_data.py): fine-tuning's home
# ground. The same four rows, plus `hybrid+route`; `rag` is few-shot with retrieved training
# examples.
TASK_ROWS = ("base", "rag", "fine_tuning", "hybrid", "hybrid+route")
TASKS.register(
    TaskSpec(
        "classification",
        "Classification",
        data="dataset",
        metrics=(
            "accuracy",
            "macro_f1",
            "format_compliance",
            "accuracy_updated",
            "accuracy_new_labels",
        ),
        profile_tasks=("classification",),
        rows=TASK_ROWS,
        calibrates=("accuracy",),
    )
)
TASKS.register(
    TaskSpec(
        "extraction",
        "Structured extraction",
        data="dataset",
        metrics=(
            "field_accuracy",
            "field_f1",
            "format_compliance",
            "field_accuracy_updated",
            "new_field_accuracy",
        ),
        profile_tasks=("extraction",),
        rows=TASK_ROWS,
        # Exact match per field: a field is right only when written exactly as gold.
        calibrates=("field_accuracy",),
    )
)


def strategy_values() -> tuple[str, ...]:
    return STRATEGIES.values()


def rows_of(strategy: str) -> tuple[str, ...]:
    return STRATEGIES.get(strategy).rows


def task_for_profile(profile_task: str) -> TaskSpec:
    """The prototype task that stands for a profile's `task` (knowledge QA by default)."""
    for t in TASKS:
        if profile_task in t.profile_tasks and t.available:
            return t
    return TASKS.get("knowledge_qa")
