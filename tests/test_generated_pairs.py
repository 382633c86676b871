"""Issue 18.2: a generated (suggested, then accepted) pair is either trained on or scored,
never both; written pairs are both, as in the demo corpora. Fine-tuning and the hybrid train
only on the training side; every row is scored only on the other."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fakes import HashingEmbedder

from core.errors import CorpusError
from prototype.corpus import QAItem, load_corpus
from prototype.evaluate import corpus_questions
from prototype.fine_tune import closed_book_examples
from prototype.hybrid import HybridSettings, raft_examples
from prototype.index import RagIndex

TINY = Path(__file__).parent / "fixtures" / "tiny_corpus"


@pytest.fixture(scope="module")
def mixed():
    """The tiny corpus plus 12 generated pairs on its documents."""
    c = load_corpus(TINY)
    doc = next(iter(c.docs))
    gen = tuple(
        QAItem(f"g{i:03d}", f"Generated question {i}?", f"value {i}", doc, generated=True)
        for i in range(12)
    )
    return replace(c, qa=c.qa + gen)


def test_each_generated_pair_is_trained_or_scored_never_both(mixed):
    written = {q.id for q in mixed.qa if not q.generated}
    train = {q.id for q in mixed.trainable_qa()}
    scored = {q.id for q in mixed.scored_qa()}
    gen = {q.id for q in mixed.qa if q.generated}
    assert written <= train and written <= scored  # written pairs: both, as before
    assert not (train & scored & gen)  # generated: never both
    assert (train | scored) >= gen  # and none is lost
    assert 3 <= len(train & gen) <= 9  # a split, not all on one side
    asked = {q.qid for q in corpus_questions(mixed, ("original",))}
    assert asked == scored


def test_fine_tuning_and_hybrid_train_only_on_the_training_side(mixed):
    train_q = {q.question for q in mixed.trainable_qa()}
    scored_gen = {q.question for q in mixed.scored_qa() if q.generated}
    prompts = [r.messages[-1]["content"] for r in closed_book_examples(mixed, augment=False)]
    assert len(prompts) == len(train_q)
    assert not any(q in p for p in prompts for q in scored_gen)
    index = RagIndex.build(mixed.docs, HashingEmbedder())
    rows, trained = raft_examples(mixed, index, replace(HybridSettings(), train_share=1.0))
    assert set(trained) == {q.id for q in mixed.trainable_qa()}
    assert not any(q in r.messages[-1]["content"] for r in rows for q in scored_gen)


def test_no_trainable_pair_is_a_clear_error():
    from prototype.fine_tune import run_fine_tuning

    c = load_corpus(TINY)
    c = replace(c, qa=tuple(replace(q, generated=True) for q in c.qa))
    c = replace(c, qa=c.scored_qa())  # only the scoring side left
    assert closed_book_examples(c) == []
    with pytest.raises(CorpusError, match="no question-answer pairs to train on"):
        run_fine_tuning(c)
