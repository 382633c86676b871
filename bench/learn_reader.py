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
2. `fit`: choose the fit target (exact-match spans, or every strictly right span), the
   regularisation and the softness of the `top` feature by leave-one-corpus-out
   cross-validation (fit on two tuning corpora, score the third) on the mean of exact match
   and strict accuracy, compare with the hand-picked and the current weights under the same
   simulation of the reader's two stages, refit on all tuning corpora and write
   data/runs/reader_weights.json (the learnt weights, the CV table, the date and machine).

The reader reads those weights from `prototype.candidates.Weights`, whose defaults are copied
from that file (a test checks they agree), so a run never depends on an unreviewed file.

The reader scores spans with the reading adapter (`prototype.reading_adapter`), so by default
the weights are fitted on out-of-fold adapter scores: for each tuning corpus, the dump of
`bench/reader_adapter.py --held <corpus>` (an adapter trained on the other two). `--lm base`
fits on the base model's scores and writes data/runs/reader_weights_base.json (the weights a reader
without a built adapter uses, `candidates.BASE_WEIGHTS`).

    python bench/learn_reader.py                # fit on the out-of-fold adapter dumps
    python bench/learn_reader.py --lm base      # dump the base model (if not cached) + fit
    python bench/learn_reader.py --lm base --redump   # recompute (after a feature change)
    python bench/learn_reader.py --calibration --target gold --softness 0.02 --c 30
                                                # out-of-fold calibration of the confidence
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

from prototype.reading_adapter import tuning_corpora  # noqa: E402  (re-exported to the benches)

CORPORA = ROOT / "data" / "corpora"
RUNS = ROOT / "data" / "runs"
CACHE = RUNS / "cache"
OUT = RUNS / "reader_weights.json"  # fitted on the reading adapter's scores
BASE_OUT = RUNS / "reader_weights_base.json"  # on the plain model's (no adapter built)
ALL_STARTS = 64  # score (nearly) every span start with the LM when dumping
# The weights picked by hand (coordinate search on aurora_handbook, 2026-12-01), before the
# field features existed: the baseline every CV row is compared with.
HAND = dict(
    type=3.0, overlap=2.0, distance=0.0, boundary=0.5, unit_cut=-2.0, echo=-0.5, words=0.0,
    cos=4.0, top=1.0, near=10.0, focus=1.0, prep=2.0, field=0.0, label=0.0, lm=1.0,
)  # fmt: skip
TARGETS = ("gold", "ok")  # fit to exact-match spans, or to every strictly right span
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)  # inverse L2 strength, chosen by CV
# `candidates.TOP_SOFTNESS`, chosen by CV with the rest: the `top` feature is recomputed from
# the cached cosines, so no re-dump is needed (0 = the hard argmax used before).
SOFTNESS_GRID = (0.0, 0.005, 0.01, 0.02, 0.05)
COS, TOP = 7, 8  # columns of the cosine and `top` features (Weights.FEATURES order)


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
    from prototype.scoring import exact_match, is_correct

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
                        "ok": c.doc_id == q.doc
                        and is_correct(c.text, q.gold, q.aliases, q.question),
                    }
                )
            out.append({"corpus": name, "id": q.qid, "kind": q.kind, "cands": rows})
            if len(out) % 25 == 0:
                print(f"  {name}: {len(out)} questions", flush=True)

    run(corpus_questions(corpus, ("original", "paraphrase")))
    index.update({d: corpus.update_docs[d] for d in corpus.changed_doc_ids()})
    run(corpus_questions(corpus, ("updated",)))  # changed_qa carries the new answers
    return out


def load_or_dump(names, redump: bool, lm: str = "base", tag: str = "") -> list[dict]:
    """The cached dumps of `names`. `lm` "reading-adapter": the dumps whose LM scores come
    from a reading adapter trained without that corpus (bench/reader_adapter.py --held), so
    the weights are fitted on scores like those the shipped adapter gives a new corpus."""
    from prototype.rows import SharedModels

    CACHE.mkdir(parents=True, exist_ok=True)
    if lm == "reading-adapter":
        paths = [CACHE / f"reader_adapter_{n}{tag}.json" for n in names]
        if missing := [p.name for p in paths if not p.exists()]:
            sys.exit(f"missing {missing}: run bench/reader_adapter.py --held <corpus> first")
        return [q for p in paths for q in json.loads(p.read_text())]
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


def arrays(q: dict, target: str = "gold", softness: float | None = None):
    """(features with the LM as last column, first-token LM, start keys, exact flags, strict
    containment flags, fit target flags) of the candidates the LM scored (a span that
    tokenises differently alone has no LM score). `target`: "gold" (exact match) or "ok".
    `softness`: recompute `top` with this TOP_SOFTNESS (None: as dumped)."""
    from prototype.candidates import soft_top

    rows = [c for c in q["cands"] if c["lm"] is not None]
    if not rows:
        return None
    x = np.array([c["f"] + [c["lm"]] for c in rows], dtype=float)
    if softness is not None:
        # the best sentence is the one whose candidates were dumped with top == 1 (else,
        # rarely, one with no candidate: then the best candidate's cosine stands in)
        tops = [c["f"][COS] for c in q["cands"] if c["f"][TOP] == 1.0]
        best = max(tops) if tops else max(c["f"][COS] for c in q["cands"])
        x[:, TOP] = [soft_top(best - v, softness) for v in x[:, COS]]
    first = np.array([c["first"] if c["first"] is not None else -30.0 for c in rows])
    keys = [tuple(c["key"]) for c in rows]
    exact = np.array([c["gold"] for c in rows], dtype=bool)
    ok = np.array([c["ok"] for c in rows], dtype=bool)
    return x, first, keys, exact, ok, (exact if target == "gold" else ok)


def fit(qs: list, c_value: float) -> np.ndarray:
    """Conditional logit: maximise sum over questions of log P(a target candidate), with
    P = softmax(x @ w) over the question's candidates, minus |w|^2 / 2C. Questions with no
    target candidate carry no signal and are left out."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    data = [(a[0], a[-1]) for a in qs if a[-1].any()]
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


def pick(q, w: np.ndarray, starts: int, confidence: bool = False):
    """The reader's two stages under weights `w` (last entry: the LM weight): keep the
    `starts` span starts with the best evidence + LM-weighted first-token log-prob, then the
    best candidate among them. (exact match, strict containment) of the pick, and with
    `confidence` its softmax probability among the kept candidates (extract.confidence)."""
    from prototype.extract import confidence as softmax_of

    x, first, keys, exact, ok, _ = q
    ev = x[:, :-1] @ w[:-1]
    stage1: dict = {}
    for i, k in enumerate(keys):
        stage1[k] = max(stage1.get(k, -np.inf), ev[i] + w[-1] * first[i])
    keep = set(sorted(stage1, key=lambda k: -stage1[k])[:starts])
    total = np.where([k in keep for k in keys], ev + w[-1] * x[:, -1], -np.inf)
    best = int(np.argmax(total))
    if confidence:
        return bool(exact[best]), bool(ok[best]), softmax_of(total[best], total[total > -np.inf])
    return bool(exact[best]), bool(ok[best])


def calibration(by_corpus: dict[str, list[dict]], target: str, soft: float, c_value: float):
    """Out-of-fold calibration of the pick's confidence: each tuning corpus's picks under
    weights fitted on the others, binned by confidence (the bins extract's CONFIDENT and
    UNSURE come from). Prints the bins; returns [(confidence, strict verdict)]."""
    from prototype.extract import STARTS

    pairs = []
    for held, questions in by_corpus.items():
        train = [
            a
            for n, qs in by_corpus.items()
            if n != held
            for q in qs
            if (a := arrays(q, target, soft))
        ]
        w = fit(train, c_value)
        for q in questions:
            a = arrays(q, softness=soft)
            _, right, conf = pick(a, w, STARTS, confidence=True) if a else (False, False, 0.0)
            pairs.append((conf, right))
    conf = np.array([c for c, _ in pairs])
    right = np.array([r for _, r in pairs])
    print(f"out-of-fold confidence, {len(pairs)} questions, strict accuracy {right.mean():.3f}")
    for lo, hi in ((0, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01)):
        m = (conf >= lo) & (conf < hi)
        acc = f"{right[m].mean():.3f}" if m.any() else "n/a"
        print(f"  [{lo}, {min(hi, 1)}): {m.sum():>4} picks, strict accuracy {acc}")
    return pairs


def score(questions: list[dict], w: np.ndarray, starts: int, softness: float | None = None) -> dict:
    """Exact match and strict accuracy under weights `w`, by kind and over all; a question
    with no scored candidate counts as a miss. "both" (their mean) is what CV maximises,
    since the issue's targets hold for both."""
    by: dict[str, list[tuple[bool, bool]]] = {}
    for q in questions:
        a = arrays(q, softness=softness)
        by.setdefault(q["kind"], []).append(pick(a, w, starts) if a else (False, False))
    out: dict = {}
    for k, v in by.items():
        out[f"em_{k}"] = round(float(np.mean([e for e, _ in v])), 4)
        out[f"acc_{k}"] = round(float(np.mean([o for _, o in v])), 4)
    flat = [x for v in by.values() for x in v]
    out["em"] = round(float(np.mean([e for e, _ in flat])), 4)
    out["acc"] = round(float(np.mean([o for _, o in flat])), 4)
    out["both"] = round((out["em"] + out["acc"]) / 2, 4)
    out["n"] = len(flat)
    return out


def as_vector(w) -> np.ndarray:
    """Weights (a `Weights` or a dict) as the fitted vector: the features, then the LM."""
    from prototype.candidates import Weights

    get = w.get if isinstance(w, dict) else lambda n: getattr(w, n)
    return np.array([get(n) for n in Weights.FEATURES] + [get("lm")])


def main() -> None:
    from prototype.candidates import BASE_WEIGHTS, TOP_SOFTNESS, Weights
    from prototype.extract import STARTS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redump", action="store_true", help="recompute the candidate cache")
    ap.add_argument(
        "--lm",
        choices=("base", "reading-adapter"),
        default="reading-adapter",
        help="whose span scores to fit on: the base model's, or out-of-fold reading adapters'",
    )
    ap.add_argument(
        "--softness",
        type=float,
        nargs="+",
        default=SOFTNESS_GRID,
        help="the `top` softness values to cross-validate (default: the whole grid)",
    )
    ap.add_argument(
        "--tag", default="", help="suffix of the out-of-fold dumps (_c2: reader_adapter --copies 2)"
    )
    ap.add_argument(
        "--c", type=float, nargs="+", default=C_GRID, help="the C values to cross-validate"
    )
    ap.add_argument(
        "--target", nargs="+", choices=TARGETS, default=TARGETS, help="fit targets to try"
    )
    ap.add_argument(
        "--calibration",
        action="store_true",
        help="print the out-of-fold calibration of the pick's confidence under the first "
        "--target, --softness and --c, and write nothing",
    )
    args = ap.parse_args()
    names = tuning_corpora()
    data = load_or_dump(names, args.redump, args.lm, args.tag)
    by_corpus = {n: [q for q in data if q["corpus"] == n] for n in names}
    if args.calibration:
        calibration(by_corpus, args.target[0], args.softness[0], args.c[0])
        return
    reach = {
        n: round(float(np.mean([any(c["ok"] for c in q["cands"]) for q in qs])), 4)
        for n, qs in by_corpus.items()
    }
    print("a right answer among the candidates:", reach)

    def show(label: str, row: dict) -> None:
        cells = "  ".join(f"{n[:8]} {row[n]['em']:.3f}/{row[n]['acc']:.3f}" for n in names)
        mean = np.mean([row[n]["both"] for n in names])
        print(f"{label:>16}  {cells}  mean(EM, acc) {mean:.3f}")

    cv: dict[str, dict] = {
        # each under the `top` it was chosen with: hard for the hand-picked weights
        "hand-picked": {n: score(by_corpus[n], as_vector(HAND), STARTS, 0.0) for n in names},
        "current": {
            n: score(by_corpus[n], as_vector(Weights()), STARTS, TOP_SOFTNESS) for n in names
        },
    }
    for target in args.target:
        for soft in args.softness:
            prepared = {
                n: [a for q in by_corpus[n] if (a := arrays(q, target, soft))] for n in names
            }
            for c_value in args.c:
                row = {}
                for held in names:
                    train = [a for n in names if n != held for a in prepared[n]]
                    row[held] = score(by_corpus[held], fit(train, c_value), STARTS, soft)
                cv[f"{target} top~{soft} C={c_value}"] = row
    print("EM / accuracy per tuning corpus; fitted rows: leave-one-corpus-out")
    for label, row in cv.items():
        show(label, row)
    fitted = [k for k in cv if " C=" in k]
    best = max(fitted, key=lambda k: np.mean([cv[k][n]["both"] for n in names]))
    target = best.split(" ")[0]
    soft_best = float(best.split("top~")[1].split(" ")[0])
    c_best = float(best.split("C=")[1])
    w = fit([a for q in data if (a := arrays(q, target, soft_best))], c_best)
    learnt = dict(zip([*Weights.FEATURES, "lm"], (round(float(v), 3) for v in w), strict=True))
    print("chosen:", best, "weights:", learnt)
    out = OUT if args.lm == "reading-adapter" else BASE_OUT
    out.write_text(
        json.dumps(
            {
                "what": "extractive reader weights, conditional logit over candidate spans",
                "tuning_corpora": names,
                "protocol": "leave-one-corpus-out CV over the tuning corpora; fit target "
                "(exact-match spans or every strictly right span), C and the softness of the "
                "'top' feature chosen by the mean of exact match and strict accuracy, both "
                "from the gold document; test corpora never opened",
                "starts": STARTS,
                "lm": args.lm,
                "right_answer_among_candidates": reach,
                "cv": cv,
                "chosen": {"target": target, "C": c_best, "top_softness": soft_best},
                "weights": learnt,
                "previous_weights": asdict(Weights() if out == OUT else BASE_WEIGHTS),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
