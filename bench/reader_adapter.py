"""Experiment (issue 15, part 3): does a LoRA "reading" adapter, trained on other corpora,
make SmolLM2 a better span scorer on a corpus it never saw?

One fold of leave-one-corpus-out over the tuning corpora (SPLITS.yaml; test corpora are never
opened): the adapter is trained on the reader prompts of the other tuning corpora (originals,
paraphrases and changed facts, each target the gold span as the shown sentences spell it,
plus one counterfactual copy whose span is swapped for another value of the same kind), then
the held-out corpus is dumped twice, with the base LM and with the adapter, in the cache
format of bench/learn_reader.py. Printed: exact match of the LM alone (argmax of its span
score) and of the full reader under the current weights, base vs adapter.

    python bench/reader_adapter.py --held harbour_clinic
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from learn_reader import CACHE, CORPORA, arrays, as_vector, dump, pick, tuning_corpora  # noqa: E402


def examples_for(name: str, models, rng) -> list:
    from prototype.backbone import embedding_store_for
    from prototype.corpus import load_corpus
    from prototype.evaluate import corpus_questions
    from prototype.fine_tune import answer_json
    from prototype.hybrid import _invented_value
    from prototype.index import RagIndex
    from prototype.lora import TrainExample
    from prototype.rag import RagReader
    from prototype.rag_settings import RagSettings
    from prototype.scoring import exact_match

    corpus = load_corpus(CORPORA / name)
    emb, gen = models.embedder, models.generator
    index = RagIndex.build(corpus.docs, emb, settings=RagSettings(), store=embedding_store_for(emb))
    reader = RagReader(index, gen, constrained=True)
    rows: list = []
    pool = [q.gold for q in corpus_questions(corpus, ("original",))]

    def run(questions):
        for q in questions:
            msgs, _, _ = reader.prepare([q.question])
            cands, _, _, _ = reader.read_candidates(q.question)
            hits = [
                c for c in cands if c.doc_id == q.doc and exact_match(c.text, q.gold, q.aliases)
            ]
            if not hits:
                continue
            span = min(hits, key=lambda c: len(c.text)).text
            rows.append(TrainExample(msgs[0], answer_json(span, q.doc)))
            # counterfactual: the same prompt with the span swapped, the target follows it
            alt = _invented_value(span, rng)
            if alt is None:
                others = [g for g in pool if g != q.gold and not any(ch.isdigit() for ch in g)]
                alt = rng.choice(others) if others else None
            user = msgs[0][-1]["content"]
            if alt and user.count(span) == 1:
                m2 = [dict(m) for m in msgs[0]]
                m2[-1]["content"] = user.replace(span, alt)
                rows.append(TrainExample(m2, answer_json(alt, q.doc), original=False))

    run(corpus_questions(corpus, ("original", "paraphrase")))
    index.update({d: corpus.update_docs[d] for d in corpus.changed_doc_ids()})
    run(corpus_questions(corpus, ("updated",)))
    return rows


def summary(qs: list[dict]) -> dict:
    from prototype.candidates import TOP_SOFTNESS, Weights
    from prototype.extract import STARTS

    w = as_vector(Weights())
    lm_em, rd_em, rd_ok = [], [], []
    for q in qs:
        a = arrays(q, softness=TOP_SOFTNESS)
        if a is None:
            lm_em.append(False), rd_em.append(False), rd_ok.append(False)
            continue
        x, _, _, exact, _, _ = a
        lm_em.append(bool(exact[int(np.argmax(x[:, -1]))]))
        e, o = pick(a, w, STARTS)
        rd_em.append(e), rd_ok.append(o)
    return {
        "lm_alone_em": round(float(np.mean(lm_em)), 3),
        "reader_em": round(float(np.mean(rd_em)), 3),
        "reader_acc": round(float(np.mean(rd_ok)), 3),
        "n": len(qs),
    }


# Epoch-bound, not time-bound (the cap is far above the ~16 min 3 epochs take alone on the
# 2-core CPU), so the adapter does not depend on what else the machine runs.
SETTINGS = dict(top_layers=8, lr=1e-3, max_epochs=3, max_seconds=3600, stop_at=1.0, augment=False)


def train(models, names: list[str], name: str):
    """(peft model, TrainStats, adapter dir, rows): the reading adapter trained on the reader
    prompts of the tuning corpora `names` (seeded, so the same rows every run)."""
    from prototype.adapters import train_or_load
    from prototype.lora import LoraSettings

    gen = models.generator
    rng = random.Random(0)
    t0 = time.perf_counter()
    exs = [e for n in names for e in examples_for(n, models, rng)]
    print(f"{len(exs)} training rows in {time.perf_counter() - t0:.0f} s", flush=True)
    pm, st, path = train_or_load(
        gen.model, gen.tokenizer, exs, LoraSettings(**SETTINGS, bf16=True), name=name,
        stage="reader", progress=lambda stage, i, n, info: print(stage, i, n, info, flush=True),
    )  # fmt: skip
    print("trained", st.steps, "steps", st.epochs, "epochs", round(st.seconds), "s", path)
    return pm, st, path, len(exs)


def fold(held: str, names: list[str], models) -> None:
    """Train on the other tuning corpora, dump `held` with the base LM and with the adapter."""
    gen = models.generator
    base_path = CACHE / f"reader_{held}.json"
    if not base_path.exists():
        base_path.write_text(json.dumps(dump(held, models)))
    base = json.loads(base_path.read_text())
    pm, st, _, rows = train(models, [n for n in names if n != held], f"reader-minus-{held}")
    object.__setattr__(gen, "model", pm)  # LocalGenerator is frozen
    tuned = dump(held, models)
    (CACHE / f"reader_adapter_{held}.json").write_text(json.dumps(tuned))
    trained = {"rows": rows, "steps": st.steps, "seconds": round(st.seconds)}
    out = {"held": held, "base": summary(base), "adapter": summary(tuned), "train": trained}
    for kind in ("original", "paraphrase", "updated"):
        out[f"base_{kind}"] = summary([q for q in base if q["kind"] == kind])
        out[f"adapter_{kind}"] = summary([q for q in tuned if q["kind"] == kind])
    print(json.dumps(out, indent=1))


def final(names: list[str], models) -> None:
    """Train on every tuning corpus and ship the adapter as prototype.reading_adapter loads it."""
    import platform
    import shutil
    from datetime import UTC, datetime

    from prototype.reading_adapter import ADAPTER_DIR, PROVENANCE

    _, st, path, rows = train(models, names, "reading-adapter")
    ADAPTER_DIR.mkdir(parents=True, exist_ok=True)
    for f in ("adapter_model.safetensors", "adapter_config.json"):
        shutil.copyfile(path / f, ADAPTER_DIR / f)
    cfg = models.generator.model.config
    info = {
        "what": "LoRA reading adapter for the extractive reader's span scores (issue 15)",
        "tuning_corpora": names,
        "rows": rows,
        "settings": {**SETTINGS, "bf16": True},
        "train": {"steps": st.steps, "epochs": st.epochs, "seconds": round(st.seconds)},
        "base": {"layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "made_by": "python bench/reader_adapter.py --final",
    }
    PROVENANCE.write_text(json.dumps(info, indent=1) + "\n")
    print("wrote", ADAPTER_DIR)


def main() -> None:
    from prototype.rows import SharedModels

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--held", help="one fold: the tuning corpus left out of training")
    how.add_argument("--final", action="store_true", help="train on every tuning corpus, ship")
    args = ap.parse_args()
    names = tuning_corpora()
    if args.held and args.held not in names:
        sys.exit(f"--held must be a tuning corpus: {names}")
    CACHE.mkdir(parents=True, exist_ok=True)
    models = SharedModels("cpu")
    if args.final:
        final(names, models)
    else:
        fold(args.held, names, models)


if __name__ == "__main__":
    main()
