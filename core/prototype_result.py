"""PrototypeResult: the value every strategy run returns (metrics JSON of ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

METRIC_KEYS = (
    "accuracy",
    "accuracy_paraphrased",
    "accuracy_updated",
    "format_compliance",
    "source_accuracy",
    "latency_ms_p50",
    "latency_ms_p95",
    "build_seconds",
    "prompt_tokens_mean",
    "peak_rss_mb",
)


@dataclass(frozen=True)
class PrototypeResult:
    """One strategy's measured run. `metrics` holds every METRIC_KEYS entry; a metric whose
    gold data is absent is None, never invented. Extra metrics (e.g. accuracy after a
    retrain) go beside them in `extra_metrics`."""

    strategy: str
    metrics: dict
    answers: list = field(default_factory=list)
    extra_metrics: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)  # corpus, model, device, timings, settings

    def __post_init__(self):
        missing = [k for k in METRIC_KEYS if k not in self.metrics]
        if missing:
            raise ValueError(f"PrototypeResult({self.strategy}): metrics missing {missing}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["metrics"] = {**{k: self.metrics[k] for k in METRIC_KEYS}, **self.extra_metrics}
        del d["extra_metrics"]
        return d


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss is in KiB)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
