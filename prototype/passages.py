"""What a reader is shown: the retrieved chunks' best sentences, grouped by document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prototype.chunking import Chunk
from prototype.index import Hit, RagIndex
from prototype.text import reading_units, terms


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
    n: int | None = None,
    chunk_weight: float = 0.5,
    lexical_weight: float | None = None,
    one_doc: bool = True,
) -> list[Passage]:
    """The `n` sentences of the retrieved chunks that best match the question, grouped by
    document (best document first, sentences in document order).

    A sentence scores its own cosine to the question, plus `chunk_weight` x its chunk's
    retrieval score (sentences of the best chunk win ties), plus `lexical_weight` x its
    idf-weighted share of the question's terms (names and numbers the embedder blurs).
    With `one_doc`, only sentences of the best sentence's document are kept. `n` and
    `lexical_weight` default to the index's settings (`top_sentences`, `lexical_weight`).
    """
    n = index.settings.top_sentences if n is None else n
    if lexical_weight is None:
        lexical_weight = index.settings.lexical_weight
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
        qterms = set(terms(question))
        total = sum(idf.get(t, 0.0) for t in qterms) or 1.0
        lex = [sum(idf.get(t, 0.0) for t in qterms & set(terms(c[2]))) / total for c in cands]
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


def shown(passages: Sequence[Passage]) -> dict:
    """Per-answer record of what the reader was shown (kept with the answer, so the app
    displays it without retrieving a second time)."""
    return {"passages": [{"doc": p.doc_id, "text": p.text, "score": p.score} for p in passages]}


def context_block(passages: Sequence[Passage]) -> str:
    """The passages as the prompt shows them, each under its document id."""
    return "\n\n".join(f"Document: {p.doc_id}\n{p.text}" for p in passages)
