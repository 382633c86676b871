"""Scoring and the evaluation protocol for behaviour tasks (classification, extraction).

The raw text is scored exactly as the model wrote it: stripped of surrounding whitespace,
never repaired, re-serialised or re-parsed into another format.

- Classification: the stripped text must be one of the schema's labels (`compliant`) and
  equal the gold label (`correct`). A label with a trailing full stop is neither.
- Extraction: the stripped text must parse as one JSON object (`json.loads`, nothing cut
  away first). It is `compliant` when its keys are exactly the schema's fields and each value
  has the field's type (string; JSON number, not a bool; ISO `YYYY-MM-DD` date; or null). A
  field is right when the value equals gold: null for null, numbers numerically, strings and
  dates after stripping surrounding whitespace (a date written `12/03/2025` is wrong: the
  gold is ISO and the output is scored as written). A missing key is wrong, even for a null
  gold field: the model did not say the field is absent.
- `field_f1` is the slot-filling micro-F1 over non-null values: a true positive is a non-null
  gold value reproduced exactly; every other non-null prediction is a false positive, every
  other non-null gold value a false negative.

Protocol (as `prototype.evaluate` for QA): the original test set (first `latency_queries`
one at a time after an unscored warm-up, for the latency percentiles; the rest batched),
then the update is applied and the update's test set is answered under the update's schema.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import JobCancelled
from core.progress import Progress
from core.prototype_result import PrototypeResult, peak_rss_mb
from prototype.evaluate import (
    DEFAULT_BATCH,
    DEFAULT_LATENCY_QUERIES,
    Answer,
    AnswerFn,
    _percentile,
    _share,
    answer_questions,
)

KINDS = ("original", "updated")


# -- scoring one answer ------------------------------------------------------------------------
def score_label(raw: str, gold: str, labels: Sequence[str]) -> dict[str, Any]:
    text = raw.strip()
    compliant = text in labels
    return {"parsed": text if compliant else None, "correct": text == gold, "compliant": compliant}


def parse_object(raw: str) -> dict | None:
    """The JSON object the model wrote, or None (invalid JSON, or not an object)."""
    try:
        obj = json.loads(raw.strip())
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def is_iso_date(v: object) -> bool:
    if not isinstance(v, str) or len(v) != 10:
        return False
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def has_type(v: object, type_: str) -> bool:
    if v is None:
        return True
    if type_ == "number":
        return isinstance(v, int | float) and not isinstance(v, bool)
    if type_ == "date":
        return is_iso_date(v)
    return isinstance(v, str)


def same_value(pred: object, gold: object, type_: str) -> bool:
    if gold is None or pred is None:
        return gold is None and pred is None
    if type_ == "number":
        if not isinstance(pred, int | float) or isinstance(pred, bool):
            return False
        if not isinstance(gold, int | float):
            return False
        return abs(float(pred) - float(gold)) <= 1e-9 * max(1.0, abs(float(gold)))
    return isinstance(pred, str) and pred.strip() == str(gold).strip()


def score_fields(raw: str, gold: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields`: name -> FieldSpec (its `.type`). Only fields the gold holds are scored."""
    obj = parse_object(raw)
    compliant = (
        obj is not None
        and set(obj) == set(fields)
        and all(has_type(obj[f], spec.type) for f, spec in fields.items())
    )
    hits: dict[str, bool] = {}
    tp = fp = fn = 0
    for f, spec in fields.items():
        if f not in gold:
            continue
        said = obj is not None and f in obj
        pred = obj.get(f) if obj is not None else None
        hit = said and same_value(pred, gold[f], spec.type)
        hits[f] = hit
        tp += hit and gold[f] is not None
        fp += said and pred is not None and not (hit and gold[f] is not None)
        fn += gold[f] is not None and not hit
    return {
        "parsed": obj,
        "correct": bool(hits) and all(hits.values()),
        "compliant": compliant,
        "fields_correct": hits,
        "tp_fp_fn": [tp, fp, fn],
    }


# -- the protocol ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One test example to answer, under the schema in effect for its phase."""

    id: str
    kind: str  # one of KINDS
    text: str
    gold: Any  # label (classification) or fields dict (extraction)
    schema: Any  # task_data.TaskSchema


def cases(examples, kind: str, schema) -> list[Case]:
    gold = (lambda e: e.label) if schema.kind == "classification" else (lambda e: e.fields)
    return [Case(e.id, kind, e.text, gold(e), schema) for e in examples]


def score_case(c: Case, a: Answer, latency_measured: bool) -> dict[str, Any]:
    if c.schema.kind == "classification":
        s = score_label(a.raw, c.gold, tuple(c.schema.labels))
    else:
        s = score_fields(a.raw, c.gold, c.schema.fields)
    return {
        "id": c.id,
        "kind": c.kind,
        "text": c.text,
        "raw": a.raw,
        **{k: s[k] for k in ("parsed", "correct", "compliant")},
        "gold": c.gold,
        **{k: v for k, v in s.items() if k not in ("parsed", "correct", "compliant")},
        "retrieved": list(a.retrieved),
        "latency_ms": round(a.seconds * 1000, 1) if latency_measured else None,
        "prompt_tokens": a.prompt_tokens,
        **({"extra": a.extra} if a.extra else {}),  # e.g. which part of hybrid+route answered
    }


def answer_cases(answer_fn: AnswerFn, todo: Sequence[Case], **kw) -> list[dict]:
    """Answer `todo` through the QA protocol's loop (batching, latency sample, cancel,
    streamed progress) -> records scored by `score_case`."""
    return answer_questions(answer_fn, todo, text=lambda c: c.text, score=score_case, **kw)


def _macro_f1(records: list[dict], labels: Sequence[str]) -> float | None:
    """sklearn macro-F1 over the schema's labels; an invalid output is a miss of the gold
    class and adds no class of its own."""
    if not records:
        return None
    from sklearn.metrics import f1_score

    gold = [r["gold"] for r in records]
    pred = [r["parsed"] if r["parsed"] is not None else "<invalid>" for r in records]
    present = [lab for lab in labels if lab in set(gold)]
    return round(float(f1_score(gold, pred, labels=present, average="macro", zero_division=0)), 4)


def _field_share(records: list[dict], only: Sequence[str] | None = None) -> float | None:
    hits = [
        ok for r in records for f, ok in r["fields_correct"].items() if only is None or f in only
    ]
    return round(sum(hits) / len(hits), 4) if hits else None


def _micro_f1(records: list[dict]) -> float | None:
    if not records:
        return None
    tp, fp, fn = (sum(r["tp_fp_fn"][i] for r in records) for i in range(3))
    return round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else 1.0


def task_metrics(records: list[dict], dataset, build_seconds: float | None) -> dict:
    """Every metric of the dataset's TaskSpec, from per-example records."""
    orig = [r for r in records if r["kind"] == "original"]
    upd = [r for r in records if r["kind"] == "updated"]
    if dataset.kind == "classification":
        new = set(dataset.new_labels)
        head = {
            "accuracy": _share(orig, "correct"),
            "macro_f1": _macro_f1(orig, tuple(dataset.schema.labels)),
            "format_compliance": _share(orig, "compliant"),
            "accuracy_updated": _share(upd, "correct"),
            "accuracy_new_labels": _share([r for r in upd if r["gold"] in new], "correct"),
        }
    else:
        head = {
            "field_accuracy": _field_share(orig),
            "field_f1": _micro_f1(orig),
            "format_compliance": _share(orig, "compliant"),
            "field_accuracy_updated": _field_share(upd),
            "new_field_accuracy": _field_share(upd, tuple(dataset.new_fields))
            if dataset.new_fields
            else None,
        }
    lat = [r["latency_ms"] for r in records if r["latency_ms"] is not None]
    toks = [r["prompt_tokens"] for r in records]
    return {
        **head,
        "latency_ms_p50": _percentile(lat, 50),
        "latency_ms_p95": _percentile(lat, 95),
        "build_seconds": None if build_seconds is None else round(build_seconds, 3),
        "prompt_tokens_mean": round(statistics.fmean(toks), 1) if toks else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def evaluate_task(
    strategy: str,
    dataset,
    answer_fn: AnswerFn,
    *,
    build_seconds: float | None,
    apply_update: Callable[[], AnswerFn | None] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    batch_size: int = DEFAULT_BATCH,
    latency_queries: int = DEFAULT_LATENCY_QUERIES,
    meta: dict | None = None,
    extra_metrics: dict | None = None,
) -> PrototypeResult:
    """The whole protocol for one row on a TaskDataset -> PrototypeResult (task = its kind).

    `apply_update()` runs once before the update's test set when the dataset has an update; it
    returns the answer function for the update's schema, or None to keep `answer_fn` (a
    fine-tuned model that is deliberately not retrained).
    """
    t0 = time.perf_counter()
    records = answer_cases(
        answer_fn,
        cases(dataset.test, "original", dataset.schema),
        stage=f"{strategy}: test",
        progress=progress,
        cancel=cancel,
        batch_size=batch_size,
        latency_queries=latency_queries,
    )
    upd_meta: dict = {}
    if dataset.update is not None:
        if cancel is not None and cancel.is_set():
            raise JobCancelled(f"{strategy}: cancelled before the update")
        tu = time.perf_counter()
        after = apply_update() if apply_update else None
        upd_meta["update_seconds"] = round(time.perf_counter() - tu, 3)
        records += answer_cases(
            after or answer_fn,
            cases(dataset.update.test, "updated", dataset.update.schema),
            stage=f"{strategy}: updated",
            progress=progress,
            cancel=cancel,
            batch_size=batch_size,
        )
    extra = dict(extra_metrics or {})
    upd = [r for r in records if r["kind"] == "updated"]
    if upd:
        extra.setdefault("format_compliance_updated", _share(upd, "compliant"))
    return PrototypeResult(
        strategy=strategy,
        metrics=task_metrics(records, dataset, build_seconds),
        answers=records,
        extra_metrics=extra,
        meta={
            "dataset": dataset.name,
            "n_examples": {
                "train": len(dataset.train),
                "test": len(dataset.test),
                "update_train_new": len(dataset.new_train),
                "update_test": len(dataset.update.test) if dataset.update else 0,
            },
            "latency_protocol": f"batch size 1 on the first {latency_queries} test examples; "
            f"the rest batched by {batch_size}",
            "eval_seconds": round(time.perf_counter() - t0, 2),
            **upd_meta,
            **(meta or {}),
        },
        task=dataset.kind,
    )
