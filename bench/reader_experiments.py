"""Issue 15, part 3: signals tried for the extractive reader, scored like its weights.

Each variant adds columns to bench/learn_reader.py's cached candidate features (or swaps the
LM column), refits the conditional logit leave-one-corpus-out over the tuning corpora (C in
1 / 3 / 10) and reports exact match / strict accuracy of the held-out corpus, as the README's
reader table does. Test corpora are never opened. Inputs, all under data/runs/cache/:
- reader_<corpus>.json: bench/learn_reader.py's dump (base SmolLM2 span scores);
- qlik_<corpus>.json: bench/reader_qlik.py (question likelihood per sentence and per span);
- reader_adapter_<corpus>.json: bench/reader_adapter.py --held <corpus> (span scores by a
  LoRA reading adapter trained on the OTHER tuning corpora, so every score is out of fold).

    python bench/reader_experiments.py     # writes data/runs/reader_experiments.json
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import learn_reader as lr  # noqa: E402

VARIANTS = {
    "current features": (),
    "+ question likelihood per sentence": ("sent",),
    "+ question likelihood per span (answer-aware)": ("span",),
    "+ both question likelihoods": ("sent", "span"),
    "+ reading adapter's span score": ("adapter",),
    "reading adapter's span score instead of the base LM": ("adapter_only",),
}
C_GRID = (1.0, 3.0, 10.0)


def _cache(kind: str, name: str) -> dict:
    path = lr.CACHE / f"{kind}_{name}.json"
    return {(q["id"], q["kind"]): q for q in json.loads(path.read_text())} if path.exists() else {}


def prepared(name: str, mode: tuple[str, ...]) -> list | None:
    """(question, arrays) per question with the variant's columns, or None when a cache the
    variant needs is missing."""
    from prototype.candidates import TOP_SOFTNESS

    base = json.loads((lr.CACHE / f"reader_{name}.json").read_text())
    ql = _cache("qlik", name) if {"sent", "span"} & set(mode) else {}
    ad = _cache("reader_adapter", name) if {"adapter", "adapter_only"} & set(mode) else {}
    if ({"sent", "span"} & set(mode) and not ql) or (
        {"adapter", "adapter_only"} & set(mode) and not ad
    ):
        return None
    out = []
    for q in base:
        a = lr.arrays(q, "gold", TOP_SOFTNESS)
        if a is None:
            out.append((q, None))
            continue
        x, first, keys, exact, ok, tgt = a
        scored = [i for i, c in enumerate(q["cands"]) if c["lm"] is not None]
        key = (q["id"], q["kind"])
        extra = []
        if "sent" in mode:  # how far the span's sentence is below the likeliest one
            s = np.array(ql[key]["sent"])
            extra.append(np.array([s[k[0]] - s.max() for k in keys]))
        if "span" in mode:  # scored for the best 12 spans; the rest sit one nat below them
            sp = {int(k): v for k, v in ql[key]["span"].items()}
            v = np.array([sp.get(i, np.nan) for i in scored])
            ok_v = np.isfinite(v)
            v = (
                np.where(ok_v, v - np.nanmax(v), np.nanmin(v) - np.nanmax(v) - 1)
                if ok_v.any()
                else 0 * v
            )
            extra.append(v)
        if {"adapter", "adapter_only"} & set(mode):
            d = ad[key]["cands"]
            lm2 = np.array([d[i]["lm"] if d[i]["lm"] is not None else -30.0 for i in scored])
            if "adapter" in mode:
                extra.append(lm2)
            else:
                first = np.array(
                    [d[i]["first"] if d[i]["first"] is not None else -30.0 for i in scored]
                )
                x = x.copy()
                x[:, -1] = lm2
        if extra:
            x = np.column_stack([x[:, :-1], *extra, x[:, -1]])
        out.append((q, (x, first, keys, exact, ok, tgt)))
    return out


def held_out(items: list, w: np.ndarray) -> dict:
    from prototype.extract import STARTS

    by: dict[str, list] = {}
    for q, a in items:
        by.setdefault(q["kind"], []).append(lr.pick(a, w, STARTS) if a else (False, False))
    flat = [v for vs in by.values() for v in vs]
    out = {"em": float(np.mean([e for e, _ in flat])), "acc": float(np.mean([o for _, o in flat]))}
    out.update({f"acc_{k}": float(np.mean([o for _, o in v])) for k, v in by.items()})
    return {k: round(v, 3) for k, v in out.items()}


def main() -> None:
    names = lr.tuning_corpora()
    table: dict = {}
    for label, mode in VARIANTS.items():
        data = {n: prepared(n, mode) for n in names}
        if any(v is None for v in data.values()):
            print(f"{label}: skipped (a cache is missing)")
            continue
        best = None
        for c in C_GRID:
            row = {}
            for held in names:
                w = lr.fit([a for n in names if n != held for _, a in data[n] if a], c)
                row[held] = held_out(data[held], w)
            mean = round(float(np.mean([(r["em"] + r["acc"]) / 2 for r in row.values()])), 4)
            if best is None or mean > best["mean"]:
                best = {"C": c, "mean": mean, "corpora": row}
        table[label] = best
        cells = "  ".join(
            f"{n[:8]} {r['em']:.3f}/{r['acc']:.3f}" for n, r in best["corpora"].items()
        )
        print(f"{label:>52}  C={best['C']:<4} {cells}  mean {best['mean']:.4f}", flush=True)
    (lr.RUNS / "reader_experiments.json").write_text(
        json.dumps(
            {
                "what": "reader signals tried: leave-one-corpus-out over the tuning corpora, "
                "exact match / strict accuracy over originals, paraphrases and changed facts, "
                "best C of 1/3/10 per variant",
                "tuning_corpora": names,
                "variants": table,
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": platform.machine(),
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
