"""Choose the extractive reader's second look (issue 15): which picks to read again with more
context, and which of the two picks answers.

Every question of a corpus is read twice: as the reader reads it (6 sentences of the 4 best
chunks), then with 8 sentences of the 6 best chunks (`RagSettings.second_look_*`). Both picks'
verdicts (exact match, strict accuracy, from the gold document) and confidences are cached;
`summarise` then scores every threshold (a second look when the first pick's confidence is
below it) and rule ("always": the second pick answers; "higher": the more confident pick
answers), with the share of questions that look twice. The threshold and rule are chosen on
the tuning corpora; brightwater_ferries (validation) is reported, never chosen on; test
corpora are refused.

    python bench/reader_second_look.py dump aurora_handbook,kestrel_valley,harbour_clinic
    python bench/reader_second_look.py summarise   # writes data/runs/reader_second_look.json

A question whose first pick has confidence 1.0 never looks twice at any threshold and is left
out of the shares (a handful per corpus).
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

CACHE = ROOT / "data" / "runs" / "cache"
OUT = ROOT / "data" / "runs" / "reader_second_look.json"
THRESHOLDS = (0.3, 0.5, 0.7, 0.9)
RULES = ("always", "higher")


def dump(names: list[str]) -> None:
    from prototype.backbone import embedding_store_for
    from prototype.corpus import load_corpus
    from prototype.evaluate import corpus_questions
    from prototype.index import RagIndex
    from prototype.rag import RagReader
    from prototype.rag_settings import RagSettings
    from prototype.reading_adapter import tuning_corpora
    from prototype.rows import SharedModels
    from prototype.scoring import exact_match, is_correct

    models = SharedModels("cpu")
    for name in names:
        if name not in tuning_corpora() and name != "brightwater_ferries":
            sys.exit(f"{name}: only tuning corpora and brightwater_ferries (validation)")
        corpus = load_corpus(ROOT / "data" / "corpora" / name)
        settings = RagSettings(second_look_below=1.0)  # every question looks twice
        emb = models.embedder
        index = RagIndex.build(corpus.docs, emb, settings=settings, store=embedding_store_for(emb))
        reader = RagReader(index, models.reader, constrained=True)
        out = []

        def verdict(c, q) -> list:
            if c is None:
                return [False, False, 0.0]
            right = c.doc_id == q.doc
            return [
                right and exact_match(c.text, q.gold, q.aliases),
                right and is_correct(c.text, q.gold, q.aliases, q.question),
                c.confidence or 0.0,
            ]

        def run(questions, reader=reader, out=out):
            for q in questions:
                t = time.perf_counter()
                reader.pick_span(q.question)
                if reader.last_look is not None:
                    first, second = reader.last_look
                    out.append({"kind": q.kind, "first": verdict(first, q),
                                "second": verdict(second, q),
                                "seconds": round(time.perf_counter() - t, 3)})  # fmt: skip

        run(corpus_questions(corpus))
        index.update({d: corpus.update_docs[d] for d in corpus.changed_doc_ids()})
        run(corpus_questions(corpus, ("updated",)))
        (CACHE / f"second_look_{name}.json").write_text(json.dumps(out))
        print(f"{name}: {len(out)} questions", flush=True)


def score(rows: list[dict], threshold: float, rule: str) -> dict:
    """Exact match and strict accuracy under one threshold and rule, and the share looking."""
    picks, looked = [], 0
    for r in rows:
        first, second = r["first"], r["second"]
        if first[2] < threshold:
            looked += 1
            take = second if rule == "always" or second[2] > first[2] else first
        else:
            take = first
        picks.append(take)
    return {
        "exact": round(float(np.mean([p[0] for p in picks])), 4),
        "accuracy": round(float(np.mean([p[1] for p in picks])), 4),
        "right": int(sum(p[1] for p in picks)),
        "looked": round(looked / len(rows), 3),
    }


def summarise() -> dict:
    corpora = {}
    for path in sorted(CACHE.glob("second_look_*.json")):
        name = path.stem.removeprefix("second_look_")
        rows = json.loads(path.read_text())
        corpora[name] = {
            "questions": len(rows),
            "first look only": score(rows, 0.0, "always"),
            "second look for every question": score(rows, 2.0, "always"),
            "grid": {f"{t} {rule}": score(rows, t, rule) for t in THRESHOLDS for rule in RULES},
        }
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "corpora": corpora,
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    for name, c in corpora.items():
        base = c["first look only"]["right"]
        gains = {k: (v["right"] - base, v["looked"]) for k, v in c["grid"].items()}
        print(name, c["questions"], "right, first look only:", base, gains)
    return result


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("dump").add_argument("corpora")
    sub.add_parser("summarise")
    args = ap.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    dump(args.corpora.split(",")) if args.cmd == "dump" else summarise()


if __name__ == "__main__":
    main()
