"""Is a live question about the documents at all? The best cosine between the question (as
retrieval embeds it) and any chunk, against a threshold chosen on tuning data."""

from __future__ import annotations

from collections.abc import Sequence

# Chosen by bench/tune_relevance.py on aurora_handbook's questions and paraphrases against
# 40 off-topic questions (data/offtopic/tuning.txt); its test figures on kestrel_valley are in
# data/runs/relevance_threshold.json and the README.
NOT_IN_DOCUMENTS_BELOW = 0.3682
NOT_FOUND = "not in the documents"


def best_cosine(index, questions: Sequence[str]) -> list[float]:
    """For each question, the cosine of its nearest chunk (MiniLM, as retrieval embeds it)."""
    if not questions:
        return []
    qvecs = index.embed_questions(list(questions))
    return [hits[0][1] if hits else 0.0 for hits in index.dense(qvecs, 1)]


def not_in_documents(index, question: str, threshold: float = NOT_IN_DOCUMENTS_BELOW):
    """None when the question is about the documents; otherwise the live answer "not in the
    documents" (an evaluate.Answer with no source, the closest chunks as what was shown), so
    the reader never dresses an unrelated span up as an answer. Live questions only: the
    measured prototype rows answer every question."""
    import json
    import time

    from prototype.evaluate import Answer

    t0 = time.perf_counter()
    score = best_cosine(index, [question])[0]
    if score >= threshold:
        return None
    hits = index.search(question)
    return Answer(
        raw=json.dumps({"answer": NOT_FOUND, "source": None}),
        prompt_tokens=0,  # the generator was never asked
        seconds=time.perf_counter() - t0,
        retrieved=tuple(dict.fromkeys(h.chunk.doc_id for h in hits)),
        extra={
            "passages": [
                {"doc": h.chunk.doc_id, "text": h.chunk.text, "score": h.score} for h in hits
            ],
            "relevance": round(score, 4),
        },
    )
