"""Choose the live box's "not in the documents" threshold on tuning data, then test it.

The score is the best MiniLM cosine between the (embedded) question and any chunk. Tuning:
aurora_handbook's questions and paraphrases (in scope) against data/offtopic/tuning.txt; the
threshold is the midpoint of the widest gap that maximises balanced accuracy. Test, run once
and never read for misses: kestrel_valley's questions and paraphrases against
data/offtopic/test.txt. Writes data/runs/relevance_threshold.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def scores(corpus_dir: Path, offtopic: Path, embedder) -> tuple[list[float], list[float]]:
    from prototype.corpus import load_corpus
    from prototype.index import RagIndex
    from prototype.relevance import best_cosine

    corpus = load_corpus(corpus_dir)
    index = RagIndex.build(corpus.docs, embedder)
    inside = [q.question for q in corpus.qa] + [p for q in corpus.qa for p in q.paraphrases]
    outside = [line for line in offtopic.read_text().splitlines() if line.strip()]
    return best_cosine(index, inside), best_cosine(index, outside)


def balanced(inside: list[float], outside: list[float], t: float) -> float:
    return (
        sum(s >= t for s in inside) / len(inside) + sum(s < t for s in outside) / len(outside)
    ) / 2


def choose(inside: list[float], outside: list[float]) -> float:
    cands = sorted(set(inside) | set(outside))
    best = max(balanced(inside, outside, t) for t in cands)
    ok = [t for t in cands if balanced(inside, outside, t) == best]
    # the lowest threshold that reaches it, moved halfway down to the next lower score: the
    # margin goes to answering, since refusing a real question costs more than a stray one
    lo = ok[0]
    below = [s for s in cands if s < lo]
    return round(((below[-1] if below else lo) + lo) / 2, 4)


def main(argv: list[str] | None = None) -> dict:
    from prototype.backbone import load_embedder

    emb = load_embedder("cpu")
    tin, tout = scores(
        ROOT / "data/corpora/aurora_handbook", ROOT / "data/offtopic/tuning.txt", emb
    )
    threshold = choose(tin, tout)
    xin, xout = scores(ROOT / "data/corpora/kestrel_valley", ROOT / "data/offtopic/test.txt", emb)

    def report(inside, outside):
        return {
            "in_scope_kept": round(sum(s >= threshold for s in inside) / len(inside), 3),
            "off_topic_refused": round(sum(s < threshold for s in outside) / len(outside), 3),
            "balanced_accuracy": round(balanced(inside, outside, threshold), 3),
            "n_in_scope": len(inside),
            "n_off_topic": len(outside),
        }

    out = {
        "threshold": threshold,
        "tuning (aurora_handbook + offtopic/tuning.txt)": report(tin, tout),
        "test (kestrel_valley + offtopic/test.txt)": report(xin, xout),
    }
    (ROOT / "data/runs/relevance_threshold.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
