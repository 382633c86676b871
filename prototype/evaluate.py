"""The one evaluation loop every prototype strategy shares (base, RAG, fine-tuning, hybrid).

A strategy supplies an *answer function* (a batch of questions -> raw generations); this module
asks the questions, scores the raw text exactly as generated (never repaired), and builds the
PrototypeResult with every metric of the architecture contract. Protocol:

1. `original`   : every question in qa.jsonl                       -> accuracy
2. `paraphrase` : every paraphrase of those questions              -> accuracy_paraphrased
3. the corpus update is applied (`apply_update`, e.g. RAG re-indexes the changed docs only)
4. `updated`    : the questions whose gold answer changed, scored against the NEW gold
                                                                   -> accuracy_updated
format_compliance and source_accuracy are over phases 1+2 (pre-update originals + paraphrases).

Latency is measured per single query (batch size 1) on the first `latency_queries` original
questions, after one unscored warm-up query (lazy set-up such as a reader's cached system
prompt is not a query's cost); the remaining questions are answered in batches to keep CPU
runs short, and their amortised time is *not* used for the latency percentiles (batching
changes per-query time).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import JobCancelled
from core.progress import Progress
from core.prototype_result import PrototypeResult, peak_rss_mb
from core.review import with_confidence

KINDS = ("original", "paraphrase", "updated")
DEFAULT_BATCH = 8
DEFAULT_LATENCY_QUERIES = 10


@dataclass(frozen=True)
class Answer:
    """One raw generation returned by a strategy's answer function."""

    raw: str  # the model's text exactly as generated
    prompt_tokens: int
    seconds: float  # wall time attributed to this question (amortised when batched)
    retrieved: tuple[str, ...] = ()  # doc ids shown to the model (RAG / hybrid), best first
    extra: dict = field(default_factory=dict)  # strategy-specific details, kept in the record


AnswerFn = Callable[[Sequence[str]], list[Answer]]


@dataclass(frozen=True)
class Question:
    qid: str
    kind: str  # one of KINDS
    question: str
    gold: str
    aliases: tuple[str, ...]
    doc: str  # gold source document id


def corpus_questions(corpus, kinds: Sequence[str] = ("original", "paraphrase")) -> list[Question]:
    """The questions of the protocol for `kinds`; empty when the corpus has no qa.jsonl."""
    if corpus.qa is None:
        return []
    out: list[Question] = []
    scored = corpus.scored_qa()  # a generated pair trained on is never scored (issue 18)
    if "original" in kinds:
        out += [Question(q.id, "original", q.question, q.answer, q.aliases, q.doc) for q in scored]
    if "paraphrase" in kinds:
        for q in scored:
            out += [
                Question(f"{q.id}.p{i}", "paraphrase", p, q.answer, q.aliases, q.doc)
                for i, p in enumerate(q.paraphrases, 1)
            ]
    if "updated" in kinds:
        # changed_qa() already carries the NEW gold answer and aliases.
        out += [
            Question(q.id, "updated", q.question, q.answer, q.aliases, q.doc)
            for q in corpus.changed_qa()
        ]
    return out


def score_record(q: Question, a: Answer, latency_measured: bool) -> dict:
    """One per-answer record (the contract's fields): the raw text plus every verdict scoring
    read from it (rules in prototype/scoring.py)."""
    from prototype.scoring import AnswerRecord, score_answer

    # Accuracy reads the parsed answer when the format is compliant, the raw text otherwise,
    # so a right fact in a broken wrapper still counts as known (format is scored apart); a
    # changed fact also needs the right source.
    s = score_answer(AnswerRecord(a.raw, q.gold, q.aliases, q.doc, q.question, q.kind))
    return {
        "id": q.qid,
        "kind": q.kind,
        "question": q.question,
        "raw": a.raw,
        "answer": s.answer,
        "source": s.source,
        "gold": q.gold,
        "aliases": list(q.aliases),
        "gold_doc": q.doc,
        "correct": bool(s.correct),
        "content_correct": bool(s.content_correct),
        "exact": bool(s.exact),
        "f1": s.f1,
        "compliant": s.compliant,
        "source_correct": bool(s.source_correct),
        "retrieved": list(a.retrieved),
        "latency_ms": round(a.seconds * 1000, 1) if latency_measured else None,
        "prompt_tokens": a.prompt_tokens,
        **({"extra": a.extra} if a.extra else {}),
    }


def answer_questions(
    answer_fn: AnswerFn,
    questions: Sequence[Question],
    *,
    stage: str,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    batch_size: int = DEFAULT_BATCH,
    latency_queries: int = 0,
    text: Callable[[Any], str] = lambda q: q.question,
    score: Callable[[Any, Answer, bool], dict] | None = None,
) -> list[dict]:
    """Answer `questions` (first `latency_queries` one at a time, then batched) -> records.

    `cancel` is checked before every batch; a set event raises JobCancelled. `text` and
    `score` (default: a question's text, `score_record`) let a behaviour task's examples go
    through the same loop (`prototype.task_eval`).
    """
    score = score or score_record
    records: list[dict] = []
    i, n = 0, len(questions)
    if progress:
        progress(stage, 0, n, {})
    if latency_queries and questions:
        answer_fn([text(questions[0])])  # warm-up, not scored (module docstring)
    while i < n:
        if cancel is not None and cancel.is_set():
            raise JobCancelled(f"{stage}: cancelled after {i} of {n}")
        size = 1 if i < latency_queries else max(1, batch_size)
        chunk = questions[i : i + size]
        answers = answer_fn([text(q) for q in chunk])
        if len(answers) != len(chunk):
            raise RuntimeError(f"answer function returned {len(answers)} for {len(chunk)}")
        records += [
            score(q, a, size == 1 and i < latency_queries)
            for q, a in zip(chunk, answers, strict=True)
        ]
        i += len(chunk)
        if progress:  # the new records too, so the app can stream answers as they come
            info = {
                "correct": sum(r["correct"] for r in records),
                "answers": records[-len(chunk) :],
            }
            progress(stage, i, n, info)
    return records


def _share(records: list[dict], key: str) -> float | None:
    """Mean of `key` over the records (a verdict counts 1 or 0; F1 its value)."""
    return round(sum(float(r[key] or 0) for r in records) / len(records), 4) if records else None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


def metrics_from_records(
    records: list[dict], build_seconds: float | None, has_gold: bool = True
) -> dict:
    """Every METRIC_KEYS entry from per-answer records. Gold-based metrics are None without
    qa.jsonl (never invented); accuracy_updated is None when the corpus has no update."""
    by = {k: [r for r in records if r["kind"] == k] for k in KINDS}
    pre = by["original"] + by["paraphrase"]
    lat = [r["latency_ms"] for r in records if r["latency_ms"] is not None]
    toks = [r["prompt_tokens"] for r in records]
    gold = (lambda rs, key: _share(rs, key)) if has_gold else (lambda rs, key: None)
    return {
        "accuracy": gold(by["original"], "correct"),
        "accuracy_paraphrased": gold(by["paraphrase"], "correct"),
        "accuracy_updated": gold(by["updated"], "correct"),
        "exact_match": gold(by["original"], "exact"),
        "token_f1": gold(by["original"], "f1"),
        "format_compliance": _share(pre, "compliant"),
        "source_accuracy": gold(pre, "source_correct"),
        "latency_ms_p50": _percentile(lat, 50),
        "latency_ms_p95": _percentile(lat, 95),
        "build_seconds": None if build_seconds is None else round(build_seconds, 3),
        "prompt_tokens_mean": round(statistics.fmean(toks), 1) if toks else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def strict_extras(records: list[dict]) -> dict:
    """Beside the contract's metrics: exact match and token F1 of the paraphrased and the
    changed questions, and the changed facts stated right from any source (what
    `accuracy_updated` would be without its source check), for a row that cites none."""
    out: dict = {}
    for kind, tag in (("paraphrase", "paraphrased"), ("updated", "updated")):
        rs = [r for r in records if r["kind"] == kind]
        if rs:
            out[f"exact_match_{tag}"] = _share(rs, "exact")
            out[f"token_f1_{tag}"] = _share(rs, "f1")
    upd = [r for r in records if r["kind"] == "updated"]
    if upd:
        out["accuracy_updated_any_source"] = _share(upd, "content_correct")
    return out


def confidence_metrics(records: list[dict]) -> dict:
    """How far the extractive reader's confidence can be trusted (prototype.extract's bands):
    the share of scored answers it is confident about and their accuracy, and the same for
    those it is unsure of. {} when no record carries a confidence."""
    from prototype.extract import confidence_band

    rs = with_confidence(records)
    if not rs:
        return {}
    out: dict = {}
    for band in ("confident", "unsure"):
        group = [r for r in rs if confidence_band(r["extra"]["confidence"]) == band]
        out[f"{band}_share"] = round(len(group) / len(rs), 4)
        out[f"accuracy_{band}"] = _share(group, "correct")
    return out


def second_look_share(records: list[dict]) -> float:
    """Share of the records whose pick the extractive reader read twice (RagReader's second
    look); the reader's and the hybrid's runs both report it."""
    return round(sum(bool(r.get("extra", {}).get("second_look")) for r in records)
                 / max(1, len(records)), 4)  # fmt: skip


def evaluate_strategy(
    strategy: str,
    corpus,
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
    """Run the whole protocol for one strategy and return its PrototypeResult.

    `apply_update()` is called once after the pre-update phases when the corpus has an
    update; it applies the update (e.g. re-indexes changed docs) and returns the answer
    function to use afterwards, or None to keep `answer_fn` (a fine-tuned model that is
    deliberately not retrained: the freshness gap).
    """
    t0 = time.perf_counter()
    pre = corpus_questions(corpus, ("original", "paraphrase"))
    records = answer_questions(
        answer_fn,
        [q for q in pre if q.kind == "original"],
        stage=f"{strategy}: original",
        progress=progress,
        cancel=cancel,
        batch_size=batch_size,
        latency_queries=latency_queries,
    )
    records += answer_questions(
        answer_fn,
        [q for q in pre if q.kind == "paraphrase"],
        stage=f"{strategy}: paraphrase",
        progress=progress,
        cancel=cancel,
        batch_size=batch_size,
    )
    upd_meta: dict = {}
    has_update = bool(corpus.update_docs or corpus.update_qa)
    if has_update:
        if cancel is not None and cancel.is_set():
            raise JobCancelled(f"{strategy}: cancelled before the update")
        tu = time.perf_counter()
        after = apply_update() if apply_update else None
        upd_meta["update_seconds"] = round(time.perf_counter() - tu, 3)
        upd_q = corpus_questions(corpus, ("updated",))
        records += answer_questions(
            after or answer_fn,
            upd_q,
            stage=f"{strategy}: updated",
            progress=progress,
            cancel=cancel,
            batch_size=batch_size,
        )
    has_gold = corpus.qa is not None
    metrics = metrics_from_records(records, build_seconds, has_gold=has_gold)
    return PrototypeResult(
        strategy=strategy,
        metrics=metrics,
        answers=records,
        extra_metrics={**(strict_extras(records) if has_gold else {}), **(extra_metrics or {})},
        meta={
            "corpus": corpus.name,
            "n_docs": len(corpus.docs),
            "n_questions": {k: sum(r["kind"] == k for r in records) for k in KINDS},
            "latency_protocol": f"batch size 1 on the first {latency_queries} original "
            f"questions; the rest batched by {batch_size}",
            "eval_seconds": round(time.perf_counter() - t0, 2),
            **upd_meta,
            **(meta or {}),
        },
    )
