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

The adapter the reader uses, trained on every tuning corpus with the same rows and settings
(`prototype.reading_adapter`), is built by `make adapter`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from learn_reader import CACHE, arrays, as_vector, dump, pick, tuning_corpora  # noqa: E402

from prototype.reading_adapter import train  # noqa: E402


def _print(stage: str, done: int, total: int, info: dict) -> None:
    print(stage, done, total, info, flush=True)


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


def fold(held: str, names: list[str], models, copies: int = 1) -> None:
    """Train on the other tuning corpora, dump `held` with the base LM and with the adapter."""
    gen = models.generator
    base_path = CACHE / f"reader_{held}.json"
    if not base_path.exists():
        base_path.write_text(json.dumps(dump(held, models)))
    base = json.loads(base_path.read_text())
    others = [n for n in names if n != held]
    tag = "" if copies == 1 else f"_c{copies}"
    pm, st, _, rows = train(models, others, f"reader-minus-{held}{tag}", _print, copies)
    object.__setattr__(gen, "model", pm)  # LocalGenerator is frozen
    tuned = dump(held, models)
    (CACHE / f"reader_adapter_{held}{tag}.json").write_text(json.dumps(tuned))
    trained = {"rows": rows, "steps": st.steps, "seconds": round(st.seconds)}
    out = {"held": held, "base": summary(base), "adapter": summary(tuned), "train": trained}
    for kind in ("original", "paraphrase", "updated"):
        out[f"base_{kind}"] = summary([q for q in base if q["kind"] == kind])
        out[f"adapter_{kind}"] = summary([q for q in tuned if q["kind"] == kind])
    print(json.dumps(out, indent=1))


def main() -> None:
    from prototype.rows import SharedModels

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--held", required=True, help="the tuning corpus left out of training")
    ap.add_argument("--copies", type=int, default=1, help="counterfactual copies per row")
    args = ap.parse_args()
    names = tuning_corpora()
    if args.held not in names:
        sys.exit(f"--held must be a tuning corpus: {names}")
    CACHE.mkdir(parents=True, exist_ok=True)
    fold(args.held, names, SharedModels("cpu"), args.copies)


if __name__ == "__main__":
    main()
