"""Hybrid (RAFT-style) prototype: training rows built from retrieval, and a real run on the tiny
corpus asserting the point of the hybrid: fresh after the update (the adapter is NOT
retrained) and in the answer format."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import JobCancelled
from prototype.corpus import load_corpus
from prototype.hybrid import HybridSettings
from prototype.lora import LoraSettings
from prototype.scoring import parse_answer_format

TINY = Path(__file__).parent / "fixtures" / "tiny_corpus"
AURORA = Path(__file__).parents[1] / "data" / "corpora" / "aurora_handbook"
# 4 of the 6 questions trained, so the 2 changed facts are read from context after the update.
FAST = HybridSettings(
    lora=LoraSettings(
        rank=16,
        alpha=32,
        top_layers=4,
        lr=4e-3,
        batch_size=8,
        max_epochs=10,
        stop_at=1.0,
        augment=False,
        warmup_steps=2,
    ),
    train_share=0.67,
    variants=2,
)


class FakeEmbedder:
    """Deterministic bag-of-words vectors: enough to rank the tiny corpus's chunks."""

    def get_sentence_embedding_dimension(self):
        return 64

    def encode(self, texts, **kw):
        import numpy as np

        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, hash(w.strip(".,?:")) % 64] += 1
        out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
        return out


@pytest.fixture(scope="module")
def tiny():
    return load_corpus(TINY)


def test_raft_rows_hold_oracle_and_distractors(tiny):
    from prototype.hybrid import raft_examples
    from prototype.index import RagIndex

    index = RagIndex.build(tiny.docs, FakeEmbedder())
    # ids as they are (renaming is tested below), so each row can be traced to its question
    hs = replace(
        FAST, p_oracle=0.8, train_share=1.0, variants=4, counterfactual=0.5, rename_docs=0.0
    )
    rows, trained = raft_examples(tiny, index, hs)
    assert len(trained) == len(tiny.qa) and len(rows) == 4 * len(tiny.qa)
    by_q = {q.question: q for q in tiny.qa}
    n_oracle = n_counterfactual = 0
    for r in rows:
        user = r.messages[-1]["content"]
        q = by_q[user.rsplit("Question: ", 1)[1]]
        docs = [ln.split(": ", 1)[1] for ln in user.splitlines() if ln.startswith("Document: ")]
        assert any(d != q.doc for d in docs)  # at least one distractor from another document
        fmt = parse_answer_format(r.target)
        assert fmt.compliant and fmt.source == q.doc
        fmt_ans = parse_answer_format(r.target).answer
        has = fmt_ans in user  # the target is always readable from an oracle row's context
        assert r.original == has  # the exact-match stop only counts rows it can copy from
        n_oracle += has
        n_counterfactual += has and fmt_ans != q.answer
        assert not any(p in user for p in q.paraphrases)
    assert 0.5 <= n_oracle / len(rows) < 1.0  # RAFT: mostly, not always, the oracle
    assert 0 < n_counterfactual < n_oracle  # some oracle passages carry a swapped answer


def test_rows_show_a_reader_pick_right_in_about_the_set_share(tiny):
    """Every oracle row shows the reader's pick; about `hint_right` of them show the target,
    the rest a wrong span of the context (never the target), and the target stays the value
    the passage states."""
    from prototype.hybrid import raft_examples
    from prototype.index import RagIndex

    index = RagIndex.build(tiny.docs, FakeEmbedder())
    hs = replace(FAST, train_share=1.0, variants=20, hint_right=0.7)
    rows, _ = raft_examples(tiny, index, hs)
    right = wrong = 0
    for r in rows:
        user = r.messages[-1]["content"]
        assert "Reader's pick: " in user
        pick = user.split("Reader's pick: \"", 1)[1].split('"', 1)[0]
        target = parse_answer_format(r.target).answer
        assert target in user.split("Reader's pick:", 1)[0]  # readable from the passages
        right += pick == target
        wrong += pick != target and target not in pick
    assert right + wrong == len(rows)
    assert 0.55 <= right / len(rows) <= 0.85


def test_renamed_rows_cite_the_id_shown_over_the_answer(tiny):
    """With `rename_docs`, ids are permuted per row, so the target cites the id printed over
    the passage that states the answer (and the pick carries it), not the question's own
    document: the adapter must copy the id, it cannot learn which topic lives where."""
    from prototype.hybrid import raft_examples
    from prototype.index import RagIndex

    index = RagIndex.build(tiny.docs, FakeEmbedder())
    hs = replace(FAST, train_share=1.0, variants=10, rename_docs=1.0, hint_right=1.0)
    rows, _ = raft_examples(tiny, index, hs)
    by_q = {q.question: q for q in tiny.qa}
    moved = 0
    for r in rows:
        user = r.messages[-1]["content"]
        q = by_q[user.rsplit("Question: ", 1)[1]]
        fmt = parse_answer_format(r.target)
        blocks = user.split("Reader's pick:", 1)[0].split("Document: ")[1:]
        stating = [b.split("\n", 1)[0] for b in blocks if fmt.answer in b.split("\n", 1)[1]]
        assert fmt.source in stating  # a passage under the cited id states the answer
        assert f'"{fmt.answer}" ({fmt.source})' in user  # the pick names the same id
        assert fmt.source in tiny.docs  # a real id of the corpus, permuted
        moved += fmt.source != q.doc
    assert moved / len(rows) > 0.3  # most rows cite another id than the question's document
    plain, _ = raft_examples(tiny, index, replace(hs, rename_docs=0.0))
    assert all(
        parse_answer_format(r.target).source
        == by_q[r.messages[-1]["content"].rsplit("Question: ", 1)[1]].doc
        for r in plain
    )


def test_training_hint_prefers_the_readers_typical_mistake():
    """A wrong pick is the span the reader's evidence ranks best apart from the answer: the
    other clock time of the same sentence, not a random word."""
    import random

    from prototype.hybrid import _training_hint
    from prototype.passages import Passage

    ctx = [Passage("hours", "On Saturday the doors open at 08:50 and close at 12:10.", 1.0)]
    q = "What time do the doors close on Saturday?"
    rng = random.Random(0)
    assert _training_hint(q, ctx, "12:10", "hours", 1.0, rng) == ("12:10", "hours")
    assert _training_hint(q, ctx, "12:10", "hours", 0.0, rng) == ("08:50", "hours")


@pytest.mark.parametrize(
    ("answer", "source", "ok"),
    [
        ("12:10", "hours", True),  # copied from the shown sentence
        ("12.10", "hours", False),  # a value the context does not hold
        ("2:10", "hours", False),  # part of a token is not a copy
        ("hours", "hours", False),  # the document id written as the answer
        ("12:10", "fees", False),  # a source that was not shown
        ("", "hours", False),
    ],
)
def test_grounded_answer_is_copied_from_a_shown_passage(answer, source, ok):
    from prototype.hybrid import grounded
    from prototype.passages import Passage

    ctx = [Passage("hours", "On Saturday the doors open at 08:50 and close at 12:10.", 1.0)]
    assert grounded(answer, source, ctx) is ok


def test_ungrounded_answer_falls_back_to_the_readers_pick():
    """A well-formed answer the passages do not hold is replaced by the pick (the adapter's
    text kept); a malformed one is left alone, so format compliance stays the adapter's."""
    from prototype.candidates import Candidate
    from prototype.generate import Generation
    from prototype.hybrid import hybrid_answer_fn
    from prototype.passages import Passage

    ctx = [Passage("hours", "On Saturday the doors open at 08:50 and close at 12:10.", 1.0)]
    pick = Candidate("12:10", "hours", 0.0, 0, 9, confidence=0.8)

    class Reader:
        def __init__(self, twice: bool = False):
            # RagReader's (first, second) pick when the last pick_span looked twice
            self.last_look = (None, pick) if twice else None

        def pick_span(self, q):
            return pick, "", ctx, ("hours",)

    class Gen:
        def __init__(self, *replies):
            self.replies = iter(replies)

        def generate(self, chats, max_new_tokens):
            return [Generation(next(self.replies), 10, 3, 0.0) for _ in chats]

    right = '{"answer": "12:10", "source": "hours"}'
    wrong = '{"answer": "12:40", "source": "hours"}'
    fn = hybrid_answer_fn(Gen(right, wrong, "closes at 12:40"), Reader(), ground="passages")
    kept, replaced, malformed = (fn(["When do the doors close?"])[0] for _ in range(3))
    assert kept.raw == right and "adapter_raw" not in kept.extra
    assert "second_look" not in kept.extra
    (twice,) = hybrid_answer_fn(Gen(right), Reader(twice=True), ground="passages")(["q"])
    assert twice.extra["second_look"] is True  # the pick it was handed was read twice
    assert parse_answer_format(replaced.raw).answer == "12:10"
    assert replaced.extra["adapter_raw"] == wrong
    assert malformed.raw == "closes at 12:40" and "adapter_raw" not in malformed.extra
    off = hybrid_answer_fn(Gen(wrong), Reader(), ground="off")
    assert off(["q"])[0].raw == wrong
    # "pick" (the default): an answer read from the passages that is not the pick, or the
    # pick under another source, takes the pick; the pick itself, in any case, is kept.
    other = '{"answer": "08:50", "source": "hours"}'
    elsewhere = '{"answer": "12:10", "source": "clinic"}'
    same = '{"answer": "12:10", "source": "hours"}'
    fn = hybrid_answer_fn(Gen(other, elsewhere, same, "closes at 12:40"), Reader())
    got = [fn(["When do the doors close?"])[0] for _ in range(4)]
    assert [parse_answer_format(a.raw).answer for a in got[:3]] == ["12:10"] * 3
    assert parse_answer_format(got[1].raw).source == "hours"
    assert [a.extra.get("adapter_raw") for a in got] == [other, elsewhere, None, None]
    assert got[3].raw == "closes at 12:40"
    # the pick's confidence goes with every answer that is the pick, and with no other
    assert [a.extra.get("confidence") for a in got] == [0.8, 0.8, 0.8, None]
    off = hybrid_answer_fn(Gen(wrong, right), Reader(), ground="off")
    assert [off(["q"])[0].extra.get("confidence") for _ in range(2)] == [None, 0.8]
    with pytest.raises(ValueError, match="ground"):
        hybrid_answer_fn(Gen(), Reader(), ground="sometimes")
    with pytest.raises(ValueError, match="`ground` must be one of"):
        HybridSettings(ground=True)  # the old switch, refused before any training


def test_counterfactual_answer_has_the_same_kind():
    """A swapped-in answer is another trained question's answer of the same asked-for type:
    a time for a "when" question, a name for a "who" question, never a time for a "who"."""
    import random
    from types import SimpleNamespace as Q

    from prototype.hybrid import _same_kind_answer

    qa = [
        Q(question="When does the shop open?", answer="06:15"),
        Q(question="When does the market start?", answer="09:00"),
        Q(question="Who bakes the rye?", answer="Mira Tosk"),
        Q(question="Who runs the till?", answer="Olek Brand"),
        Q(question="How many loaves a day?", answer="300 loaves"),
    ]
    rng = random.Random(0)
    for _ in range(20):
        assert _same_kind_answer(qa[0], qa, rng) == "09:00"
        assert _same_kind_answer(qa[2], qa, rng) == "Olek Brand"
    # A kind asked once: an invented value of the same shape, never a name or another answer.
    for _ in range(20):
        alt = _same_kind_answer(qa[4], qa, rng)
        assert alt.endswith(" loaves") and alt != "300 loaves" and alt[:3].isdigit()
    # A measured value (an unseen or a changed answer) is never swapped in.
    assert _same_kind_answer(qa[0], qa, rng, avoid=frozenset({"9:00"})) != "09:00"


@pytest.mark.parametrize("corpus_dir", [TINY, AURORA], ids=["tiny", "aurora"])
def test_counterfactual_values_never_come_from_unseen_or_changed_questions(corpus_dir):
    """The hybrid's unseen questions measure reading, so their answers (and the update's new
    answers) must never appear in a training row: every swapped value is a trained question's
    answer or an invented one."""
    from prototype.hybrid import raft_examples
    from prototype.index import RagIndex
    from prototype.scoring import contains_gold

    corpus = load_corpus(corpus_dir)
    index = RagIndex.build(corpus.docs, FakeEmbedder())
    hs = replace(FAST, train_share=0.5, variants=3, counterfactual=1.0, p_oracle=1.0)
    rows, trained = raft_examples(corpus, index, hs)
    measured = [q for q in corpus.qa if q.id not in trained] + list(corpus.changed_qa())
    trained_answers = {q.answer for q in corpus.qa if q.id in trained}
    swapped = 0
    for r in rows:
        answer = parse_answer_format(r.target).answer
        user = r.messages[-1]["content"]
        q = next(q for q in corpus.qa if user.endswith(f"Question: {q.question}"))
        if answer == q.answer:
            continue
        swapped += 1
        assert answer in trained_answers or not any(
            contains_gold(answer, m.answer, m.aliases) for m in measured
        ), (q.id, answer)
    assert swapped > 0


# ------------------------------------------------------------------ real model
# What the hybrid reaches on this 6-question corpus is recorded honestly, not hoped for. With
# every trained passage counterfactual (prototype.hybrid), measured over three runs on
# 2026-11-25: accuracy_updated 0.5 each time, format_compliance 0.89-1.00, accuracy 0.17-0.50
# (4 trained questions are too few to learn reading well; aurora_handbook, with 30, reaches
# 0.69). The thresholds below are what it reliably does.


@pytest.fixture(scope="module")
def hybrid_run(tiny, tmp_path_factory):
    from prototype.hybrid import run_hybrid

    calls: list = []
    result = run_hybrid(
        tiny,
        device="cpu",
        settings=FAST,
        adapter_root=tmp_path_factory.mktemp("raft"),
        progress=lambda *a: calls.append(a),
    )
    return result, calls


@pytest.mark.slow
def test_hybrid_reads_the_update_without_retraining(hybrid_run, tiny):
    r, _ = hybrid_run
    assert r.meta["update"]["adapter_retrained"] is False
    assert set(r.meta["update"]["docs_changed"]) == set(tiny.changed_doc_ids())
    # At least one of the two changed facts is answered from the re-indexed context.
    assert r.metrics["accuracy_updated"] >= 0.5


@pytest.mark.slow
def test_hybrid_learns_the_format(hybrid_run):
    r, calls = hybrid_run
    m = r.metrics
    assert m["format_compliance"] >= 0.7  # the untrained base model scores ~0 here
    assert 0 <= r.extra_metrics["reader_fallback_share"] <= 1
    # an answer that is the reader's pick carries the pick's confidence
    confs = [a["extra"]["confidence"] for a in r.answers if "confidence" in a["extra"]]
    assert confs and all(0 < c <= 1 for c in confs)
    assert 0 <= r.extra_metrics["confident_share"] <= 1
    assert m["accuracy"] > 0  # the closed-book base model scores 0 here
    assert any("loss" in info for *_, info in calls)


@pytest.mark.slow
def test_hybrid_cancel(tiny, tmp_path):
    from prototype.hybrid import run_hybrid

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        run_hybrid(tiny, device="cpu", settings=FAST, adapter_root=tmp_path, cancel=cancel)
