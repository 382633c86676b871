"""Learn the extractive reader's sentence selection (issue 15): which sentences of the
retrieved chunks the reader is shown.

The reader is shown 6 sentences. They used to be the best by a hand-set sum (cosine + 0.5 x
chunk score + 0.35 x term share) over the 4 best chunks. Here every sentence of the 8 best
chunks gets FEATURES (below), and a logistic regression learns whether it holds the
gold answer (from the gold document), fitted on the tuning corpora of data/corpora/SPLITS.yaml
(originals, paraphrases, changed facts after the update). The regularisation C is chosen
leave-one-corpus-out on the share of questions whose answer is among the 6 shown. Test
corpora are never opened; brightwater_ferries (validation), when present, is scored with the
weights fitted on all tuning corpora and reported, never fitted on.

    python bench/learn_sentence_selector.py [--reader-runs BEFORE.json AFTER.json]

writes data/runs/sentence_selector.json: the weights on the features' own scale (the scaler
folded in), the CV table, the shown shares, and with --reader-runs the reader's figures from
two `bench/eval_corpora.py` result files (without and with the selection in the reader).

Tried on 2026-12-08 and not adopted (README): the answer was shown more often (tuning,
leave-one-corpus-out 0.970 -> 0.992; brightwater 0.877 -> 0.926), but the reader on
brightwater (`bench/eval_corpora.py --corpora brightwater_ferries --rows rag+constrained`,
with and without the selection) gained one paraphrase of 72 and nothing else, and its p50
rose 996 -> 1,593 ms (longer table rows shown, 8 chunks' sentences embedded and typed).
Those two runs' figures are kept in the JSON under `reader_on_validation`.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "data" / "runs" / "sentence_selector.json"
# Features, in order: the sentence's cosine to the question, alone and under its heading; its
# chunk's fused retrieval score, that score's gap to the best chunk's, 1 / (1 + the chunk's
# rank); the idf-weighted share of the question's terms in the sentence and its heading;
# whether it holds a word or word pair of the asked-for answer type (answer_types.type_score);
# its length in words (up to 60, / 60); whether it opens its chunk.
FEATURES = (
    "cos", "cos_head", "chunk", "chunk_gap", "chunk_rank", "lex_head", "type", "length", "first",
)  # fmt: skip
VALIDATION = "brightwater_ferries"
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
CHUNKS, SHOWN = 8, 6
HAND_CHUNKS = 4  # the hand-set selection's chunks (RagSettings.extract_top_k before 2026-12-08)


def _heading(chunk) -> str:
    return " - ".join(h for h in (chunk.title, chunk.heading) if h)


def candidate_sentences(hits) -> tuple[list, list[int]]:
    """Every reading unit of the hits once, as (chunk, position, sentence, chunk score), with
    its chunk's rank (overlapping windows repeat sentences), as select_passages lists them."""
    from prototype.text import reading_units

    cands, ranks, seen = [], [], set()
    for rank, h in enumerate(hits):
        for j, sent in enumerate(reading_units(h.chunk.text)):
            if sent not in seen:
                seen.add(sent)
                cands.append((h.chunk, j, sent, h.score))
                ranks.append(rank)
    return cands, ranks


def sentence_features(index, question: str, qvec, cands, ranks, best_chunk: float) -> np.ndarray:
    """FEATURES of each candidate sentence."""
    from prototype.answer_types import answer_subtype, answer_type, type_score
    from prototype.text import terms

    heads = [_heading(c[0]) for c in cands]
    sents = [c[2] for c in cands]
    cos = index.sentence_vectors(sents) @ qvec
    headed = [f"{h}: {t}" if h else t for h, t in zip(heads, sents, strict=True)]
    cos_head = index.sentence_vectors(headed) @ qvec
    idf = index.lexical.idf
    qterms = set(terms(question))
    total = sum(idf.get(t, 0.0) for t in qterms) or 1.0
    kind = answer_subtype(question) or answer_type(question)
    rows = []
    for (_, j, sent, score), head, rank, a, b in zip(
        cands, heads, ranks, cos, cos_head, strict=True
    ):
        said = qterms & (set(terms(sent)) | set(terms(head)))
        w = sent.split()
        windows = (w[i : i + k] for i in range(len(w)) for k in (1, 2) if i + k <= len(w))
        typed = max((type_score(kind, x) for x in windows), default=0.0)
        lex = sum(idf.get(t, 0.0) for t in said) / total
        gap, near = best_chunk - score, 1 / (1 + rank)
        rows.append([a, b, score, gap, near, lex, typed, min(len(w), 60) / 60, float(j == 0)])
    return np.array(rows, dtype=float)


def corpus_rows(name: str, embedder) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(question kind, features, holds-the-answer flags, the hand-set score of the 4-chunk
    selection, or -inf outside its 4 chunks) per question."""
    from prototype.backbone import embedding_store_for
    from prototype.corpus import load_corpus
    from prototype.evaluate import corpus_questions
    from prototype.index import RagIndex
    from prototype.scoring import contains_gold
    from prototype.text import terms

    corpus = load_corpus(ROOT / "data" / "corpora" / name)
    index = RagIndex.build(corpus.docs, embedder, store=embedding_store_for(embedder))
    s = index.settings
    out = []

    def run(questions):
        vecs = index.embed_questions([q.question for q in questions])
        for q, v in zip(questions, vecs, strict=True):
            hits = index.retrieve(q.question, v, CHUNKS)
            cands, ranks = candidate_sentences(hits)
            if not cands:
                continue
            f = sentence_features(index, q.question, v, cands, ranks, hits[0].score)
            gold = np.array([c[0].doc_id == q.doc and contains_gold(c[2], q.gold, q.aliases)
                             for c in cands])  # fmt: skip
            # the hand-set score of select_passages (term share without headings, as there)
            idf = index.lexical.idf
            qt = set(terms(q.question))
            total = sum(idf.get(t, 0.0) for t in qt) or 1.0
            lex = [sum(idf.get(t, 0.0) for t in qt & set(terms(c[2]))) / total for c in cands]
            hand = f[:, 0] + 0.5 * f[:, 2] + s.lexical_weight * np.array(lex)
            hand = np.where(np.array(ranks) < HAND_CHUNKS, hand, -np.inf)
            out.append((q.kind, f, gold, hand))

    run(corpus_questions(corpus))
    index.update({d: corpus.update_docs[d] for d in corpus.changed_doc_ids()})
    run(corpus_questions(corpus, ("updated",)))
    return out


def shown_share(rows, score) -> dict[str, float]:
    """Share of questions, per kind and overall, whose answer is among the SHOWN best."""
    by: dict[str, list[bool]] = {}
    for kind, f, gold, hand in rows:
        top = np.argsort(-score(f, hand), kind="stable")[:SHOWN]
        by.setdefault(kind, []).append(bool(gold[top].any()))
    out = {k: round(float(np.mean(v)), 3) for k, v in by.items()}
    out["all"] = round(float(np.mean([x for v in by.values() for x in v])), 4)
    return out


def fit(rows, c_value: float) -> tuple[np.ndarray, float]:
    """Logistic regression on standardised features, returned on the raw scale."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([r[1] for r in rows])
    y = np.concatenate([r[2] for r in rows])
    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=c_value, max_iter=5000).fit(scaler.transform(x), y)
    w = clf.coef_[0] / scaler.scale_
    return w, float(clf.intercept_[0] - w @ scaler.mean_)


def _reader_figures(path: str) -> dict:
    """The extractive row's metrics and stage times from a bench/eval_corpora.py file."""
    run = json.loads(Path(path).read_text())
    (row,) = [r for r in run["results"] if r["strategy"] == "rag+constrained"]
    keep = (
        "accuracy", "exact_match", "accuracy_paraphrased", "accuracy_updated", "source_accuracy",
        "latency_ms_p50", "prompt_tokens_mean",
    )  # fmt: skip
    return {
        **{k: row["metrics"][k] for k in keep if k in row["metrics"]},
        "stage_ms_mean": row["meta"]["stage_ms_mean"],
    }


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reader-runs", nargs=2, metavar=("BEFORE", "AFTER"))
    args = ap.parse_args(argv)
    from prototype.backbone import load_embedder
    from prototype.reading_adapter import tuning_corpora

    t0 = time.perf_counter()
    emb = load_embedder("cpu")
    names = list(tuning_corpora())
    data = {n: corpus_rows(n, emb) for n in names}
    if (ROOT / "data" / "corpora" / VALIDATION).exists():
        data[VALIDATION] = corpus_rows(VALIDATION, emb)
    hand = {n: shown_share(r, lambda f, h: h) for n, r in data.items()}
    cv = {}
    for c in C_GRID:
        per = {}
        for held in names:
            w, b = fit([r for n in names if n != held for r in data[n]], c)
            per[held] = shown_share(data[held], lambda f, h, w=w, b=b: f @ w + b)
        cv[str(c)] = {"mean": round(float(np.mean([per[n]["all"] for n in names])), 4), **per}
    best = max(C_GRID, key=lambda c: (cv[str(c)]["mean"], -c))  # ties: the stronger L2
    w, b = fit([r for n in names for r in data[n]], best)
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "chunks": CHUNKS,
        "shown": SHOWN,
        "features": list(FEATURES),
        "c": best,
        "weights": [round(float(v), 6) for v in w],
        "bias": round(b, 6),
        "hand_set_4_chunks": hand,
        "cv_leave_one_corpus_out": cv,
        "seconds": round(time.perf_counter() - t0),
    }
    if VALIDATION in data:
        result["validation"] = {VALIDATION: shown_share(data[VALIDATION], lambda f, h: f @ w + b)}
    if args.reader_runs:
        before, after = (_reader_figures(p) for p in args.reader_runs)
        result["reader_on_validation"] = {"hand-set, 4 chunks": before, "learnt, 8 chunks": after}
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "cv_leave_one_corpus_out"}, indent=1))
    for c, row in cv.items():
        print(f"C={c}: mean {row['mean']}", {n: row[n]["all"] for n in names})


if __name__ == "__main__":
    main()
