"""Retrieval-augmented generation: chunking, MiniLM embeddings, a FAISS index, and the reader.

Pipeline for one question:
    embed question -> FAISS top-k chunks -> sentence re-ranking inside those chunks (same
    embedder) -> a tight prompt with the best few sentences under their doc id -> generate.

Why the reader is engineered: with SmolLM2-135M a naive prompt over the top-3 chunks answers
only about 60% right even when recall@3 is 100%; the small model loses the fact in ~400 tokens
of context. Giving it only the few sentences most similar to the question, each labelled with
its document id, plus one worked example of the exact JSON (about a made-up document, so it
leaks no answer), is what makes a 135M reader usable. No gold answer is ever consulted.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Chunking: ~90 words keeps one handbook section (heading + paragraph) per chunk, well under
# MiniLM's 256-word-piece window, and small enough that retrieval points at one fact area.
CHUNK_WORDS = 90
# One sentence of overlap between consecutive windows of a long paragraph, so a fact split
# across a window boundary is still whole in one chunk.
CHUNK_OVERLAP_SENTENCES = 1
# Exact inner-product search is fastest and exact up to tens of thousands of 384-d vectors on
# a CPU (a flat scan of 20k x 384 floats is ~30 MB, ~5 ms); above that HNSW keeps queries
# sub-millisecond at a small recall cost.
HNSW_THRESHOLD = 20_000
HNSW_M = 32
TOP_K = 3  # chunks retrieved per question
# Hybrid retrieval: final score = cosine + LEXICAL_WEIGHT * BM25 / max BM25 of the query.
# Dense alone misses questions that share a rare term with one page ("Fjord Day", "leave
# year") but a common one ("Aurora Fjordline") with the overview page; BM25 alone misses
# paraphrases. Measured on aurora_handbook recall@3 (originals / paraphrases): dense .93/.98,
# BM25 1.0/.93, fused at 0.35 1.0/.99.
LEXICAL_WEIGHT = 0.35
CANDIDATES = 20  # dense and lexical candidates each, before fusion
TOP_SENTENCES = 2  # sentences shown to the free-text reader
EXTRACT_SENTENCES = 6  # sentences shown to the extractive reader (rag+constrained)
EXTRACT_TOP_K = 4  # chunks it picks them from
# Corpus-common words: a question word found in at least this share of the documents ("Aurora",
# "Fjordline", "staff" in a company handbook) says nothing about which document answers, yet it
# pulls the question's embedding towards the overview page. Such words are left out of the
# text that is embedded (BM25 still sees the whole question; its idf already discounts them).
# Measured on aurora_handbook, answer shown among the 5 sentences (originals / paraphrases):
# .951 / .910 with the whole question, 1.0 / .934 without the common words (kestrel_valley,
# held out: .962 / .981 -> 1.0 / 1.0). Only applied from COMMON_MIN_DOCS documents up.
COMMON_DOC_SHARE = 0.4
COMMON_MIN_DOCS = 5

_WORD_EDGE = ".,;:!?()[]{}\"'“”‘’"  # punctuation stripped from a word's ends
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class Chunk:
    id: int  # FAISS id: stable across updates, never reused
    doc_id: str
    ordinal: int  # position within its document
    title: str  # the document's first heading
    heading: str  # the section heading the text sits under ("" if none)
    text: str

    def embed_text(self) -> str:
        """What gets embedded: the title and section give a short chunk its topic."""
        head = " - ".join(h for h in (self.title, self.heading) if h)
        return f"{head}: {self.text}" if head else self.text


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class UpdateStats:
    docs_changed: tuple[str, ...]
    chunks_removed: int
    chunks_reembedded: int
    chunks_total: int
    seconds: float


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT_END.split(text.strip()) if s.strip()]


# A sentence that opens on one of these refers back to the sentence before it.
_ANAPHORA = frozenset(["she", "he", "it", "they", "its", "their", "his", "her", "these"])


def reading_units(text: str) -> list[str]:
    """Sentences as the readers see them: one that opens on a pronoun ("She carries up to 38
    trailers.") is joined to the sentence before it, which names what the pronoun stands for;
    shown alone, its fact would belong to nobody and no question about the ship would find it.
    """
    out: list[str] = []
    for sent in split_sentences(text):
        first = sent.split(maxsplit=1)[0].strip(_WORD_EDGE).casefold()
        if out and first in _ANAPHORA:
            out[-1] = f"{out[-1]} {sent}"
        else:
            out.append(sent)
    return out


def _sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Markdown -> (title, [(section heading, paragraph text)])."""
    title, heading, out = "", "", []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in block.strip().splitlines() if ln.strip()]
        body: list[str] = []
        for ln in lines:
            m = re.match(r"^(#{1,6})\s+(.*)$", ln)
            if m:
                if body:
                    out.append((heading, " ".join(body)))
                    body = []
                if len(m.group(1)) == 1 and not title:
                    title = m.group(2).strip()
                else:
                    heading = m.group(2).strip()
            else:
                body.append(ln.lstrip("-*• ").strip())
        if body:
            out.append((heading, " ".join(body)))
    return title, out


def chunk_document(
    doc_id: str, text: str, max_words: int = CHUNK_WORDS, overlap: int = CHUNK_OVERLAP_SENTENCES
) -> list[tuple[str, str, str]]:
    """Split one document into (title, heading, text) windows of whole sentences.

    Paragraphs under the same heading are packed together up to `max_words`; a longer
    paragraph is cut into sentence windows that overlap by `overlap` sentences.
    """
    title, sections = _sections(text)
    title = title or doc_id
    pieces: list[tuple[str, str, str]] = []
    cur_head: str | None = None
    cur: list[str] = []

    def flush():
        if cur:
            pieces.append((title, cur_head or "", " ".join(cur)))

    for heading, para in sections:
        sents = split_sentences(para)
        if heading != cur_head or len(" ".join(cur + sents).split()) > max_words:
            flush()
            cur_head = heading
            cur.clear()
        for s in sents:
            if cur and len(" ".join([*cur, s]).split()) > max_words:
                flush()
                cur[:] = cur[-overlap:] if overlap else []
            cur.append(s)
    flush()
    return pieces


_STOPWORDS = (
    "a an and are as at be by can do does for from has have how i in is it its many much of "
    "on or the their there this to what when where which who whom why will with within you your"
)
_STOP = frozenset(_STOPWORDS.split())


def _terms(text: str) -> list[str]:
    return [t for t in re.findall(r"\w+", text.casefold()) if t not in _STOP]


class Lexical:
    """BM25 over chunks with an inverted index, so a query touches only chunks sharing a term.
    Pure Python and rebuilt in milliseconds, so updates need no bookkeeping."""

    K1, B = 1.2, 0.75

    def __init__(self, chunks: Mapping[int, Chunk]):
        self.postings: dict[str, list[tuple[int, int]]] = {}
        self.lengths: dict[int, int] = {}
        for cid, c in chunks.items():
            terms = _terms(c.embed_text())
            self.lengths[cid] = len(terms)
            counts: dict[str, int] = {}
            for t in terms:
                counts[t] = counts.get(t, 0) + 1
            for t, n in counts.items():
                self.postings.setdefault(t, []).append((cid, n))
        n = max(1, len(self.lengths))
        self.avg = sum(self.lengths.values()) / n if self.lengths else 1.0
        self.idf = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()
        }

    def scores(self, query: str) -> dict[int, float]:
        out: dict[int, float] = {}
        for t in set(_terms(query)):
            for cid, tf in self.postings.get(t, ()):
                norm = self.K1 * (1 - self.B + self.B * self.lengths[cid] / self.avg)
                out[cid] = out.get(cid, 0.0) + self.idf[t] * tf * (self.K1 + 1) / (tf + norm)
        return out


def _doc_text(d) -> str:
    return d if isinstance(d, str) else d.text


class RagIndex:
    """Chunks + normalised MiniLM vectors in a FAISS inner-product index (= cosine).

    Vectors are also kept in memory by chunk id, so an update re-embeds only the chunks of
    changed documents: a flat index drops the stale ids (IndexIDMap2.remove_ids); an HNSW
    index, which cannot remove, is rebuilt from the stored vectors without re-embedding.
    """

    def __init__(self, embedder, hnsw_threshold: int = HNSW_THRESHOLD, batch_size: int = 64):
        self.embedder = embedder
        self.hnsw_threshold = hnsw_threshold
        self.batch_size = batch_size
        self.chunks: dict[int, Chunk] = {}
        self.vectors: dict[int, np.ndarray] = {}
        self.doc_texts: dict[str, str] = {}
        self.index = None
        self.lexical = Lexical({})
        self.kind = "flat"
        self.build_seconds = 0.0
        self.embedded_total = 0  # chunks embedded over the index's life
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
            text = _doc_text(docs[doc_id])
            self._count_words(self.doc_texts.get(doc_id), -1)  # a replaced document
            self._count_words(text, +1)
            self.doc_texts[doc_id] = text
            for i, (title, heading, body) in enumerate(chunk_document(doc_id, text)):
                new.append(Chunk(self._next_id, doc_id, i, title, heading, body))
                self._next_id += 1
        if new:
            vecs = self.embed([c.embed_text() for c in new])
            for c, v in zip(new, vecs, strict=True):
                self.chunks[c.id] = c
                self.vectors[c.id] = v
        self.embedded_total += len(new)
        return [c.id for c in new]

    def _count_words(self, text: str | None, sign: int) -> None:
        for w in set(_terms(text or "")):  # query_text only looks up non-stopwords
            n = self._doc_freq.get(w, 0) + sign
            if n > 0:
                self._doc_freq[w] = n
            else:
                self._doc_freq.pop(w, None)

    def query_text(self, question: str) -> str:
        """The question as embedded: without corpus-common words (see COMMON_DOC_SHARE), or
        whole when that would leave no content word."""
        n = len(self.doc_texts)
        if n < COMMON_MIN_DOCS:
            return question
        kept = []
        for w in question.split():
            terms = [t for t in _terms(w) if len(t) > 1]  # "Fjordline's" -> fjordline
            if terms and all(self._doc_freq.get(t, 0) / n >= COMMON_DOC_SHARE for t in terms):
                continue
            kept.append(w)
        return " ".join(kept) if any(_terms(w) for w in kept) else question

    def embed_questions(self, questions: Sequence[str]) -> np.ndarray:
        """Query vectors for dense retrieval and sentence ranking."""
        return self.embed([self.query_text(q) for q in questions])

    def _make_index(self, n: int):
        import faiss

        dim = self.dim
        if n > self.hnsw_threshold:
            base = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efSearch = 64
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
        changed = {d: v for d, v in changed_docs.items() if self.doc_texts.get(d) != _doc_text(v)}
        stale = [cid for cid, c in self.chunks.items() if c.doc_id in changed]
        for cid in stale:
            del self.chunks[cid], self.vectors[cid]
        new_ids = self._add_docs(changed)
        n = len(self.vectors)
        if self.kind == "flat" and n <= self.hnsw_threshold:
            if stale:
                self.index.remove_ids(np.array(stale, dtype=np.int64))
            if new_ids:
                ids = np.array(new_ids, dtype=np.int64)
                self.index.add_with_ids(np.stack([self.vectors[i] for i in new_ids]), ids)
        else:  # HNSW cannot delete: rebuild the graph from stored vectors (no re-embedding)
            self._rebuild()
        self.lexical = Lexical(self.chunks)
        return UpdateStats(
            tuple(sorted(changed)), len(stale), len(new_ids), n, time.perf_counter() - t0
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
        k: int = TOP_K,
        lexical_weight: float = LEXICAL_WEIGHT,
    ) -> list[Hit]:
        """Hybrid top-k: dense and BM25 candidates, fused as cosine + w * BM25 / max BM25."""
        cands = dict(self.dense(qvec[None, :], CANDIDATES)[0])
        lex = self.lexical.scores(question) if lexical_weight else {}
        top_lex = sorted(lex, key=lex.get, reverse=True)[:CANDIDATES]
        for cid in top_lex:
            if cid not in cands:  # exact cosine from the stored vector
                cands[cid] = float(self.vectors[cid] @ qvec)
        best = max(lex.values(), default=0.0) or 1.0
        fused = {cid: cos + lexical_weight * lex.get(cid, 0.0) / best for cid, cos in cands.items()}
        order = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
        return [Hit(self.chunks[cid], fused[cid]) for cid in order]

    def search(self, question: str, k: int = TOP_K) -> list[Hit]:
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
            words = [[w.strip(_WORD_EDGE) or w for w in t.split()] for t in missing]
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


# -- the reader ----------------------------------------------------------------------------------
# A worked example about a made-up document: it shows the exact JSON and that the answer is a
# short span copied from the passage, without leaking anything about the user's corpus.
FEW_SHOT_DOC = "harbour_parking"
FEW_SHOT_PASSAGE = (
    "The Molo car park is run by Havnelys Parking. Permits are sold at the harbour office."
)
FEW_SHOT_QUESTION = "Which company runs the Molo car park?"
FEW_SHOT_ANSWER = '{"answer": "Havnelys Parking", "source": "harbour_parking"}'


@dataclass(frozen=True)
class Passage:
    doc_id: str
    text: str
    score: float
    # The reading units joined in `text`, each with the title and section heading it sits
    # under (empty when built elsewhere): "The crossing takes 55 minutes." alone names no
    # route; under "Skarvik–Holmøya route - Crossing and departures" it does.
    units: tuple[tuple[str, str], ...] = ()

    def headed_units(self) -> list[str]:
        """Each unit prefixed with its heading, as chunks are embedded (Chunk.embed_text)."""
        return [f"{head}: {u}" if head else u for u, head in self.units]


def select_passages(
    index: RagIndex,
    question: str,
    qvec: np.ndarray,
    hits: Sequence[Hit],
    n: int = TOP_SENTENCES,
    chunk_weight: float = 0.5,
    lexical_weight: float = LEXICAL_WEIGHT,
    one_doc: bool = True,
) -> list[Passage]:
    """The `n` sentences of the retrieved chunks that best match the question, grouped by
    document (best document first, sentences in document order).

    A sentence scores its own cosine to the question, plus `chunk_weight` x its chunk's
    retrieval score (sentences of the best chunk win ties), plus `lexical_weight` x its
    idf-weighted share of the question's terms (names and numbers the embedder blurs).
    With `one_doc`, only sentences of the best sentence's document are kept.
    """
    cands: list[tuple[Chunk, int, str, float]] = []
    seen: set[str] = set()
    for h in hits:
        for j, sent in enumerate(reading_units(h.chunk.text)):
            if sent not in seen:  # overlapping windows repeat sentences
                seen.add(sent)
                cands.append((h.chunk, j, sent, h.score))
    if not cands:
        return []
    vecs = index.sentence_vectors([c[2] for c in cands])
    scores = vecs @ qvec + chunk_weight * np.array([c[3] for c in cands])
    if lexical_weight:
        idf = index.lexical.idf
        qterms = set(_terms(question))
        total = sum(idf.get(t, 0.0) for t in qterms) or 1.0
        lex = [sum(idf.get(t, 0.0) for t in qterms & set(_terms(c[2]))) / total for c in cands]
        scores = scores + lexical_weight * np.array(lex)
    order = sorted(range(len(cands)), key=lambda i: -scores[i])
    if one_doc:
        best_doc = cands[order[0]][0].doc_id
        order = [i for i in order if cands[i][0].doc_id == best_doc]
    top = order[:n]
    doc_rank: dict[str, float] = {}
    for i in top:
        doc_rank.setdefault(cands[i][0].doc_id, float(scores[i]))
    top.sort(key=lambda i: (-doc_rank[cands[i][0].doc_id], cands[i][0].ordinal, cands[i][1]))
    out: list[Passage] = []
    for i in top:
        chunk, _, sent, _ = cands[i]
        unit = (sent, " - ".join(h for h in (chunk.title, chunk.heading) if h))
        if out and out[-1].doc_id == chunk.doc_id:
            last = out[-1]
            out[-1] = Passage(chunk.doc_id, f"{last.text} {sent}", last.score, (*last.units, unit))
        else:
            out.append(Passage(chunk.doc_id, sent, float(scores[i]), (unit,)))
    return out


def _shown(passages: Sequence[Passage]) -> dict:
    """Per-answer record of what the reader was shown (kept with the answer, so the app
    displays it without retrieving a second time)."""
    return {"passages": [{"doc": p.doc_id, "text": p.text, "score": p.score} for p in passages]}


def context_block(passages: Sequence[Passage]) -> str:
    return "\n\n".join(f"Document: {p.doc_id}\n{p.text}" for p in passages)


def rag_messages(question: str, passages: Sequence[Passage], style: str = "template"):
    """Chat for the reader: the shared system prompt, the context, the question.

    style "template" (default) ends the user turn with the reply template, the source already
    written as the best document's id, so a 135M model only has to fill in the answer span;
    "few_shot" instead shows one worked example about a made-up document; "plain" neither.
    """
    from prototype.generate import SYSTEM_PROMPT

    msgs = [{"role": "system", "content": SYSTEM_PROMPT}]
    if style.startswith("few_shot"):
        ex = context_block([Passage(FEW_SHOT_DOC, FEW_SHOT_PASSAGE, 1.0)])
        msgs += [
            {"role": "user", "content": f"{ex}\n\nQuestion: {FEW_SHOT_QUESTION}"},
            {"role": "assistant", "content": FEW_SHOT_ANSWER},
        ]
    user = f"{context_block(passages)}\n\nQuestion: {question}"
    if style.endswith("template") and passages:
        user += (
            "\nAnswer with words copied from the document. Reply with only: "
            f'{{"answer": "<short answer>", "source": "{passages[0].doc_id}"}}'
        )
    msgs.append({"role": "user", "content": user})
    return msgs


@dataclass
class RagReader:
    """Answer function for `prototype.evaluate`: retrieve, select sentences, generate.

    With `constrained`, the reply is forced into the answer format by an exhaustive span
    search (`prototype.extract`): the answer is a span copied from the shown sentences, chosen
    by the model's likelihood plus answer-type and proximity evidence, and the source is the
    document the span came from. That row measures what decoding forces, not what the model
    writes by itself.
    """

    index: RagIndex
    model: object
    tokenizer: object
    k: int = TOP_K
    sentences: int = TOP_SENTENCES
    # "template" for both rows. Measured on aurora_handbook originals (greedy, CPU): template
    # accuracy .46-.65 with format 0 (the base model answers in prose); few-shot .12-.41 with
    # format .31-.82 (it copies the example's shape, not the fact). Knowing the fact is what
    # retrieval is for; the format is what fine-tuning (or constrained decoding) adds.
    style: str | None = None
    one_doc: bool = True
    constrained: bool = False
    max_new_tokens: int = 40
    timings: dict = None  # cumulative seconds per stage: embed / search / generate
    extractor: object = None  # extract.SpanExtractor to share; made on first use otherwise

    def __post_init__(self):
        if self.style is None:
            # The extractive reader scores spans after the plain prompt; the free reader
            # gets the reply template.
            self.style = "plain" if self.constrained else "template"
        if self.constrained:
            # More sentences from more chunks and documents: the span search, not a 135M
            # reader's attention, has to find the fact, so recall matters more than a short
            # context. Answer among the sentences shown on aurora_handbook (originals /
            # paraphrases): 2 sentences of 3 chunks .90 / .80, 5 of 3 chunks 1.0 / .943,
            # 6 of 4 chunks 1.0 / .992 (kestrel_valley 1.0 / 1.0 either way); reader
            # accuracy, see extract.Weights.
            self.k, self.sentences, self.one_doc = EXTRACT_TOP_K, EXTRACT_SENTENCES, False
        self.timings = {"embed": 0.0, "search": 0.0, "generate": 0.0, "queries": 0}

    def prepare(self, questions: Sequence[str]) -> tuple[list, list[list[Passage]], list]:
        """(reader chats, passages shown, retrieved doc ids best first) per question."""
        return self._prepare(questions)[:3]

    def _prepare(self, questions: Sequence[str]):
        """`prepare` plus the question vectors, which the extractive reader reuses."""
        t0 = time.perf_counter()
        qvecs = self.index.embed_questions(questions)
        t1 = time.perf_counter()
        passages, retrieved = [], []
        for q, v in zip(questions, qvecs, strict=True):
            hits = self.index.retrieve(q, v, self.k)
            retrieved.append(tuple(dict.fromkeys(h.chunk.doc_id for h in hits)))
            passages.append(
                select_passages(self.index, q, v, hits, self.sentences, one_doc=self.one_doc)
            )
        t2 = time.perf_counter()
        self.timings["embed"] += t1 - t0
        self.timings["search"] += t2 - t1
        msgs = [rag_messages(q, p, self.style) for q, p in zip(questions, passages, strict=True)]
        return msgs, passages, retrieved, qvecs

    def __call__(self, questions: Sequence[str]):
        from prototype.evaluate import Answer
        from prototype.generate import generate

        if self.constrained:
            return [self._extract(q) for q in questions]
        t0 = time.perf_counter()
        msgs, passages, retrieved = self.prepare(questions)
        t1 = time.perf_counter()
        gens = generate(self.model, self.tokenizer, msgs, self.max_new_tokens)
        t2 = time.perf_counter()
        self.timings["generate"] += t2 - t1
        self.timings["queries"] += len(questions)
        per_q = (t2 - t0) / len(questions)  # end to end: embed + search + generate
        return [
            Answer(
                raw=g.text,
                prompt_tokens=g.prompt_tokens,
                seconds=per_q,
                retrieved=ret,
                extra=_shown(ps),
            )
            for g, ps, ret in zip(gens, passages, retrieved, strict=True)
        ]

    def _extract(self, question: str):
        """One question through the extractive reader (prototype.extract): the answer is the
        span of the shown sentences that the LM and the evidence rank best."""
        from prototype.evaluate import Answer
        from prototype.extract import Alignment, SpanExtractor, candidates, reply
        from prototype.generate import render

        if self.extractor is None:
            self.extractor = SpanExtractor(self.model, self.tokenizer)
        t0 = time.perf_counter()
        msgs, passages, retrieved, qvecs = self._prepare([question])
        ps = passages[0]
        sents = [(p.doc_id, unit) for p in ps for unit, _ in p.units]
        # Each sentence is compared with the question under its heading, as chunks are
        # embedded (measured in extract.Weights).
        headed = [h for p in ps for h in p.headed_units()]
        cos = self.index.sentence_vectors(headed) @ qvecs[0] if sents else []
        align = None
        if sents:
            words = self.index.word_vectors([t for _, t in sents])
            qwords = self.index.word_vectors([question], cache=False)
            if words is not None and qwords is not None:
                align = Alignment.build(question, qwords[0], words, self.index.lexical.idf)
        cands = candidates(question, sents, cos, alignment=align)
        t1 = time.perf_counter()
        prompt = render(self.tokenizer, msgs[0])
        if cands:
            best, _ = self.extractor(prompt, cands)
            raw = reply(best)
        else:  # no admissible span in what was retrieved: an empty answer, in the format
            raw = reply(None)
        t2 = time.perf_counter()
        self.timings["generate"] += t2 - t1
        self.timings["queries"] += 1
        return Answer(
            raw=raw,
            prompt_tokens=len(self.tokenizer.encode(prompt, add_special_tokens=False)),
            seconds=t2 - t0,
            retrieved=retrieved[0],
            extra=_shown(ps),
        )


def run_rag(
    corpus,
    device: str | None = None,
    progress=None,
    cancel=None,
    constrained: bool = False,
    models=None,
):
    """Evaluate RAG on `corpus`: index, answer, apply the update by re-indexing only the
    changed documents, answer the changed questions. `models` = (generator, tokenizer,
    embedder) to reuse; loaded offline otherwise."""
    from prototype.backbone import (
        EMBEDDER_NAME,
        GENERATOR_NAME,
        load_embedder,
        load_generator,
        pick_device,
    )
    from prototype.evaluate import evaluate_strategy

    dev = pick_device(device)
    if models is None:
        model, tok = load_generator(dev)
        models = (model, tok, load_embedder(dev))
    model, tok, embedder = models
    name = "rag+constrained" if constrained else "rag"
    if progress:
        progress(f"{name}: indexing", 0, len(corpus.docs), {})
    index = RagIndex.build(corpus.docs, embedder)
    if progress:
        progress(
            f"{name}: indexing",
            len(corpus.docs),
            len(corpus.docs),
            {"chunks": len(index), "seconds": round(index.build_seconds, 2)},
        )
    reader = RagReader(index, model, tok, constrained=constrained)
    meta = {
        "generator": GENERATOR_NAME,
        "embedder": EMBEDDER_NAME,
        "device": dev,
        "index": {
            "kind": index.kind,
            "chunks": len(index),
            "chunk_words": CHUNK_WORDS,
            "overlap_sentences": CHUNK_OVERLAP_SENTENCES,
            "top_k": reader.k,
            "sentences_shown": reader.sentences,
            "lexical_weight": LEXICAL_WEIGHT,
        },
        "reader": {"style": reader.style, "one_doc": reader.one_doc, "constrained": constrained},
    }
    if constrained:
        from dataclasses import asdict

        from prototype.extract import STARTS, Weights

        meta["reader"].update(
            kind="extractive span search", starts=STARTS, weights=asdict(Weights())
        )

    def apply_update():
        changed = {d: corpus.update_docs[d] for d in corpus.changed_doc_ids()}
        stats = index.update(changed)
        meta["update"] = {
            "docs_changed": list(stats.docs_changed),
            "chunks_removed": stats.chunks_removed,
            "chunks_reembedded": stats.chunks_reembedded,
            "chunks_total": stats.chunks_total,
            "seconds": round(stats.seconds, 3),
        }
        if progress:
            progress(f"{name}: re-indexing changed docs", 1, 1, meta["update"])
        return None  # the same reader now reads the updated index

    result = evaluate_strategy(
        name,
        corpus,
        reader,
        build_seconds=index.build_seconds,
        apply_update=apply_update,
        progress=progress,
        cancel=cancel,
        meta=meta,
    )
    q = max(1, reader.timings["queries"])
    meta["stage_ms_mean"] = {
        k: round(1000 * reader.timings[k] / q, 1) for k in ("embed", "search", "generate")
    }
    return result
