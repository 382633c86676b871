"""The embedding store: only new chunks are embedded, retrieval is identical, bad files rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fakes import HashingEmbedder

from prototype import index_store
from prototype.index import RagIndex
from prototype.index_store import PROBE, EmbeddingStore

DOCS = {
    "alpha": "# Alpha\n\nThe alpha pump runs at 40 bar. It is serviced every May.",
    "beta": "# Beta\n\n## Valves\n\nBeta valves are green. They close at night.\n\n"
    "## Staff\n\nThe beta lead is Mira Tosk.",
    "gamma": "# Gamma\n\nGamma stores hold 12 crates of rope.",
}
QUESTIONS = ["Who is the beta lead?", "How many crates?", "When is the pump serviced?"]


class CountingEmbedder(HashingEmbedder):
    def chunk_texts(self) -> list[str]:
        """What was embedded, less the store's model probe."""
        return [t for t in self.encoded if t != PROBE]


def build(root: Path, docs=DOCS, emb=None, **kw) -> tuple[RagIndex, CountingEmbedder]:
    emb = emb or CountingEmbedder()
    store = EmbeddingStore(root, "fake") if root is not None else None
    return RagIndex.build(docs, emb, store=store, **kw), emb


def results(index: RagIndex) -> list:
    return [[(h.chunk.id, h.chunk.text, h.score) for h in index.search(q)] for q in QUESTIONS]


def same_vectors(a: RagIndex, b: RagIndex) -> bool:
    return sorted(a.vectors) == sorted(b.vectors) and all(
        a.vectors[i].tobytes() == b.vectors[i].tobytes() for i in a.vectors
    )


def test_cold_store_embeds_every_chunk_then_a_warm_one_none(tmp_path):
    plain, plain_emb = build(None)
    cold, cold_emb = build(tmp_path)
    warm, warm_emb = build(tmp_path)
    assert cold_emb.chunk_texts() == plain_emb.encoded  # the same single call as without
    assert warm_emb.chunk_texts() == [] and warm_emb.encoded == [PROBE]
    assert (warm.embedded_total, warm.cached_total) == (0, len(plain))
    assert same_vectors(plain, cold) and same_vectors(plain, warm)
    assert results(plain) == results(cold) == results(warm)
    assert plain.index.ntotal == warm.index.ntotal == len(plain)


def test_an_edited_document_reembeds_only_its_chunks(tmp_path):
    build(tmp_path)
    edited = {**DOCS, "beta": DOCS["beta"].replace("Mira Tosk", "Jon Brae")}
    index, emb = build(tmp_path, edited)
    changed = [c.embed_text() for c in index.chunks.values() if "Jon Brae" in c.text]
    assert emb.chunk_texts() == changed and len(changed) == 1
    assert index.search("Who is the beta lead?", k=1)[0].chunk.text == "The beta lead is Jon Brae."


def test_update_uses_the_store_and_a_revert_embeds_nothing(tmp_path):
    index, emb = build(tmp_path)
    new_beta = DOCS["beta"].replace("Mira Tosk", "Jon Brae")
    stats = index.update({"beta": new_beta})
    assert (stats.chunks_reembedded, stats.chunks_cached) == (1, 1)  # "Valves" is unchanged
    before = len(emb.encoded)
    stats = index.update({"beta": DOCS["beta"]})  # back to the first version
    assert (stats.chunks_reembedded, stats.chunks_cached) == (0, 2)
    assert len(emb.encoded) == before
    plain, _ = build(None)  # same texts and scores; chunk ids differ after an update
    hits = lambda ix: [sorted((h.score, h.chunk.text) for h in ix.search(q)) for q in QUESTIONS]  # noqa: E731
    assert hits(index) == hits(plain)


def shard(root: Path, suffix: str) -> Path:
    (path,) = root.glob(f"shard-*{suffix}")
    return path


def edit_json(root: Path, **changes) -> None:
    p = shard(root, ".json")
    meta = json.loads(p.read_text())
    meta.update(changes)
    p.write_text(json.dumps(meta))


# (case, how a good store is spoilt)
SPOILERS = [
    ("truncated_npy", lambda r: shard(r, ".npy").write_bytes(shard(r, ".npy").read_bytes()[:90])),
    ("missing_npy", lambda r: shard(r, ".npy").unlink()),
    ("garbage_json", lambda r: shard(r, ".json").write_text("{not json")),
    ("json_not_an_object", lambda r: shard(r, ".json").write_text("[1, 2]")),
    ("foreign_format", lambda r: edit_json(r, format="someone-else/3")),
    ("other_embedder_name", lambda r: edit_json(r, embedder="other-model")),
    ("other_model_same_name", lambda r: edit_json(r, probe=[0.5] * 64)),
    ("key_not_hash_of_text", lambda r: edit_json(r, texts=["x"] * 4)),
    ("pickled_object_array", lambda r: np.save(shard(r, ".npy"), np.array([{}], dtype=object))),
    ("wrong_shape", lambda r: np.save(shard(r, ".npy"), np.zeros((2, 64), np.float32))),
    ("float64", lambda r: np.save(shard(r, ".npy"), np.zeros((4, 64), np.float64))),
    ("nan", lambda r: np.save(shard(r, ".npy"), np.full((4, 64), np.nan, np.float32))),
]


@pytest.mark.parametrize("spoil", [s[1] for s in SPOILERS], ids=[s[0] for s in SPOILERS])
def test_corrupt_or_foreign_shard_is_ignored_and_rebuilt(tmp_path, spoil):
    plain, _ = build(None)
    build(tmp_path)
    spoil(tmp_path)
    index, emb = build(tmp_path)
    assert len(index.store.rejected) == 1
    assert emb.chunk_texts() == [c.embed_text() for c in plain.chunks.values()]  # all again
    assert same_vectors(plain, index) and results(plain) == results(index)
    again, emb = build(tmp_path)  # rebuilt: the next run trusts the store again
    assert again.store.rejected == [] and emb.chunk_texts() == []


def test_files_that_are_not_shards_are_left_alone(tmp_path):
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "shard-old.json").write_text("{}")
    build(tmp_path)
    _, emb = build(tmp_path)
    assert emb.chunk_texts() == []
    assert (tmp_path / "notes.json").exists() and (tmp_path / "shard-old.json").exists()


def test_a_store_that_cannot_be_written_is_noted_not_fatal(tmp_path):
    root = tmp_path / "a_file"
    root.write_text("in the way")
    plain, _ = build(None)
    index, _ = build(root)
    assert index.store.write_error and results(index) == results(plain)


def test_many_small_writes_are_merged_into_one_shard(tmp_path, monkeypatch):
    monkeypatch.setattr(index_store, "MAX_SHARDS", 2)
    index, _ = build(tmp_path)
    for i in range(4):
        index.update({f"new{i}": f"# New {i}\n\nDoc number {i} has {i} pages."})
    assert len(list(tmp_path.glob("shard-*.json"))) <= 2
    reopened, emb = build(tmp_path, {d: index.doc_texts[d] for d in index.doc_texts})
    assert emb.chunk_texts() == []


def test_progress_counts_the_chunks_to_embed(tmp_path, monkeypatch):
    import prototype.index as index_module

    monkeypatch.setattr(index_module, "EMBED_SLICE", 2)
    calls: list = []
    index, _ = build(tmp_path, progress=lambda *a: calls.append(a))
    n = len(index)
    assert calls[0] == ("index: embed", 0, n, {"cached": 0})
    assert [c[1] for c in calls] == [0, *range(2, n, 2), n] and calls[-1][2] == n
    calls.clear()
    build(tmp_path, progress=lambda *a: calls.append(a))
    assert calls == [("index: embed", 0, 0, {"cached": n})]


def test_default_root_is_under_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("FTRAG_CACHE", str(tmp_path))
    store = EmbeddingStore.for_embedder("all-MiniLM-L6-v2")
    assert store.root == tmp_path / "index" / "all-MiniLM-L6-v2"


@pytest.mark.slow
def test_real_minilm_retrieval_is_identical_with_and_without_the_store(tmp_path):
    from prototype.backbone import EMBEDDER_NAME, load_embedder
    from prototype.corpus import load_corpus

    corpus = load_corpus(Path(__file__).parent / "fixtures" / "tiny_corpus")
    embedder = load_embedder("cpu")
    questions = [q.question for q in corpus.qa] + [p for q in corpus.qa for p in q.paraphrases]

    def run(store):
        index = RagIndex.build(corpus.docs, embedder, store=store)
        hits = [[(h.chunk.id, h.score) for h in index.search(q)] for q in questions]
        return index, hits

    plain, plain_hits = run(None)
    cold, cold_hits = run(EmbeddingStore(tmp_path, EMBEDDER_NAME))
    warm, warm_hits = run(EmbeddingStore(tmp_path, EMBEDDER_NAME))
    assert warm.embedded_total == 0 and warm.cached_total == len(plain) > 0
    assert same_vectors(plain, cold) and same_vectors(plain, warm)
    assert plain_hits == cold_hits == warm_hits  # ids and float scores, exactly
    top = plain_hits[0][0][0]
    assert plain.chunks[top].doc_id == corpus.qa[0].doc  # and retrieval is right, not just equal


def test_rows_use_the_store_only_for_the_real_embedder(tmp_path, monkeypatch):
    """Issue 18.4: the prototype rows' indexes persist embeddings (a re-run embeds only new
    chunks), but only the real MiniLM, which `load_embedder` tags, may write to the store: a
    test's fake would fail the probe check and its vectors must never reach the cache."""
    from fakes import HashingEmbedder

    from prototype.backbone import EMBEDDER_NAME, embedding_store_for

    monkeypatch.setenv("FTRAG_CACHE", str(tmp_path))
    assert embedding_store_for(HashingEmbedder()) is None
    real = HashingEmbedder()
    real.ftrag_name = EMBEDDER_NAME
    store = embedding_store_for(real)
    assert store is not None and store.name == EMBEDDER_NAME
    assert tmp_path in store.root.parents
