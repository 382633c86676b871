"""Run one prototype row (or all of them) on a corpus or a task dataset -> PrototypeResult(s).

Every corpus row goes through the one evaluation protocol in `prototype.evaluate`, every
task row through `prototype.task_eval`; this module only dispatches, through the row
registry (`prototype.rows`) or the task rows (`prototype.task_rows`). A queue or a UI worker
thread can drive it: `progress(stage, done, total, info)` reports, and a set `cancel` event
raises JobCancelled between questions.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from core.errors import ConfigError
from core.progress import Progress
from core.prototype_result import PrototypeResult
from core.registry import TASKS
from prototype.rows import RunContext, SharedModels, row_runner

# Rows that answer a live question without training (`ftrag ask`, the app's Ask panel).
LIVE_ROWS = ("base", "rag", "rag+constrained")


@lru_cache(maxsize=2)
def shared_models(device: str) -> SharedModels:
    """The generator and embedder, loaded once per process and device (each on first use), so
    `all` does not reload them for every row. Inference never mutates them."""
    return SharedModels(device)


def run_strategy(
    strategy: str,
    corpus,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    retrain: bool = False,
    augment: bool = True,
) -> PrototypeResult:
    """Evaluate the row `strategy` on `corpus` (a prototype.corpus.Corpus).

    `retrain` and `augment` only concern fine-tuning: also retrain on the updated corpus and
    report that figure beside the stale one; train on rule-based rewrites of the questions too.
    """
    from prototype.backbone import pick_device

    run = row_runner(strategy)  # an unknown row is a ConfigError naming it, before any load
    dev = pick_device(device)
    ctx = RunContext(dev, progress, cancel, retrain, augment, shared_models(dev))
    return run(corpus, ctx)


def run_all(
    corpus,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    retrain: bool = False,
    strategies: tuple[str, ...] | None = None,
    augment: bool = True,
) -> list[PrototypeResult]:
    """Every row in `strategies` (default: the knowledge-QA task's rows, `QA_ROWS`, the base
    included; the constrained reader has its own row so decoding-forced format never hides
    in the plain `rag` one)."""
    rows = TASKS.get("knowledge_qa").rows if strategies is None else strategies
    return [run_strategy(s, corpus, device, progress, cancel, retrain, augment) for s in rows]


def run_task_strategy(
    strategy: str,
    dataset,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    retrain: bool = False,
    train_budget_s: float | None = None,
) -> PrototypeResult:
    """Evaluate the row `strategy` on a behaviour task (a prototype.task_data.TaskDataset).

    The rows that run on a task are its `TaskSpec.rows` (base, rag, fine_tuning, hybrid);
    `prototype.task_rows` says what each prompt holds. `retrain` concerns fine-tuning only:
    also retrain on the updated training set and report that figure beside the stale one.
    `train_budget_s` replaces the training rows' own time cap on each LoRA run.
    """
    from prototype.backbone import pick_device
    from prototype.task_rows import TASK_RUNNERS

    rows = TASKS.get(dataset.kind).rows
    if strategy not in rows:
        raise ConfigError(
            f"strategy: {strategy!r} does not run on a {dataset.kind} task; "
            f"known: {', '.join(rows)}"
        )
    dev = pick_device(device)
    ctx = RunContext(
        dev, progress, cancel, retrain, models=shared_models(dev), train_budget_s=train_budget_s
    )
    return TASK_RUNNERS[strategy](dataset, ctx)


def run_task_all(
    dataset,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    retrain: bool = False,
    strategies: tuple[str, ...] | None = None,
    train_budget_s: float | None = None,
) -> list[PrototypeResult]:
    """Every row of the dataset's task (or `strategies`), in registry order."""
    rows = TASKS.get(dataset.kind).rows if strategies is None else strategies
    return [
        run_task_strategy(s, dataset, device, progress, cancel, retrain, train_budget_s)
        for s in rows
    ]


# A live question longer than this is a pasted document, not a question: it would crowd the
# retrieved passages out of a 135M model's prompt (MiniLM reads only its first 256 pieces).
MAX_QUESTION_CHARS = 1_000


def answer_live(strategy: str, corpus, question: str, device: str | None = None):
    """Answer one live question (`ftrag ask`) -> evaluate.Answer (raw text, retrieved ids).

    Supports the rows that need no training: base, rag and rag+constrained. A trained
    adapter is asked through `ftrag prototype`, which trains or reuses it. With
    FTRAG_ENDPOINT set, the endpoint generates (retrieval stays local); rag+constrained needs
    the local model's logits and says so.
    """
    from prototype.backbone import pick_device
    from prototype.generator import endpoint_from_env, require_local

    if strategy not in LIVE_ROWS:
        raise ConfigError(
            f"ask: strategy must be {', '.join(LIVE_ROWS[:-1])} or {LIVE_ROWS[-1]}, "
            f"got {strategy!r}"
        )
    question = question.strip()
    if not question:
        raise ConfigError("ask: question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise ConfigError(
            f"ask: question is {len(question):,} characters; at most {MAX_QUESTION_CHARS:,}"
        )
    dev = pick_device(device)
    shared = shared_models(dev)
    endpoint = endpoint_from_env()
    constrained = strategy == "rag+constrained"
    if endpoint is not None:
        generator = endpoint
    else:  # the extractive reader scores with the reading adapter (prototype.reading_adapter)
        generator = shared.reader if constrained else shared.generator
    if constrained:
        require_local(generator, "ask: rag+constrained")
    if strategy == "base":
        from prototype.base import closed_book_answerer

        return closed_book_answerer(generator)([question])[0]
    from prototype.backbone import embedding_store_for
    from prototype.index import RagIndex
    from prototype.rag import RagReader
    from prototype.relevance import not_in_documents

    index = RagIndex.build(corpus.docs, shared.embedder, store=embedding_store_for(shared.embedder))
    refused = not_in_documents(index, question)  # off-topic: say so, never guess a span
    return refused or RagReader(index, generator, constrained=constrained)([question])[0]
