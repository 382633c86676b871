"""Lexical retrieval: Okapi BM25 over chunks, with the idf the readers reuse."""

from __future__ import annotations

import math
from collections.abc import Mapping

from prototype.chunking import Chunk
from prototype.text import terms


class Lexical:
    """BM25 over chunks with an inverted index, so a query touches only chunks sharing a term.
    Pure Python and rebuilt in milliseconds, so updates need no bookkeeping. Kept over the
    `bm25s` package: same scores, same recall, and faster at this size (README,
    bench/bench_bm25.py)."""

    K1, B = 1.2, 0.75

    def __init__(self, chunks: Mapping[int, Chunk]):
        self.postings: dict[str, list[tuple[int, int]]] = {}
        self.lengths: dict[int, int] = {}
        for cid, c in chunks.items():
            words = terms(c.embed_text())
            self.lengths[cid] = len(words)
            counts: dict[str, int] = {}
            for t in words:
                counts[t] = counts.get(t, 0) + 1
            for t, n in counts.items():
                self.postings.setdefault(t, []).append((cid, n))
        n = max(1, len(self.lengths))
        self.avg = sum(self.lengths.values()) / n if self.lengths else 1.0
        self.idf = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()
        }

    def scores(self, query: str) -> dict[int, float]:
        """BM25 score of every chunk that shares a term with `query` (chunk id -> score)."""
        out: dict[int, float] = {}
        for t in set(terms(query)):
            for cid, tf in self.postings.get(t, ()):
                norm = self.K1 * (1 - self.B + self.B * self.lengths[cid] / self.avg)
                out[cid] = out.get(cid, 0.0) + self.idf[t] * tf * (self.K1 + 1) / (tf + norm)
        return out
