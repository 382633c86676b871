"""RAG benchmark: our index build against a raw `SentenceTransformer.encode` of the same chunks
(same process, same embedder; target ratio <= 1.2), and query latency split into embed /
search / generate at batch size 1.

    .venv/bin/python -m bench.bench_rag [CORPUS_DIR] [--queries N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpora" / "aurora_handbook"


def best_of(n: int, fn) -> float:
    """Minimum of n timings: the least disturbed run on a shared machine."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--queries", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv if argv is not None else [])

    from prototype.backbone import load_embedder
    from prototype.corpus import load_corpus
    from prototype.generator import LocalGenerator
    from prototype.index import RagIndex
    from prototype.passages import select_passages
    from prototype.rag import RagReader, rag_messages

    corpus = load_corpus(args.corpus)
    embedder = load_embedder("cpu")
    index = RagIndex.build(corpus.docs, embedder)  # warm-up (and the chunk list)
    texts = [c.embed_text() for c in index.chunks.values()]

    def raw():
        embedder.encode(
            texts,
            batch_size=index.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    t_raw = best_of(args.repeats, raw)
    t_ours = best_of(args.repeats, lambda: RagIndex.build(corpus.docs, embedder))
    print(
        f"index build: {len(texts)} chunks  ours {t_ours * 1000:.0f} ms  raw encode "
        f"{t_raw * 1000:.0f} ms  ratio {t_ours / t_raw:.2f} (target <= 1.2)"
    )

    generator = LocalGenerator.load("cpu")
    reader = RagReader(index, generator)
    questions = [q.question for q in (corpus.qa or ())][: args.queries] or ["What is this about?"]
    embed, search, gen, total = [], [], [], []
    for q in questions:  # batch size 1: what one user waits for
        t0 = time.perf_counter()
        qvec = index.embed_questions([q])[0]
        t1 = time.perf_counter()
        hits = index.retrieve(q, qvec, reader.k)
        msgs = [
            rag_messages(q, select_passages(index, q, qvec, hits, reader.sentences), reader.style)
        ]
        t2 = time.perf_counter()
        generator.generate(msgs, reader.max_new_tokens)
        t3 = time.perf_counter()
        embed.append(t1 - t0)
        search.append(t2 - t1)
        gen.append(t3 - t2)
        total.append(t3 - t0)
    ms = lambda xs: round(statistics.median(xs) * 1000, 1)  # noqa: E731
    # The extractive reader (rag+constrained): one prompt forward plus one batched span
    # forward instead of token-by-token generation.
    extractive = RagReader(index, generator, constrained=True)
    ext = [extractive([q])[0].seconds for q in questions]
    adapted = _reading_adapter_ratio(index, extractive, questions)
    out = {
        "chunks": len(texts),
        "build_ms": round(t_ours * 1000, 1),
        "raw_encode_ms": round(t_raw * 1000, 1),
        "build_ratio": round(t_ours / t_raw, 3),
        "query_ms_p50": {
            "embed": ms(embed),
            "search+select": ms(search),
            "generate": ms(gen),
            "total": ms(total),
        },
        "extractive_query_ms_p50": ms(ext),
        "reading_adapter_vs_plain": adapted,
        "queries": len(questions),
    }
    print(
        f"query p50 over {len(questions)} queries at batch 1: embed {ms(embed)} ms, "
        f"search+sentence select {ms(search)} ms, generate {ms(gen)} ms, total {ms(total)} ms"
    )
    print(
        f"extractive reader (rag+constrained) query p50 {ms(ext)} ms end to end; "
        f"free generation / extractive: {statistics.median(total) / statistics.median(ext):.2f}x"
    )
    return out


def _reading_adapter_ratio(index, plain_reader, questions) -> dict | None:
    """The extractive reader with the reading adapter merged against the plain model, same
    process, interleaved question by question (a machine slowing down hits both alike).
    The merged adapter adds no computation, so the ratio should be about 1."""
    from prototype import reading_adapter
    from prototype.generator import LocalGenerator
    from prototype.rag import RagReader

    if not reading_adapter.available():
        print("reading adapter: not built (`make adapter`), not timed")
        return None
    adapted = RagReader(
        index, LocalGenerator(*reading_adapter.load_reading_model("cpu")), constrained=True
    )
    adapted([questions[0]])  # warm-up: the shared system-prompt cache
    plain, tuned = [], []
    for q in questions:
        plain.append(plain_reader([q])[0].seconds)
        tuned.append(adapted([q])[0].seconds)
    p50 = lambda xs: round(statistics.median(xs) * 1000, 1)  # noqa: E731
    ratio = round(statistics.median(tuned) / statistics.median(plain), 3)
    print(
        f"extractive reader p50, interleaved: plain {p50(plain)} ms, with the reading adapter "
        f"{p50(tuned)} ms; adapter / plain {ratio:.2f}x"
    )
    return {"plain_ms_p50": p50(plain), "adapter_ms_p50": p50(tuned), "ratio": ratio}


if __name__ == "__main__":
    main(sys.argv[1:])
