"""RagIndex: chunks under MiniLM vectors in FAISS, fused with BM25 at query time."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.progress import Progress
from prototype.chunking import Chunk, chunk_document
from prototype.index_store import EmbeddingStore, content_key
from prototype.lexical import Lexical
from prototype.rag_settings import RagSettings
from prototype.text import WORD_EDGE, terms


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


# Chunks per encode call while a progress callback listens. Without a callback all chunks go
# in one call, as before; slices change how sentence-transformers batches them by length, and
# so a vector's last bits (up to 1.2e-7 on MiniLM), which is why they are opt-in.
EMBED_SLICE = 1024


@dataclass(frozen=True)
class UpdateStats:
    docs_changed: tuple[str, ...]
    chunks_removed: int
    chunks_reembedded: int  # embedded now
    chunks_total: int
    seconds: float
    chunks_cached: int = 0  # new chunks whose vectors the store already held


def doc_text(d) -> str:
    """The text of a corpus Document, or the string itself."""
    return d if isinstance(d, str) else d.text


class RagIndex:
    """Chunks + normalised MiniLM vectors in a FAISS inner-product index (= cosine).

    Vectors are also kept in memory by chunk id, so an update re-embeds only the chunks of
    changed documents: a flat index drops the stale ids (IndexIDMap2.remove_ids); an HNSW
    index, which cannot remove, is rebuilt from the stored vectors without re-embedding.

    With a `store` (prototype.index_store.EmbeddingStore) chunk vectors also persist on disk
    by content hash: re-opening a corpus, or building it again after an edit, embeds only the
    chunks whose text is new, and FAISS is rebuilt from the vectors. A stored vector is the one
    first computed for its text, so a warm build retrieves exactly as the cold one, and a cold
    one exactly as a build without the store (tests/test_index_store.py). `progress` hears
    `("index: embed", done, total, {"cached": n})` for the chunks that must be embedded.
    """

    def __init__(
        self,
        embedder,
        settings: RagSettings | None = None,
        batch_size: int = 64,
        store: EmbeddingStore | None = None,
        progress: Progress | None = None,
    ):
        self.embedder = embedder
        self.settings = settings or RagSettings()
        self.batch_size = batch_size
        self.store = store
        self.progress = progress
        self.chunks: dict[int, Chunk] = {}
        self.vectors: dict[int, np.ndarray] = {}
        self.doc_texts: dict[str, str] = {}
        self.index = None
        self.lexical = Lexical({})
        self.kind = "flat"
        self.build_seconds = 0.0
        self.embedded_total = 0  # chunks embedded over the index's life
        self.cached_total = 0  # chunks whose vectors came from the store
        self._next_id = 0
        self._sent_cache: dict[str, np.ndarray] = {}
        self._doc_freq: dict[str, int] = {}  # word -> number of documents containing it
        self._word_cache: dict[str, np.ndarray] = {}

    # -- building -----------------------------------------------------------------------------
    @classmethod
    def build(cls, docs: Mapping[str, object], embedder, **kw) -> RagIndex:
        """Index `docs` (id -> Document or text). `build_seconds` = chunk + embed + index."""
        self = cls(embedder, **kw)
        t0 = time.perf_counter()
        self._add_docs(docs)
        self._rebuild()
        self.lexical = Lexical(self.chunks)
        self.build_seconds = time.perf_counter() - t0
        return self

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self.embedder.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def _add_docs(self, docs: Mapping[str, object]) -> list[int]:
        new: list[Chunk] = []
        for doc_id in sorted(docs):
            text = doc_text(docs[doc_id])
            self._count_words(self.doc_texts.get(doc_id), -1)  # a replaced document
            self._count_words(text, +1)
            self.doc_texts[doc_id] = text
            pieces = chunk_document(
                doc_id, text, self.settings.chunk_words, self.settings.chunk_overlap_sentences
            )
            for i, (title, heading, body) in enumerate(pieces):
                new.append(Chunk(self._next_id, doc_id, i, title, heading, body))
                self._next_id += 1
        if new:
            vecs = self._chunk_vectors([c.embed_text() for c in new])
            for c, v in zip(new, vecs, strict=True):
                self.chunks[c.id] = c
                self.vectors[c.id] = v
        return [c.id for c in new]

    def _chunk_vectors(self, texts: list[str]) -> np.ndarray:
        """Vectors of chunk texts: the store's where it has them, the rest embedded (and
        stored). Without store and progress: one `embed` call, exactly as before either
        existed."""
        if self.store is None and self.progress is None:
            self.embedded_total += len(texts)
            return self.embed(texts)
        keys: list[str] = []
        found: dict[str, np.ndarray] = {}
        if self.store is not None:
            self.store.open(self.embed)
            keys = [content_key(t) for t in texts]
            found = self.store.lookup(keys)
        todo = [i for i in range(len(texts)) if not keys or keys[i] not in found]
        fresh = self._embed_reporting([texts[i] for i in todo], len(texts) - len(todo))
        if self.store is not None and todo:
            self.store.add([keys[i] for i in todo], [texts[i] for i in todo], fresh)
        self.embedded_total += len(todo)
        self.cached_total += len(texts) - len(todo)
        row = {i: j for j, i in enumerate(todo)}
        return np.stack([fresh[row[i]] if i in row else found[keys[i]] for i in range(len(texts))])

    def _embed_reporting(self, texts: list[str], cached: int) -> np.ndarray:
        """`embed(texts)`, in EMBED_SLICE slices reported to `progress` when there is one."""
        if self.progress is None:
            return self.embed(texts) if texts else np.zeros((0, 0), dtype=np.float32)
        stage, total = "index: embed", len(texts)
        self.progress(stage, 0, total, {"cached": cached})
        parts = []
        for start in range(0, total, EMBED_SLICE):
            parts.append(self.embed(texts[start : start + EMBED_SLICE]))
            self.progress(stage, min(start + EMBED_SLICE, total), total, {"cached": cached})
        return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    def _count_words(self, text: str | None, sign: int) -> None:
        for w in set(terms(text or "")):  # query_text only looks up non-stopwords
            n = self._doc_freq.get(w, 0) + sign
            if n > 0:
                self._doc_freq[w] = n
            else:
                self._doc_freq.pop(w, None)

    def query_text(self, question: str) -> str:
        """The question as embedded: without corpus-common words (see
        RagSettings.common_doc_share), or whole when that would leave no content word."""
        n = len(self.doc_texts)
        if n < self.settings.common_min_docs:
            return question
        share = self.settings.common_doc_share
        kept = []
        for w in question.split():
            ts = [t for t in terms(w) if len(t) > 1]  # "Fjordline's" -> fjordline
            if ts and all(self._doc_freq.get(t, 0) / n >= share for t in ts):
                continue
            kept.append(w)
        return " ".join(kept) if any(terms(w) for w in kept) else question

    def embed_questions(self, questions: Sequence[str]) -> np.ndarray:
        """Query vectors for dense retrieval and sentence ranking."""
        return self.embed([self.query_text(q) for q in questions])

    def _make_index(self, n: int):
        import faiss

        dim = self.dim
        if n > self.settings.hnsw_threshold:
            base = faiss.IndexHNSWFlat(dim, self.settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efSearch = self.settings.hnsw_ef_search
            self.kind = "hnsw"
        else:
            base = faiss.IndexFlatIP(dim)
            self.kind = "flat"
        return faiss.IndexIDMap2(base)

    @property
    def dim(self) -> int:
        for name in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
            get = getattr(self.embedder, name, None)  # renamed in sentence-transformers 6
            if get is not None and get():
                return int(get())
        return len(next(iter(self.vectors.values())))

    def _rebuild(self) -> None:
        ids = np.array(sorted(self.vectors), dtype=np.int64)
        self.index = self._make_index(len(ids))
        if len(ids):
            self.index.add_with_ids(np.stack([self.vectors[i] for i in ids]), ids)

    # -- updating -----------------------------------------------------------------------------
    def update(self, changed_docs: Mapping[str, object]) -> UpdateStats:
        """Replace or add `changed_docs` (id -> Document or text); only their chunks are
        re-embedded. Documents whose text is unchanged are skipped."""
        t0 = time.perf_counter()
        embedded, cached = self.embedded_total, self.cached_total
        changed = {d: v for d, v in changed_docs.items() if self.doc_texts.get(d) != doc_text(v)}
        stale = [cid for cid, c in self.chunks.items() if c.doc_id in changed]
        for cid in stale:
            del self.chunks[cid], self.vectors[cid]
        new_ids = self._add_docs(changed)
        n = len(self.vectors)
        if self.kind == "flat" and n <= self.settings.hnsw_threshold:
            if stale:
                self.index.remove_ids(np.array(stale, dtype=np.int64))
            if new_ids:
                ids = np.array(new_ids, dtype=np.int64)
                self.index.add_with_ids(np.stack([self.vectors[i] for i in new_ids]), ids)
        else:  # HNSW cannot delete: rebuild the graph from stored vectors (no re-embedding)
            self._rebuild()
        self.lexical = Lexical(self.chunks)
        return UpdateStats(
            tuple(sorted(changed)),
            len(stale),
            self.embedded_total - embedded,
            n,
            time.perf_counter() - t0,
            self.cached_total - cached,
        )

    # -- searching ----------------------------------------------------------------------------
    def dense(self, qvecs: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """FAISS top-k as (chunk id, cosine) per query vector."""
        k = min(k, self.index.ntotal)
        if k == 0:
            return [[] for _ in range(len(qvecs))]
        scores, ids = self.index.search(qvecs, k)
        return [
            [(int(i), float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0]
            for srow, irow in zip(scores, ids, strict=True)
        ]

    def retrieve(
        self,
        question: str,
        qvec: np.ndarray,
        k: int | None = None,
        lexical_weight: float | None = None,
    ) -> list[Hit]:
        """Hybrid top-k: dense and BM25 candidates, fused as cosine + w * BM25 / max BM25
        (`k` and `w` default to the index's settings)."""
        k = self.settings.top_k if k is None else k
        if lexical_weight is None:
            lexical_weight = self.settings.lexical_weight
        n_cands = self.settings.candidates
        cands = dict(self.dense(qvec[None, :], n_cands)[0])
        lex = self.lexical.scores(question) if lexical_weight else {}
        top_lex = sorted(lex, key=lex.get, reverse=True)[:n_cands]
        for cid in top_lex:
            if cid not in cands:  # exact cosine from the stored vector
                cands[cid] = float(self.vectors[cid] @ qvec)
        best = max(lex.values(), default=0.0) or 1.0
        fused = {cid: cos + lexical_weight * lex.get(cid, 0.0) / best for cid, cos in cands.items()}
        order = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
        return [Hit(self.chunks[cid], fused[cid]) for cid in order]

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        return self.retrieve(question, self.embed_questions([question])[0], k)

    def sentence_vectors(self, sentences: Sequence[str]) -> np.ndarray:
        """Embeddings of retrieved sentences, cached: the same sentences recur across queries."""
        missing = [s for s in dict.fromkeys(sentences) if s not in self._sent_cache]
        if missing:
            for s, v in zip(missing, self.embed(missing), strict=True):
                self._sent_cache[s] = v
        return np.stack([self._sent_cache[s] for s in sentences])

    def word_vectors(self, texts: Sequence[str], cache: bool = True) -> list[np.ndarray] | None:
        """Contextual MiniLM vectors of every whitespace-separated word of each text (the
        mean of its word pieces, normalised), cached per text like `sentence_vectors` unless
        `cache` is off (questions: they rarely recur, and a long-lived app would only grow).
        None when the embedder does not expose its transformer (a stand-in in tests)."""
        import torch

        try:
            tok, model = self.embedder.tokenizer, self.embedder[0].auto_model
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
        store = self._word_cache if cache else {}
        missing = [t for t in dict.fromkeys(texts) if t not in store and t.split()]
        if missing:
            words = [[w.strip(WORD_EDGE) or w for w in t.split()] for t in missing]
            enc = tok(
                words,
                is_split_into_words=True,
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            ).to(model.device)
            with torch.inference_mode():
                hidden = model(**enc).last_hidden_state.float().cpu().numpy()
            for b, (text, ws) in enumerate(zip(missing, words, strict=True)):
                vecs = np.zeros((len(ws), hidden.shape[-1]), dtype=np.float32)
                count = np.zeros(len(ws), dtype=np.float32)
                for pos, w in enumerate(enc.word_ids(b)):
                    if w is not None:
                        vecs[w] += hidden[b, pos]
                        count[w] += 1
                vecs /= np.maximum(count, 1)[:, None]  # words cut by truncation stay zero
                vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
                store[text] = vecs
        empty = np.zeros((0, self.dim), dtype=np.float32)
        return [store.get(t, empty) for t in texts]

    def __len__(self) -> int:
        return len(self.chunks)
