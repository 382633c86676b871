"""The prototype section: measured metrics per row, run details, and what a prototype can show."""

from __future__ import annotations

from collections.abc import Mapping

from core.prototype_result import PrototypeResult, PrototypeRun
from core.registry import ROWS, TASKS
from report.table import Table
from report.text import FORMATTERS, NA, in_order, num

# Column title and formatter per metric; columns follow METRIC_KEYS, then the extra metrics a
# run adds beside them (EVAL_API.md). A metric missing here prints under its own name.
METRIC_COLUMNS = {
    "accuracy": ("Accuracy", "pct"),
    "accuracy_paraphrased": ("Paraphrased", "pct"),
    "accuracy_updated": ("After update", "pct"),
    "format_compliance": ("Format", "pct"),
    "source_accuracy": ("Source", "pct"),
    "latency_ms_p50": ("p50 ms", "ms"),
    "latency_ms_p95": ("p95 ms", "ms"),
    "build_seconds": ("Build s", "sec"),
    "prompt_tokens_mean": ("Prompt tok", "int"),
    "peak_rss_mb": ("Peak RSS MB", "int"),
    "accuracy_updated_retrained": ("After update, retrained", "pct"),
    # behaviour tasks (classification, extraction)
    "macro_f1": ("Macro-F1", "pct"),
    "accuracy_new_labels": ("New labels", "pct"),
    "field_accuracy": ("Field exact match", "pct"),
    "field_f1": ("Field micro-F1", "pct"),
    "field_accuracy_updated": ("Fields after update", "pct"),
    "new_field_accuracy": ("New field", "pct"),
    "accuracy_new_labels_retrained": ("New labels, retrained", "pct"),
    "field_accuracy_updated_retrained": ("Fields after update, retrained", "pct"),
    "new_field_accuracy_retrained": ("New field, retrained", "pct"),
    "format_compliance_updated": ("Format after update", "pct"),
    "retrain_seconds": ("Retrain s", "sec"),
    # the extractive reader's confidence (prototype.extract.CONFIDENT / UNSURE)
    "confident_share": ("Confident answers", "pct"),
    "accuracy_confident": ("Accuracy when confident", "pct"),
    "unsure_share": ("Unsure answers", "pct"),
    "accuracy_unsure": ("Accuracy when unsure", "pct"),
    # unsure picks read again with more context (prototype.rag_settings.second_look_below)
    "second_look_share": ("Read twice", "pct"),
}
SHARED_META = ("corpus", "dataset", "model", "device")

PROTOTYPE_CAN = (
    "RAG scoring far above the closed-book base on facts the model never saw.",
    "Fine-tuning memorising the trained questions but dropping on paraphrases, and "
    "paraphrase augmentation helping it.",
    "After a knowledge update, RAG answering from the new documents while the fine-tuned "
    "model stays stale (it is not retrained).",
    "Fine-tuning (and the hybrid) winning on output format and style compliance.",
)
PROTOTYPE_CANNOT = (
    "Absolute accuracy of a 7B+ production model: a 135M model's numbers will not match "
    "the papers, so read the gaps between strategies, not the levels.",
    "Production latency or throughput: CPU timings of a tiny model say nothing about a "
    "served GPU model or a cloud API.",
    "How the hybrid behaves at scale: FT+RAG helps small models but can hurt 7B+ ones "
    "(Soudani et al. 2024, arXiv 2403.01432), and it must be trained to read retrieved "
    "documents (RAFT, arXiv 2403.10131).",
    "Cost: the prototype measures build time on this machine, not a bill; the simulation "
    "above carries the cost argument.",
)


def ordered_results(run: PrototypeRun) -> list[PrototypeResult]:
    """The run's results in ROWS order (a row's variants keep their order), unknown rows last."""
    order = in_order((r.strategy for r in run.results), ROWS)
    return sorted(run.results, key=lambda r: order.index(r.strategy))


def row_name(r: PrototypeResult) -> str:
    return ROWS.label(r.strategy) + (f" ({r.variant})" if r.variant else "")


def metric_column(key: str) -> tuple[str, str]:
    """(title, formatter name) of a metric column."""
    share = "accuracy" in key or "compliance" in key
    return METRIC_COLUMNS.get(key, (key.replace("_", " "), "pct" if share else "num"))


def metric_keys_of(results: list[PrototypeResult]) -> tuple[str, ...]:
    """The contract metric keys of the results' tasks, in order (one task per run as the
    runner writes it; a mixed file shows the union)."""
    return tuple(dict.fromkeys(k for r in results for k in r.metric_keys))


def _metrics_table(results: list[PrototypeResult]) -> Table:
    keys = metric_keys_of(results)
    extra = dict.fromkeys(k for r in results for k in r.extra_metrics if k not in keys)
    cols = [(*metric_column(k), k) for k in (*keys, *extra)]
    rows = []
    for r in results:
        m = {**r.metrics, **r.extra_metrics}
        rows.append([row_name(r)] + [FORMATTERS[f](m.get(k)) for _, f, k in cols])
    return Table(
        "prototype-metrics",
        ["Strategy", *[title for title, _, _ in cols]],
        rows,
        caption=_caption(results),
    )


def _caption(results: list[PrototypeResult]) -> str:
    tasks = {r.task for r in results}
    if tasks <= {"knowledge_qa"}:
        return (
            "Measured on the corpus named above; accuracy columns are shares of questions "
            "answered correctly, scored on the text as generated."
        )
    names = ", ".join(TASKS.label(t).lower() for t in sorted(tasks))
    return (
        f"Measured on the task dataset named above ({names}); shares of test examples (of "
        "fields, for extraction) right, scored on the text exactly as generated: a label "
        "must be written exactly, a JSON object must parse and match the schema. After "
        "update: the update's test set; fine-tuning is not retrained."
    )


def _details_table(results: list[PrototypeResult], shared: dict[str, str]) -> Table:
    rows = []
    for r in results:
        detail = []
        for k, v in r.meta.items():
            if k in shared or v is None or v == "" or isinstance(v, list):
                continue
            if isinstance(v, Mapping):
                inner = ", ".join(
                    f"{ik} {num(iv)}" for ik, iv in v.items() if not isinstance(iv, dict | list)
                )
                if inner:
                    detail.append(f"{k}: {inner}")
            else:
                detail.append(f"{k}: {num(v)}")
        rows.append([row_name(r), "; ".join(detail) or NA])
    return Table(
        "prototype-meta",
        ["Strategy", "Run details (timings, settings)"],
        rows,
        align=["l", "l"],
    )


def prototype_section(run: PrototypeRun) -> dict:
    results = ordered_results(run)
    shared = {}
    for k in SHARED_META:
        vals = {str(r.meta[k]) for r in results if r.meta.get(k)}
        if len(vals) == 1:
            shared[k] = vals.pop()
    return {
        "metrics": _metrics_table(results),
        "corpus": shared.get("corpus") or shared.get("dataset", "see run details"),
        "model": shared.get("model", "see run details"),
        "device": shared.get("device", "see run details"),
        "details": _details_table(results, shared),
        "n_answers": sum(len(r.answers) for r in results),
    }
