"""The live box's "not in the documents" gate: its threshold is the one the tuning run chose,
and with real MiniLM it refuses an off-topic question and passes an in-scope one."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from prototype.relevance import NOT_FOUND, NOT_IN_DOCUMENTS_BELOW

TINY = ROOT / "tests" / "fixtures" / "tiny_corpus"


def test_threshold_is_the_tuned_one_and_its_test_run_is_committed():
    run = json.loads((ROOT / "data" / "runs" / "relevance_threshold.json").read_text())
    assert run["threshold"] == NOT_IN_DOCUMENTS_BELOW
    test = run["test (kestrel_valley + offtopic/test.txt)"]
    assert test["in_scope_kept"] >= 0.9 and test["off_topic_refused"] >= 0.9


@pytest.mark.slow
def test_off_topic_question_is_not_answered_from_the_documents():
    from prototype.backbone import load_embedder
    from prototype.corpus import load_corpus
    from prototype.index import RagIndex
    from prototype.relevance import best_cosine, not_in_documents

    corpus = load_corpus(TINY)
    index = RagIndex.build(corpus.docs, load_embedder("cpu"))
    refused = not_in_documents(index, "What is the capital of France?")
    assert refused is not None and json.loads(refused.raw) == {"answer": NOT_FOUND, "source": None}
    assert refused.extra["relevance"] < NOT_IN_DOCUMENTS_BELOW and refused.extra["passages"]
    in_scope = [q.question for q in corpus.qa]
    assert all(s >= NOT_IN_DOCUMENTS_BELOW for s in best_cosine(index, in_scope))
    assert not_in_documents(index, corpus.qa[0].question) is None
