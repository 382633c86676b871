"""An uploaded corpus with its golden set and update saves in the corpus layout and loads back
exactly; saving never overwrites unless forced, and a forced save drops stale parts."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import CorpusError
from prototype.corpus import UpdateItem, corpus_from_uploads, load_corpus
from prototype.corpus_write import save_corpus

QA = (
    b'{"id": "q001", "question": "How long?", "answer": "14 days", "doc": "refunds", '
    b'"paraphrases": [], "aliases": ["two weeks"]}\n'
    b'{"id": "q002", "question": "Which fee?", "answer": "12 EUR", "doc": "fees", '
    b'"paraphrases": [], "generated": true}\n'
)


def _corpus():
    c = corpus_from_uploads(
        {
            "refunds.md": b"# Refunds\n\nWithin 14 days.",
            "fees.md": b"# Fees\n\nA change fee of 12 EUR.",
            "qa.jsonl": QA,
        },
        name="upload",
    )
    fees = dataclasses.replace(c.docs["fees"], text="# Fees\n\nA change fee of 15 EUR.")
    return dataclasses.replace(
        c, update_docs={"fees": fees}, update_qa={"q002": UpdateItem("q002", "15 EUR")}
    )


def test_saved_corpus_loads_back(tmp_path):
    c = _corpus()
    back = load_corpus(save_corpus(c, tmp_path / "mine"))
    assert {d: v.text for d, v in back.docs.items()} == {d: v.text for d, v in c.docs.items()}
    assert [(q.id, q.answer, q.aliases, q.generated) for q in back.qa] == [
        ("q001", "14 days", ("two weeks",), False),
        ("q002", "12 EUR", (), True),
    ]
    assert back.changed_doc_ids() == ("fees",)
    assert [q.answer for q in back.changed_qa()] == ["15 EUR"]


def test_save_refuses_to_overwrite_and_force_drops_stale_parts(tmp_path):
    out = save_corpus(_corpus(), tmp_path / "mine")
    with pytest.raises(CorpusError, match="exists and is not empty"):
        save_corpus(_corpus(), out)
    bare = corpus_from_uploads({"refunds.md": b"# Refunds\n\nWithin 30 days."}, name="upload")
    back = load_corpus(save_corpus(bare, out, force=True))
    assert set(back.docs) == {"refunds"} and back.qa is None and not back.update_docs
