"""RAG: chunking, the FAISS index and its incremental update (fake and real embedder), and
one real end-to-end run on the tiny corpus that asserts measured numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import HashingEmbedder as FakeEmbedder

from prototype.chunking import chunk_document
from prototype.corpus import load_corpus
from prototype.index import RagIndex
from prototype.rag_settings import RagSettings
from prototype.text import split_sentences

TINY = Path(__file__).parent / "fixtures" / "tiny_corpus"


DOCS = {
    "alpha": "# Alpha\n\nThe alpha pump runs at 40 bar. It is serviced every May.",
    "beta": "# Beta\n\n## Valves\n\nBeta valves are green. They close at night.\n\n"
    "## Staff\n\nThe beta lead is Mira Tosk.",
    "gamma": "# Gamma\n\nGamma stores hold 12 crates of rope.",
}


@pytest.mark.parametrize(
    ("text", "n"),
    [("One. Two! Three?", 3), ("Costs 0.42 EUR per km. Next.", 2), ("No end", 1), ("", 0)],
)
def test_split_sentences(text, n):
    assert len(split_sentences(text)) == n


@pytest.mark.parametrize(
    ("field", "value"),
    [("top_k", 0), ("lexical_weight", -0.1), ("common_doc_share", 1.5), ("second_look_below", 2)],
)
def test_rag_settings_validation_names_field_and_value(field, value):
    with pytest.raises(ValueError, match=rf"`{field}` .* got {value}"):
        RagSettings(**{field: value})
    assert RagSettings().top_k == 3 and RagSettings().lexical_weight == 0.35  # today's values


class _Tok:
    """Just enough tokenizer for the reader's plumbing: the chat as text, words as ids."""

    def apply_chat_template(self, messages, **_):
        return "\n".join(m["content"] for m in messages)

    def encode(self, text, **_):
        return list(range(len(text.split())))


class _Extractor:
    """Stands in for the span search: each call returns the first candidate with the next
    confidence of `confidences`, and records how many sentences its prompt showed."""

    def __init__(self, *confidences):
        self.confidences = list(confidences)
        self.shown: list[int] = []

    def __call__(self, prompt, cands):
        from dataclasses import replace

        self.shown.append(len({c.sentence for c in cands}))
        return replace(cands[0], confidence=self.confidences.pop(0)), 0.0


@pytest.mark.parametrize(
    ("confidences", "looks", "answer_from"),
    [((0.3, 0.2), 1, "second"), ((0.3, 0.9), 1, "second"), ((0.8,), 0, "first")],
)
def test_an_unsure_pick_gets_a_second_look_with_more_context(confidences, looks, answer_from):
    """Below `second_look_below` the reader reads again with `second_look_top_k` chunks and
    `second_look_sentences` sentences, and that pick answers (the rule chosen on the tuning
    corpora, data/runs/reader_second_look.json); a sure pick is read once."""
    from prototype.candidates import Weights
    from prototype.generator import LocalGenerator
    from prototype.rag import RagReader

    docs = {f"d{i}": f"# D{i}\n\nShip {i} sails at 0{i}:15. It holds {i}0 cars." for i in range(8)}
    settings = RagSettings(second_look_top_k=6, second_look_sentences=8)
    index = RagIndex.build(docs, FakeEmbedder(), settings=settings)
    ext = _Extractor(*confidences)
    reader = RagReader(
        index, LocalGenerator(None, _Tok()), constrained=True, weights=Weights(), extractor=ext
    )
    (answer,) = reader(["When does ship 3 sail?"])
    assert (reader.last_look is not None) == bool(looks)
    assert ext.shown[0] <= 6 and (not looks or ext.shown[1] > ext.shown[0])
    assert answer.extra.get("second_look", False) == bool(looks)
    assert answer.extra["confidence"] == confidences[-1 if answer_from == "second" else 0]
    assert len(answer.extra["passages"]) > 0
    off = RagReader(
        RagIndex.build(docs, FakeEmbedder(), settings=RagSettings(second_look_below=0)),
        LocalGenerator(None, _Tok()),
        constrained=True,
        weights=Weights(),
        extractor=_Extractor(0.01),
    )
    off(["When does ship 3 sail?"])
    assert off.last_look is None  # 0 turns it off


def test_reading_units_join_a_pronoun_sentence_to_the_one_it_refers_to():
    from prototype.text import reading_units

    text = "MV Petrel is our freight ship. She carries 38 trailers. This page is short."
    assert reading_units(text) == [
        "MV Petrel is our freight ship. She carries 38 trailers.",
        "This page is short.",
    ]
    assert reading_units("It opens at 9. The shop sells bread.") == [
        "It opens at 9.",  # nothing before it to join
        "The shop sells bread.",
    ]
    assert reading_units("") == []


def test_chunks_keep_headings_and_respect_size():
    long = "# T\n\n## S\n\n" + " ".join(f"Sentence number {i} is here." for i in range(60))
    pieces = chunk_document("t", long, max_words=50, overlap=1)
    assert len(pieces) > 1
    assert all(title == "T" and head == "S" for title, head, _ in pieces)
    assert all(len(body.split()) <= 50 for _, _, body in pieces)
    # one sentence of overlap between consecutive windows
    assert split_sentences(pieces[0][2])[-1] == split_sentences(pieces[1][2])[0]
    beta = chunk_document("beta", DOCS["beta"])
    assert [h for _, h, _ in beta] == ["Valves", "Staff"]


ROTA = """# Rota

Book through reception.

| Clinic | Day | Room |
|---|:---:|---|
| Minor surgery | Tuesday afternoon | Room 6 |
| Ear care | Tuesday morning | Room 5 |

## Notes

- Bring your diary
- Ear care lasts 20 minutes.
1. Arrive early
"""


def test_markdown_tables_and_bullets_read_as_sentences():
    """A table row is one sentence naming its columns, so a span stops at a cell; a bullet
    without a full stop gets one, so bullets do not run together."""
    from prototype.markdown_blocks import block_sentences

    pieces = chunk_document("rota", ROTA)
    body = " ".join(text for _, _, text in pieces)
    assert split_sentences(body) == [
        "Book through reception.",
        "Clinic: Minor surgery; Day: Tuesday afternoon; Room: Room 6.",
        "Clinic: Ear care; Day: Tuesday morning; Room: Room 5.",
        "Bring your diary.",
        "Ear care lasts 20 minutes.",
        "Arrive early.",
    ]
    assert "|" not in body
    assert [h for _, h, _ in pieces] == ["", "Notes"]
    # Prose, and a pipe that opens no table, stay as written.
    assert block_sentences(["A line.", "| not a table"]) == ["A line.", "| not a table"]


def test_answer_spans_stop_at_a_table_cell():
    from prototype.candidates import candidates

    row = "Clinic: Minor surgery; Day: Tuesday afternoon; Room: Room 6."
    texts = {c.text for c in candidates("Which room is minor surgery in?", [("rota", row)])}
    assert "Room 6" in texts
    assert not any(";" in t or ":" in t for t in texts)


def test_every_chunk_retrieves_itself_fake():
    """The FAISS tutorial check: each indexed vector is its own nearest neighbour."""
    index = RagIndex.build(DOCS, FakeEmbedder())
    ids = np.array(sorted(index.vectors), dtype=np.int64)
    hits = index.dense(np.stack([index.vectors[i] for i in ids]), 1)
    assert [h[0][0] for h in hits] == list(ids)


def test_update_reembeds_only_changed_docs():
    emb = FakeEmbedder()
    index = RagIndex.build(DOCS, emb)
    before = len(emb.encoded)
    n_beta = sum(c.doc_id == "beta" for c in index.chunks.values())
    stats = index.update(
        {
            "beta": DOCS["beta"].replace("Mira Tosk", "Jon Brae"),  # changed
            "alpha": DOCS["alpha"],  # unchanged: must be skipped
            "delta": "# Delta\n\nDelta is new.",
        }  # added
    )
    assert stats.docs_changed == ("beta", "delta")
    assert stats.chunks_removed == n_beta
    assert stats.chunks_reembedded == n_beta + 1 == len(emb.encoded) - before
    assert index.index.ntotal == len(index) == stats.chunks_total
    assert "Jon Brae" in " ".join(c.text for c in index.chunks.values())
    assert "Mira Tosk" not in " ".join(c.text for c in index.chunks.values())
    top = index.search("Who is the beta lead?", k=1)[0]
    assert top.chunk.doc_id == "beta" and "Jon Brae" in top.chunk.text


def test_passages_keep_each_sentence_with_its_heading():
    from prototype.passages import select_passages

    index = RagIndex.build(DOCS, FakeEmbedder())
    q = "Who is the beta lead?"
    qvec = index.embed_questions([q])[0]
    (p,) = select_passages(index, q, qvec, index.retrieve(q, qvec, 3), n=2)
    assert p.doc_id == "beta" and p.text == " ".join(u for u, _ in p.units)
    assert ("The beta lead is Mira Tosk.", "Beta - Staff") in p.units
    assert "Beta - Staff: The beta lead is Mira Tosk." in p.headed_units()


def test_hnsw_above_threshold_and_update_without_reembedding():
    emb = FakeEmbedder()
    index = RagIndex.build(DOCS, emb, settings=RagSettings(hnsw_threshold=2))
    assert index.kind == "hnsw"
    n_before = len(emb.encoded)
    stats = index.update({"gamma": "# Gamma\n\nGamma stores hold 15 crates of rope."})
    assert stats.chunks_reembedded == len(emb.encoded) - n_before == 1
    assert index.index.ntotal == len(index)
    assert "15 crates" in index.search("How many crates of rope?", k=1)[0].chunk.text


def test_lexical_fusion_finds_rare_term():
    index = RagIndex.build(DOCS, FakeEmbedder())
    assert index.search("When is the pump serviced?", k=1)[0].chunk.doc_id == "alpha"


def test_corpus_common_words_are_left_out_of_the_embedded_question():
    docs = {f"d{i}": f"# D{i}\n\nHarbourco rule {i}: item {i} costs {i} EUR." for i in range(6)}
    docs["d0"] += " The ferry agency is Tidewell."
    index = RagIndex.build(docs, FakeEmbedder())
    # "Harbourco", "rule", "costs" are in every document; "ferry", "agency" in one
    assert (
        index.query_text("Which ferry agency does Harbourco use?") == "Which ferry agency does use?"
    )
    # nothing distinctive left: the whole question is embedded
    assert index.query_text("Harbourco rule costs?") == "Harbourco rule costs?"
    # document frequencies follow updates: once "Harbourco" is gone from 4 of 6 documents
    # (2/6 < COMMON_DOC_SHARE) it is distinctive again
    index.update({f"d{i}": f"# D{i}\n\nRule {i}: item {i} costs {i} EUR." for i in range(2, 6)})
    assert "Harbourco" in index.query_text("Which ferry agency does Harbourco use?")
    # below COMMON_MIN_DOCS documents nothing is left out
    small = RagIndex.build({"a": DOCS["alpha"], "b": DOCS["beta"]}, FakeEmbedder())
    assert small.query_text("Who is the beta lead?") == "Who is the beta lead?"


@pytest.mark.slow
def test_real_embedder_every_chunk_retrieves_itself_and_right_doc():
    from prototype.backbone import load_embedder

    corpus = load_corpus(TINY)
    index = RagIndex.build(corpus.docs, load_embedder("cpu"))
    ids = np.array(sorted(index.vectors), dtype=np.int64)
    hits = index.dense(np.stack([index.vectors[i] for i in ids]), 1)
    assert [h[0][0] for h in hits] == list(ids)
    for q in corpus.qa:
        for text in (q.question, *q.paraphrases):
            assert q.doc in {h.chunk.doc_id for h in index.search(text, k=3)}, text


@pytest.fixture(scope="module")
def tiny_rag_result(tmp_path_factory):
    """One real run, its embedding store empty (a tmp root), so the re-embedding counts are
    the update's own and not what earlier runs left in the user's cache."""
    from prototype import index_store
    from prototype.rag import run_rag

    root = tmp_path_factory.mktemp("store")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(index_store, "default_root", lambda name: root / name)
        return run_rag(load_corpus(TINY), device="cpu")


@pytest.mark.slow
def test_real_rag_answers_tiny_corpus(tiny_rag_result):
    """Measured on this corpus (CPU, greedy, 2026-12-06, strict scoring): plain-RAG accuracy
    0.17 on originals (1 of 6), token F1 0.16, exact match 0. The free reader copies whole
    sentences ("... opens at 06:15 from Tuesday to Saturday and closes at 14:00 ..."), which
    hold competing values or run far past the gold; containment alone credited 0.33. The
    135M reader, not retrieval, is the bottleneck: the right document is retrieved every
    time."""
    m = tiny_rag_result.metrics
    assert m["accuracy"] > 0  # at least one answer strictly right
    assert m["token_f1"] >= 0.1
    originals = [r for r in tiny_rag_result.answers if r["kind"] == "original"]
    assert all(r["gold_doc"] in r["retrieved"] for r in originals)  # recall@3 = 1
    assert m["build_seconds"] > 0 and m["latency_ms_p50"] > 0
    assert m["format_compliance"] is not None and m["source_accuracy"] is not None


@pytest.mark.slow
def test_real_rag_is_fresh_after_update_and_reembeds_only_changed(tiny_rag_result):
    from prototype.scoring import contains_gold

    corpus = load_corpus(TINY)
    upd = tiny_rag_result.meta["update"]
    assert upd["docs_changed"] == list(corpus.changed_doc_ids())
    index = RagIndex.build(corpus.docs, FakeEmbedder())  # chunk counts do not need the model
    n_changed = sum(c.doc_id in corpus.changed_doc_ids() for c in index.chunks.values())
    new_docs = {d: corpus.update_docs[d] for d in corpus.changed_doc_ids()}
    n_new = len(RagIndex.build(new_docs, FakeEmbedder()))
    assert upd["chunks_removed"] == n_changed
    assert upd["chunks_reembedded"] == n_new < upd["chunks_total"]
    # After the update the reader is shown the NEW fact for every changed question.
    updated = [r for r in tiny_rag_result.answers if r["kind"] == "updated"]
    assert len(updated) == len(corpus.update_qa)
    new_gold = {q.id: q for q in corpus.changed_qa()}
    for r in updated:
        q = new_gold[r["id"]]
        shown = " ".join(p["text"] for p in r["extra"]["passages"])
        assert contains_gold(shown, q.answer, q.aliases), r["id"]


def test_reader_generates_through_any_generator():
    """The free reader only needs the Generator protocol: a fake one receives the chat with
    the retrieved context and its text is the answer, scored as written."""
    from core.errors import ConfigError
    from prototype.generate import Generation
    from prototype.generator import Generator
    from prototype.rag import RagReader

    class Echo:
        name = "echo"

        def __init__(self):
            self.chats: list = []

        def generate(self, chats, max_new_tokens=48):
            self.chats += chats
            return [Generation('{"answer": "x", "source": "beta"}', 7, 3, 0.01) for _ in chats]

    gen = Echo()
    assert isinstance(gen, Generator)
    index = RagIndex.build(DOCS, FakeEmbedder())
    (a,) = RagReader(index, gen)(["Who is the beta lead?"])
    assert a.raw == '{"answer": "x", "source": "beta"}' and a.prompt_tokens == 7
    assert a.retrieved[0] == "beta"
    assert "Document: beta" in gen.chats[0][-1]["content"]
    with pytest.raises(ConfigError, match=r"rag\+constrained needs the local generator"):
        RagReader(index, gen, constrained=True)
