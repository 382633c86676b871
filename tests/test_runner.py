"""The shared evaluation protocol and the runner's dispatch: fake answer functions for the
plumbing (exact numbers worked out by hand), real models for the no-qa.jsonl case."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from core.errors import ConfigError, JobCancelled
from core.prototype_result import METRIC_KEYS
from prototype.corpus import load_corpus
from prototype.evaluate import Answer, corpus_questions, evaluate_strategy

TINY = Path(__file__).parent / "fixtures" / "tiny_corpus"


def constant_answerer(raw: str, calls: list | None = None):
    def answer(questions):
        if calls is not None:
            calls.append(len(questions))
        return [
            Answer(raw, prompt_tokens=10, seconds=0.002, retrieved=("opening_hours",))
            for _ in questions
        ]

    return answer


def test_protocol_numbers_by_hand():
    corpus = load_corpus(TINY)
    calls: list[int] = []
    updates: list[int] = []
    after_calls: list[int] = []

    def apply_update():
        updates.append(1)
        return constant_answerer('{"answer": "07:30", "source": "opening_hours"}', after_calls)

    res = evaluate_strategy(
        "fake",
        corpus,
        constant_answerer('{"answer": "06:15", "source": "opening_hours"}', calls),
        build_seconds=1.5,
        apply_update=apply_update,
        batch_size=4,
        latency_queries=3,
    )
    m = res.metrics
    assert set(METRIC_KEYS) <= set(m)
    # 6 originals: only t1 (06:15) is right; 12 paraphrases: t1's two.
    assert m["accuracy"] == round(1 / 6, 4)
    assert m["accuracy_paraphrased"] == round(2 / 12, 4)
    # the update changes t1 (-> 07:30) and t5: the new answerer is right on t1 only.
    assert m["accuracy_updated"] == 0.5
    assert m["format_compliance"] == 1.0
    # opening_hours is the gold doc of t1 and t2: 2 originals + 4 paraphrases of 18.
    assert m["source_accuracy"] == round(6 / 18, 4)
    assert m["build_seconds"] == 1.5 and m["prompt_tokens_mean"] == 10
    assert m["latency_ms_p50"] == 2.0  # only the 3 batch-1 queries are timed
    assert sum(r["latency_ms"] is not None for r in res.answers) == 3
    # one unscored warm-up query, 3 timed one at a time, the rest in batches of 4
    assert calls[:4] == [1, 1, 1, 1] and max(calls) == 4 and sum(calls) == 19
    assert updates == [1] and sum(after_calls) == 2
    kinds = [r["kind"] for r in res.answers]
    assert kinds.count("original") == 6 and kinds.count("paraphrase") == 12
    assert kinds.count("updated") == 2
    rec = res.answers[0]
    assert {
        "id",
        "kind",
        "question",
        "raw",
        "answer",
        "source",
        "correct",
        "compliant",
        "retrieved",
        "latency_ms",
    } <= set(rec)
    assert res.to_dict()["metrics"]["accuracy"] == m["accuracy"]


def test_raw_text_is_scored_as_generated():
    """A right fact outside the JSON counts as known but not compliant, and has no source."""
    corpus = load_corpus(TINY)
    res = evaluate_strategy(
        "fake", corpus, constant_answerer("It opens at 06:15."), build_seconds=0.0
    )
    assert res.metrics["accuracy"] == round(1 / 6, 4)
    assert res.metrics["format_compliance"] == 0.0
    assert res.metrics["source_accuracy"] == 0.0


def test_progress_and_cancel():
    corpus = load_corpus(TINY)
    seen: list[tuple] = []
    evaluate_strategy(
        "fake",
        corpus,
        constant_answerer("{}"),
        build_seconds=0.0,
        progress=lambda *a: seen.append(a),
    )
    stages = {s for s, *_ in seen}
    assert stages == {"fake: original", "fake: paraphrase", "fake: updated"}
    assert ("fake: original", 6, 6) in [s[:3] for s in seen]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        evaluate_strategy("fake", corpus, constant_answerer("{}"), build_seconds=0.0, cancel=cancel)


def test_questions_carry_new_gold_after_update():
    qs = corpus_questions(load_corpus(TINY), ("updated",))
    assert {(q.qid, q.gold) for q in qs} == {("t1", "07:30"), ("t5", "Fenwick Dale")}


def test_unknown_strategy_is_a_config_error():
    from prototype.runner import run_strategy

    with pytest.raises(ConfigError, match="strategy"):
        run_strategy("telepathy", load_corpus(TINY), device="cpu")


@pytest.mark.parametrize(("question", "msg"), [("  ", "empty"), ("why " * 400, "at most 1,000")])
def test_live_question_empty_or_huge_is_a_config_error(question, msg):
    from prototype.runner import answer_live

    with pytest.raises(ConfigError, match=msg):  # rejected before any model loads
        answer_live("rag+constrained", load_corpus(TINY), question, "cpu")


@pytest.mark.parametrize(
    ("strategy", "module", "func"),
    [
        ("fine_tuning", "prototype.fine_tune", "run_fine_tuning"),
        ("hybrid", "prototype.hybrid", "run_hybrid"),
    ],
)
def test_dispatch_to_fine_tuning_and_hybrid(monkeypatch, strategy, module, func):
    import importlib

    from prototype.runner import run_strategy

    got = {}
    monkeypatch.setattr(
        importlib.import_module(module),
        func,
        lambda corpus, **kw: got.update(corpus=corpus, **kw) or "result",
    )
    corpus = load_corpus(TINY)
    assert run_strategy(strategy, corpus, device="cpu") == "result"
    assert got["corpus"] is corpus and got["device"] == "cpu"


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["rag", "base"])
def test_corpus_without_qa_gives_none_metrics(tmp_path, strategy):
    shutil.copytree(TINY / "docs", tmp_path / "docs")
    corpus = load_corpus(tmp_path)
    assert corpus.qa is None
    from prototype.runner import run_strategy

    res = run_strategy(strategy, corpus, device="cpu")
    for key in (
        "accuracy",
        "accuracy_paraphrased",
        "accuracy_updated",
        "format_compliance",
        "source_accuracy",
        "latency_ms_p50",
    ):
        assert res.metrics[key] is None, key
    assert res.answers == []
    if strategy == "rag":
        assert res.metrics["build_seconds"] > 0 and res.meta["index"]["chunks"] >= 3


# ------------------------------------------------------------------ the row registry
@pytest.fixture
def toy_row():
    """A toy row registered in both registries (spec and runner), removed after the test. It
    answers from the corpus itself: the stored answer of a question it finds verbatim in
    qa.jsonl, nothing otherwise. No model is loaded."""
    from core.registry import ROWS, RowSpec
    from prototype.rows import register_row, unregister_row

    ROWS.register(RowSpec("toy", "Toy oracle", "#000000", None, "Looks answers up."))

    @register_row("toy")
    def run_toy(corpus, ctx):
        gold = {q.question: (q.answer, q.doc) for q in corpus.qa}

        def answer(questions):
            out = []
            for q in questions:
                a, doc = gold.get(q, ("", ""))
                out.append(Answer(f'{{"answer": "{a}", "source": "{doc}"}}', 5, 0.001))
            return out

        return evaluate_strategy(
            "toy",
            corpus,
            answer,
            build_seconds=0.0,
            progress=ctx.progress,
            cancel=ctx.cancel,
            meta={"ctx": {"device": ctx.device, "retrain": ctx.retrain, "augment": ctx.augment}},
        )

    try:
        yield "toy"
    finally:
        unregister_row("toy")
        ROWS.unregister("toy")


def test_a_registered_row_runs_through_run_strategy(toy_row):
    from prototype.runner import run_all, run_strategy

    corpus = load_corpus(TINY)
    seen: list[tuple] = []
    res = run_strategy(toy_row, corpus, "cpu", lambda *a: seen.append(a), retrain=True)
    assert res.strategy == "toy"
    m = res.metrics
    assert m["accuracy"] == 1.0  # every original question is found verbatim
    assert m["accuracy_paraphrased"] == 0.0  # no paraphrase is
    assert m["accuracy_updated"] == 0.0  # it still gives the old answers of t1 and t5
    assert m["source_accuracy"] == round(6 / 18, 4)  # the 6 originals of 18 questions
    assert res.meta["ctx"] == {"device": "cpu", "retrain": True, "augment": True}
    assert ("toy: original", 6, 6) in [s[:3] for s in seen]  # progress reaches the row
    [again] = run_all(corpus, "cpu", strategies=(toy_row,))
    assert again.metrics == {**m, "peak_rss_mb": again.metrics["peak_rss_mb"]}


def test_a_row_unknown_to_the_registry_is_a_config_error(toy_row):
    from prototype.rows import register_row, unregister_row
    from prototype.runner import run_strategy

    with pytest.raises(ConfigError, match="telepathy"):
        register_row("telepathy")  # no RowSpec: refused at registration
    unregister_row(toy_row)  # a spec without a runner cannot run either
    with pytest.raises(ConfigError, match="'toy'"):
        run_strategy(toy_row, load_corpus(TINY), device="cpu")


def test_extractive_row_needs_the_local_generator(monkeypatch):
    """Through an endpoint the free rows work (tests/test_backbone.py); the span search needs
    the local model's logits, and says so before any model loads."""
    from prototype.runner import answer_live

    monkeypatch.setenv("FTRAG_ENDPOINT", "http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match=r"rag\+constrained needs the local generator"):
        answer_live("rag+constrained", load_corpus(TINY), "Who bakes the rye?", "cpu")
