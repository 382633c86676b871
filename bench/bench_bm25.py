"""BM25 benchmark: our `prototype.lexical.Lexical` against the `bm25s` package, same process.

For each corpus (default: aurora_handbook and kestrel_valley) both BM25s index the same
chunks with the same terms (`prototype.text.terms`) and the same k1 / b, and are measured on
    - recall@3 of the gold document, BM25 alone and fused with MiniLM as RagIndex.retrieve
      does (originals / paraphrases),
    - build time and lexical scoring time per query (best of `--repeats`).
bm25s runs its "lucene" BM25, which is ours without the constant (k1 + 1) factor; the fusion
divides by the query's best score, so the constant cancels. Prints the ratio bm25s / ours.

    .venv/bin/python -m bench.bench_bm25 [CORPUS_DIR ...] [--repeats N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPORA = [ROOT / "data" / "corpora" / n for n in ("aurora_handbook", "kestrel_valley")]
from bench.bench_rag import best_of  # noqa: E402  (one timing rule for every bench)


class Bm25sLexical:
    """`Lexical`'s interface (`scores`, `idf`) over a `bm25s.BM25` index."""

    def __init__(self, chunks, k1: float, b: float):
        import bm25s

        from prototype.lexical import Lexical
        from prototype.text import terms

        self.ids = list(chunks)
        self.retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        self.retriever.index([terms(chunks[i].embed_text()) for i in self.ids], show_progress=False)
        self.vocab = self.retriever.vocab_dict
        # bm25s keeps idf x tf inside its score matrix; the readers need idf by term.
        self.idf = Lexical(chunks).idf

    def scores(self, query: str) -> dict[int, float]:
        from prototype.text import terms

        words = [t for t in set(terms(query)) if t in self.vocab]
        if not words:
            return {}
        s = self.retriever.get_scores(words)
        return {self.ids[i]: float(s[i]) for i in s.nonzero()[0]}


def _recall(index, lexical, questions, fused: bool) -> float:
    index.lexical = lexical
    hits = 0
    for text, doc in questions:
        if fused:
            docs = {h.chunk.doc_id for h in index.retrieve(text, index.embed_questions([text])[0])}
        else:
            lex = lexical.scores(text)
            top = sorted(lex, key=lambda cid: (-lex[cid], cid))[:3]
            docs = {index.chunks[cid].doc_id for cid in top}
        hits += doc in docs
    return hits / len(questions)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpora", nargs="*", default=[str(p) for p in CORPORA])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv if argv is not None else [])

    from prototype.backbone import load_embedder
    from prototype.corpus import load_corpus
    from prototype.index import RagIndex
    from prototype.lexical import Lexical

    embedder = load_embedder("cpu")
    out = {}
    for path in args.corpora:
        corpus = load_corpus(path)
        index = RagIndex.build(corpus.docs, embedder)
        assert index.settings.top_k == 3
        chunks = index.chunks
        sets = {
            "original": [(q.question, q.doc) for q in corpus.qa],
            "paraphrase": [(p, q.doc) for q in corpus.qa for p in q.paraphrases],
        }
        impls = {
            "ours": lambda c=chunks: Lexical(c),
            "bm25s": lambda c=chunks: Bm25sLexical(c, Lexical.K1, Lexical.B),
        }
        row = {}
        for name, make in impls.items():
            lexical = make()
            every = [t for qs in sets.values() for t, _ in qs]
            row[name] = {
                "recall3_bm25": [
                    round(_recall(index, lexical, qs, False), 3) for qs in sets.values()
                ],
                "recall3_fused": [
                    round(_recall(index, lexical, qs, True), 3) for qs in sets.values()
                ],
                "build_ms": round(1000 * best_of(args.repeats, make), 2),
                "score_us_per_query": round(
                    1e6
                    * best_of(args.repeats, lambda lx=lexical, qs=every: [lx.scores(q) for q in qs])
                    / len(every),
                    1,
                ),
            }
        out[corpus.name] = row
        print(
            f"{corpus.name}: {len(chunks)} chunks, {len(sets['original'])} originals, "
            f"{len(sets['paraphrase'])} paraphrases"
        )
        for name, r in row.items():
            print(
                f"  {name:6s} recall@3 BM25 alone {r['recall3_bm25'][0]:.3f} / "
                f"{r['recall3_bm25'][1]:.3f}, fused {r['recall3_fused'][0]:.3f} / "
                f"{r['recall3_fused'][1]:.3f} (originals / paraphrases); build "
                f"{r['build_ms']:.2f} ms, scoring {r['score_us_per_query']:.1f} us/query"
            )
        ratio = row["bm25s"]["score_us_per_query"] / row["ours"]["score_us_per_query"]
        build = row["bm25s"]["build_ms"] / row["ours"]["build_ms"]
        print(f"  bm25s / ours: scoring time {ratio:.2f}x, build time {build:.2f}x")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
