"""Learn the extractive reader's weights across the tuning corpora (issue 15, part 3).

The reader (`prototype.extract`) picks the span that maximises a weighted sum of evidence
features plus the LM's log-probability of writing it. Its weights used to be picked by
coordinate search on one corpus (aurora_handbook). Here they are *learnt*: a conditional
logit (softmax over each question's candidate spans, L2-regularised; McFadden 1974) fitted on
every tuning corpus of data/corpora/SPLITS.yaml. Test corpora are never opened.

Two steps:
1. `dump`: run retrieval and the LM once per tuning question (originals, paraphrases, and
   the changed facts after the update) and store every candidate's features, LM scores and
   whether it is the gold answer (exact match after normalisation, from the gold document) in
   a cache under data/runs/cache/ (ignored by git, rebuilt on demand).
2. `fit`: choose the regularisation by leave-one-corpus-out cross-validation (fit on two
   tuning corpora, score the third), compare with the current weights under the same
   simulation of the reader's two stages, refit on all tuning corpora and write
   data/runs/reader_weights.json (the learnt weights, the CV table, the date and machine).

The reader reads those weights from `prototype.candidates.Weights`, whose defaults are copied
from that file (a test checks they agree), so a run never depends on an unreviewed file.

    python bench/learn_reader.py            # dump (if not cached) + fit
    python bench/learn_reader.py --redump   # recompute the cache (after a feature change)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPORA = ROOT / "data" / "corpora"
RUNS = ROOT / "data" / "runs"
CACHE = RUNS / "cache"
OUT = RUNS / "reader_weights.json"
ALL_STARTS = 64  # score (nearly) every span start with the LM when dumping
# The weights picked by hand (coordinate search on aurora_handbook, 2026-12-01), before the
# field features existed: the baseline every CV row is compared with.
HAND = dict(
    type=3.0, overlap=2.0, distance=0.0, boundary=0.5, unit_cut=-2.0, echo=-0.5, words=0.0,
    cos=4.0, top=1.0, near=10.0, focus=1.0, prep=2.0, field=0.0, label=0.0, lm=1.0,
)  # fmt: skip
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)  # inverse L2 strength, chosen by CV


def tuning_corpora() -> list[str]:
    import yaml

    return list(yaml.safe_load((CORPORA / "SPLITS.yaml").read_text())["tuning"])


def dump(name: str, models, old: list[dict] | None = None) -> list[dict]:
    """Every tuning question of `name` with its candidates' features, LM scores and labels.
    `old`: a previous dump whose LM scores are reused where a question's candidate spans are
    the same (a feature change re-scores in a minute instead of a quarter of an hour)."""
    from prototype.backbone import embedding_store_for
    from prototype.corpus import load_corpus
    from prototype.evaluate import corpus_questions
    from prototype.extract import SpanExtractor
    from prototype.index import RagIndex
    from prototype.rag import RagReader
    from prototype.rag_settings import RagSettings
    from prototype.scoring import exact_match

    corpus = load_corpus(CORPORA / name)
    emb, gen = models.embedder, models.generator
    index = RagIndex.build(corpus.docs, emb, settings=RagSettings(), store=embedding_store_for(emb))
    reader = RagReader(index, gen, constrained=True)
    ext = SpanExtractor(gen.model, gen.tokenizer, starts=ALL_STARTS)
    out = []
    before = {(q["id"], q["kind"]): q["cands"] for q in old or []}

    def run(questions):
        for q in questions:
            cands, prompt, _, _ = reader.read_candidates(q.question)
            rows = []
            prev = before.get((q.qid, q.kind))
            texts = [c.text for c in cands]
            # a cache without span texts matches by count: the span rules did not change
            same = prev is not None and len(prev) == len(texts)
            same = same and all(r.get("text", t) == t for r, t in zip(prev, texts, strict=True))
            if cands and not same:
                _, _, lms = ext.score(prompt, cands)
                lm = [lms.get(c) for c in cands]
                first = [ext.first_lp.get((c.sentence, c.start)) for c in cands]
            elif cands:
                lm, first = [r["lm"] for r in prev], [r["first"] for r in prev]
            for i, c in enumerate(cands):
                rows.append(
                    {
                        "text": c.text,
                        "f": [float(v) for v in c.features],
                        "key": [c.sentence, c.start],
                        "lm": lm[i],
                        "first": first[i],
                        "gold": c.doc_id == q.doc and exact_match(c.text, q.gold, q.aliases),
                    }
                )
            out.append({"corpus": name, "id": q.qid, "kind": q.kind, "cands": rows})
            if len(out) % 25 == 0:
                print(f"  {name}: {len(out)} questions", flush=True)

    run(corpus_questions(corpus, ("original", "paraphrase")))
    index.update({d: corpus.update_docs[d] for d in corpus.changed_doc_ids()})
    run(corpus_questions(corpus, ("updated",)))  # changed_qa carries the new answers
    return out


def load_or_dump(names, redump: bool) -> list[dict]:
    from prototype.rows import SharedModels

    CACHE.mkdir(parents=True, exist_ok=True)
    models = None
    data = []
    for name in names:
        path = CACHE / f"reader_{name}.json"
        if redump or not path.exists():
            models = models or SharedModels("cpu")
            t0 = time.perf_counter()
            old = json.loads(path.read_text()) if path.exists() else None
            rows = dump(name, models, old)
            path.write_text(json.dumps(rows))
            print(f"dumped {name}: {len(rows)} questions in {time.perf_counter() - t0:.0f} s")
        data += json.loads(path.read_text())
    return data


def arrays(q: dict, lm_weight_default: float = -30.0):
    """(features with the LM as last column, first-token LM, start keys, gold flags) of the
    candidates the LM scored (a span that tokenises differently alone has no LM score)."""
    rows = [c for c in q["cands"] if c["lm"] is not None]
    if not rows:
        return None
    x = np.array([c["f"] + [c["lm"]] for c in rows], dtype=float)
    first = np.array([c["first"] if c["first"] is not None else lm_weight_default for c in rows])
    keys = [tuple(c["key"]) for c in rows]
    gold = np.array([c["gold"] for c in rows], dtype=bool)
    return x, first, keys, gold


def fit(qs: list, c_value: float) -> np.ndarray:
    """Conditional logit: maximise sum over questions of log softmax(x @ w)[gold] - |w|^2/2C.
    Questions with no gold candidate carry no signal and are left out."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    data = [(x, g) for x, _, _, g in qs if g.any()]
    dim = data[0][0].shape[1]

    def loss(w):
        total, grad = 0.0, np.zeros(dim)
        for x, g in data:
            s = x @ w
            lse = logsumexp(s)
            p = np.exp(s - lse)
            total -= logsumexp(s[g]) - lse
            pg = np.where(g, np.exp(s - logsumexp(s[g])), 0.0)
            grad -= x.T @ (pg - p)
        total += w @ w / (2 * c_value)
        return total, grad + w / c_value

    res = minimize(loss, np.zeros(dim), jac=True, method="L-BFGS-B")
    return res.x


def pick(q, w: np.ndarray, starts: int) -> bool:
    """The reader's two stages under weights `w` (last entry: the LM weight): keep the
    `starts` span starts with the best evidence + LM-weighted first-token log-prob, then the
    best candidate among them. True when it is a gold answer."""
    x, first, keys, gold = q
    ev = x[:, :-1] @ w[:-1]
    stage1: dict = {}
    for i, k in enumerate(keys):
        stage1[k] = max(stage1.get(k, -np.inf), ev[i] + w[-1] * first[i])
    keep = set(sorted(stage1, key=lambda k: -stage1[k])[:starts])
    total = np.where([k in keep for k in keys], ev + w[-1] * x[:, -1], -np.inf)
    return bool(gold[int(np.argmax(total))])


def score(questions: list[dict], w: np.ndarray, starts: int) -> dict:
    """Exact-match accuracy by kind under weights `w`; a question with no scored candidate
    counts as a miss."""
    by: dict[str, list[bool]] = {}
    for q in questions:
        a = arrays(q)
        by.setdefault(q["kind"], []).append(bool(a) and pick(a, w, starts))
    return {k: round(float(np.mean(v)), 4) for k, v in by.items()} | {
        "all": round(float(np.mean([x for v in by.values() for x in v])), 4),
        "n": sum(len(v) for v in by.values()),
    }


def as_vector(w) -> np.ndarray:
    """Weights (a `Weights` or a dict) as the fitted vector: the features, then the LM."""
    from prototype.candidates import Weights

    get = w.get if isinstance(w, dict) else lambda n: getattr(w, n)
    return np.array([get(n) for n in Weights.FEATURES] + [get("lm")])


def main() -> None:
    from prototype.candidates import Weights
    from prototype.extract import STARTS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redump", action="store_true", help="recompute the candidate cache")
    args = ap.parse_args()
    names = tuning_corpora()
    data = load_or_dump(names, args.redump)
    prepared = {n: [arrays(q) for q in data if q["corpus"] == n] for n in names}
    prepared = {n: [a for a in v if a is not None] for n, v in prepared.items()}
    by_corpus = {n: [q for q in data if q["corpus"] == n] for n in names}
    reach = {
        n: round(float(np.mean([any(c["gold"] for c in q["cands"]) for q in qs])), 4)
        for n, qs in by_corpus.items()
    }
    print("gold among candidates:", reach)

    cv: dict[str, dict] = {
        "hand-picked": {n: score(by_corpus[n], as_vector(HAND), STARTS) for n in names},
        "current": {n: score(by_corpus[n], as_vector(Weights()), STARTS) for n in names},
    }
    for c_value in C_GRID:
        row = {}
        for held in names:
            train = [a for n in names if n != held for a in prepared[n]]
            row[held] = score(by_corpus[held], fit(train, c_value), STARTS)
        cv[f"C={c_value}"] = row
    for label, row in cv.items():
        mean = np.mean([row[n]["all"] for n in names])
        print(
            f"{label:>10}  "
            + "  ".join(f"{n[:10]} {row[n]['all']:.3f}" for n in names)
            + f"  mean {mean:.3f}"
        )
    best = max(C_GRID, key=lambda c: np.mean([cv[f"C={c}"][n]["all"] for n in names]))
    w = fit([a for n in names for a in prepared[n]], best)
    learnt = dict(zip([*Weights.FEATURES, "lm"], (round(float(v), 3) for v in w), strict=True))
    print("chosen C:", best, "weights:", learnt)
    OUT.write_text(
        json.dumps(
            {
                "what": "extractive reader weights, conditional logit over candidate spans",
                "tuning_corpora": names,
                "protocol": "leave-one-corpus-out CV over tuning corpora; exact match after "
                "normalisation, from the gold document; test corpora never opened",
                "starts": STARTS,
                "gold_among_candidates": reach,
                "cv_exact_match": cv,
                "chosen_C": best,
                "weights": learnt,
                "previous_weights": asdict(Weights()),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
