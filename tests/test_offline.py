"""Nothing is fetched at run time: loading both models and answering a RAG question must not
open a single network connection."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

TINY = Path(__file__).parent / "fixtures" / "tiny_corpus"


@pytest.mark.slow
def test_models_load_and_answer_without_network(monkeypatch):
    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted during an offline run")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)

    from prototype.backbone import load_embedder, load_generator
    from prototype.corpus import load_corpus
    from prototype.generator import LocalGenerator
    from prototype.index import RagIndex
    from prototype.rag import RagReader

    corpus = load_corpus(TINY)
    model, tok = load_generator("cpu")  # fresh loads, not a cached pair from another test
    index = RagIndex.build(corpus.docs, load_embedder("cpu"))
    reader = RagReader(index, LocalGenerator(model, tok))
    answer = reader(["Who is the head baker at Glimmerbrook Bakery?"])[0]
    assert answer.raw and "staff" in answer.retrieved
    assert attempts == []
