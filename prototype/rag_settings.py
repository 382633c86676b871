"""RagSettings: every tuning number of the RAG rows (chunking, retrieval, passages shown)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class RagSettings:
    """Everything that changes what the RAG readers are shown. Recall figures are recall@3 or
    "answer among the sentences shown" on data/corpora/aurora_handbook (originals /
    paraphrases) with kestrel_valley held out; README, Prototype."""

    # ~90 words keeps one handbook section (heading + paragraph) per chunk, well under
    # MiniLM's 256-word-piece window, and small enough that retrieval points at one fact area.
    chunk_words: int = 90
    # One sentence of overlap between consecutive windows of a long paragraph, so a fact split
    # across a window boundary is still whole in one chunk.
    chunk_overlap_sentences: int = 1
    # Exact inner-product search is fastest and exact up to tens of thousands of 384-d vectors
    # on a CPU (a flat scan of 20k x 384 floats is ~30 MB, ~5 ms); above that HNSW keeps
    # queries sub-millisecond at a small recall cost.
    hnsw_threshold: int = 20_000
    # HNSW graph degree and search breadth: common faiss values, not tuned here (the demo
    # corpora stay far below `hnsw_threshold`, so they always use the exact flat index).
    hnsw_m: int = 32
    hnsw_ef_search: int = 64
    # Chunks retrieved per question for the free-text reader: with fusion recall@3 is already
    # 1.0 / .99 (below), so more chunks would add distractor sentences, not answers.
    top_k: int = 3
    # Hybrid retrieval: final score = cosine + lexical_weight * BM25 / max BM25 of the query.
    # Dense alone misses questions that share a rare term with one page ("Fjord Day", "leave
    # year") but a common one ("Aurora Fjordline") with the overview page; BM25 alone misses
    # paraphrases. Recall@3: dense .93 / .98, BM25 1.0 / .93, fused at 0.35 1.0 / .99.
    lexical_weight: float = 0.35
    # Dense and lexical candidates each, before fusion: far more than `top_k`, so a chunk
    # strong on one signal and fair on the other can still win; every recall here used 20.
    candidates: int = 20
    # Sentences shown to the free-text reader, all from the best document: a 135M reader
    # loses the fact in a longer context (about 60 % right over the top-3 chunks whole).
    top_sentences: int = 2
    # The extractive reader (rag+constrained) sees more sentences from more chunks and
    # documents: the span search, not a 135M reader's attention, has to find the fact, so
    # recall matters more than a short context. Answer among the sentences shown: 2 of 3
    # chunks .90 / .80, 5 of 3 chunks 1.0 / .943, 6 of 4 chunks 1.0 / .992 (kestrel_valley
    # 1.0 / 1.0 either way); reader accuracy in the README.
    extract_sentences: int = 6
    extract_top_k: int = 4
    # The second look: an unsure extractive pick (confidence under this, extract.UNSURE) is
    # read again with 8 sentences of the 6 best chunks, and the second pick answers (0 turns
    # it off). Showing every question that much lifted brightwater's reader .722 -> .750 but
    # its p50 627 -> 1,151 ms; here only unsure picks pay. Chosen on the tuning corpora
    # (data/runs/reader_second_look.json): at 0.5, 1-13 % of their questions look twice, +3
    # right of 427 (harbour +3); at 0.7, +6, but 43 % of brightwater's and 65 % of the tiny
    # demo corpus's questions would look twice, which moves the median latency past 1 s.
    second_look_below: float = 0.5
    second_look_top_k: int = 6
    second_look_sentences: int = 8
    # Corpus-common words: a question word found in at least this share of the documents
    # ("Aurora", "Fjordline", "staff" in a company handbook) says nothing about which document
    # answers, yet it pulls the question's embedding towards the overview page. Such words are
    # left out of the text that is embedded (BM25 still sees the whole question; its idf
    # already discounts them). Answer among 5 sentences shown: .951 / .910 with the whole
    # question, 1.0 / .934 without the common words (kestrel_valley: .962 / .981 -> 1.0 / 1.0).
    common_doc_share: float = 0.4
    # Below this many documents a share says little (2 of 3 is 67 %): nothing is left out.
    common_min_docs: int = 5

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("lexical_weight", "chunk_overlap_sentences"):
                if value < 0:
                    raise ValueError(f"`{f.name}` must be >= 0, got {value}")
            elif f.name == "second_look_below":
                if not 0 <= value <= 1:
                    raise ValueError(f"`{f.name}` must be in [0, 1], got {value}")
            elif f.name == "common_doc_share":
                if not 0 < value <= 1:
                    raise ValueError(f"`{f.name}` must be in (0, 1], got {value}")
            elif value < 1:
                raise ValueError(f"`{f.name}` must be >= 1, got {value}")
