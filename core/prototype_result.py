"""PrototypeResult and PrototypeRun: what a strategy run returns, and a run of several rows.

A result belongs to a prototype task (`core.registry.TASKS`): knowledge QA on a corpus, or a
behaviour task (classification, extraction) on a task dataset. The task decides which metric
keys the result must hold (`TaskSpec.metric_keys`); a QA result writes no `task` key, so QA
files look as they always did.

`from_dict` is the one place that reads older files: a file without `task` is knowledge QA, a
metric key it lacks is None (never invented) and a runner that named the model `generator` in
`meta` reads as `model`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.registry import TASKS

QA_TASK = "knowledge_qa"
# The knowledge-QA metric keys (the corpus prototype's contract).
METRIC_KEYS = TASKS.get(QA_TASK).metric_keys


def metric_keys(task: str | None) -> tuple[str, ...]:
    """The metric keys a result of `task` holds (knowledge QA when None)."""
    return TASKS.get(task or QA_TASK).metric_keys


# Share of training examples reproduced exactly below which a LoRA run that the time budget
# stopped counts as cut short (the task rows count a training set as fit at 0.98).
UNDERFIT = 0.9


def trainings(results: list[dict]) -> Iterator[tuple[str, bool, str, dict]]:
    """(strategy, retrained?, adapter, training stats) for each LoRA training behind the
    result dicts: a row's own adapter (`meta.train`), and its retrain (`meta.retrain`)."""
    for r in results:
        meta = r.get("meta") or {}
        if meta.get("train"):
            yield r["strategy"], False, meta.get("adapter") or r["strategy"], meta["train"]
        if isinstance(meta.get("retrain"), dict):
            yield r["strategy"], True, meta["retrain"].get("adapter", ""), meta["retrain"]


def cut_short(results: list[dict]) -> list[tuple[list[tuple[str, bool]], dict]]:
    """Per adapter that the time budget stopped before it fit its training set: the
    (strategy, retrained?) pairs that use it, and its training stats. A capped run trains as
    far as the machine gets that hour, so these are the rows a bigger budget would change."""
    by_adapter: dict[str, tuple[list[tuple[str, bool]], dict]] = {}
    for strategy, retrained, adapter, t in trainings(results):
        if t.get("stop_reason") == "max_seconds" and (t.get("train_exact") or 0) < UNDERFIT:
            by_adapter.setdefault(adapter, ([], t))[0].append((strategy, retrained))
    return list(by_adapter.values())


@dataclass(frozen=True)
class PrototypeResult:
    """One strategy's measured run. `metrics` holds every METRIC_KEYS entry; a metric whose
    gold data is absent is None, never invented. Extra metrics (e.g. accuracy after a
    retrain) go beside them in `extra_metrics`."""

    strategy: str  # a prototype row (core.registry.ROWS): "rag", "rag+constrained", "base", ...
    metrics: dict
    answers: list = field(default_factory=list)
    extra_metrics: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)  # corpus, model, device, timings, settings
    variant: str | None = None  # older runs: a decoding variant of the row ("constrained")
    task: str = QA_TASK  # core.registry.TASKS: which metric keys `metrics` holds

    def __post_init__(self):
        missing = [k for k in self.metric_keys if k not in self.metrics]
        if missing:
            raise ValueError(f"PrototypeResult({self.strategy}): metrics missing {missing}")

    @property
    def metric_keys(self) -> tuple[str, ...]:
        return metric_keys(self.task)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"strategy": self.strategy}
        if self.task != QA_TASK:
            d["task"] = self.task
        if self.variant:
            d["variant"] = self.variant
        keys = self.metric_keys
        d["metrics"] = {**{k: self.metrics[k] for k in keys}, **self.extra_metrics}
        d["answers"] = list(self.answers)
        d["meta"] = dict(self.meta)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PrototypeResult:
        metrics = dict(d.get("metrics") or {})
        meta = dict(d.get("meta") or {})
        if "generator" in meta and not meta.get("model"):
            meta["model"] = meta.pop("generator")
        task = str(d.get("task") or QA_TASK)
        keys = metric_keys(task)  # an unknown task is a ConfigError naming it
        return cls(
            strategy=str(d["strategy"]),
            metrics={k: metrics.get(k) for k in keys},
            answers=list(d.get("answers") or []),
            extra_metrics={k: v for k, v in metrics.items() if k not in keys},
            meta=meta,
            variant=str(d["variant"]) if d.get("variant") else None,
            task=task,
        )


@dataclass(frozen=True)
class PrototypeRun:
    """The results of one `ftrag prototype` run (one row or `--strategy all`), plus what the
    runner wrote beside them (`corpus`, `strategies`), kept as given."""

    results: list[PrototypeResult]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "results": [r.to_dict() for r in self.results]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PrototypeRun:
        """`{"results": [...], ...}`, validated at the edge (`core.decision`)."""
        return cls(
            results=[PrototypeResult.from_dict(r) for r in d["results"] if isinstance(r, Mapping)],
            extra={str(k): v for k, v in d.items() if k != "results"},
        )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss is in KiB)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
