"""Experiment (issue 15, part 3): does Gemma 3 270M read better than SmolLM2-135M once both
get the same reading adapter? The earlier comparison (bench/compare_reader_lm.py) scored the
plain models; the shipped reader scores with an adapted one.

Each LM gets a LoRA adapter trained on the reading adapter's rows of the tuning corpora
(`reading_adapter.training_rows`, recipe 2: gold span, counterfactual and contrast copies;
test corpora never opened), with the same rank, layers, learning rate and epochs, through one
architecture-neutral loop (below), so the two differ only in the model. Then a held-out
corpus is scored by the plain and the adapted model. Printed and written: exact match and
strict accuracy of the LM alone (its likeliest span among the reader's candidates), training
seconds, and seconds of span search per question at the reader's own setting (6 starts).

    python bench/reading_fold_lm.py --score CORPUS [--lm HF_DIR] [--out FILE]

CORPUS is a corpus directory under data/corpora that is not a tuning corpus (a validation
corpus; never a test corpus). HF_DIR is a local model directory (Gemma: see
bench/compare_reader_lm.py for the offline install); without it, SmolLM2-135M.

Why a loop of its own: `prototype.lora` runs the frozen layers itself, with one rotary
embedding and one causal mask, as Llama-shaped models have; Gemma 3 alternates sliding-window
and global layers, each with its own rotary base and mask. Here the frozen layers' output is
computed once per row by the model's own forward and replayed, and the top layers run inside
the model's own forward, so each architecture builds its masks and positions itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import learn_reader  # noqa: E402
from learn_reader import CACHE, arrays, dump, fit, pick, tuning_corpora  # noqa: E402
from reader_adapter import summary  # noqa: E402

# The reading adapter's own settings (prototype.reading_adapter.SETTINGS) where they apply.
RANK, ALPHA, TOP_LAYERS, LR, EPOCHS, BATCH, WARMUP = 32, 64, 8, 1e-3, 3, 8, 4


class _Stop(Exception):
    pass


def _replay_layers(dec, cut: int, h):
    """Swap the decoder's lower `cut` layers for a replay of the cached hidden states `h`
    (first) and pass-throughs; returns the original layer list, to put back."""
    import torch.nn as nn

    class Replay(nn.Module):
        def forward(self, hidden_states, *a, **k):
            return h

    class Skip(nn.Module):
        def forward(self, hidden_states, *a, **k):
            return hidden_states

    orig = dec.layers
    dec.layers = nn.ModuleList([Replay(), *[Skip() for _ in range(cut - 1)], *orig[cut:]])
    return orig


def train(model, tok, examples, log=print) -> tuple[object, float, int]:
    """(merged model, seconds, steps): LoRA on the top layers, loss on the target tokens."""
    import torch
    from peft import LoraConfig, get_peft_model

    from prototype.lora import TARGET_MODULES, encode_example, native_bf16

    torch.manual_seed(0)
    rng = random.Random(0)
    dec = model.model
    n = len(dec.layers)
    cut = n - TOP_LAYERS
    enc = [encode_example(tok, ex) for ex in examples]
    t0 = time.perf_counter()
    # 1. The frozen layers' output at layer `cut`, once per row, by the model's own forward.
    cached = []
    box = {}

    def grab(mod, args, kwargs):
        box["h"] = (args[0] if args else kwargs["hidden_states"]).detach()
        raise _Stop

    hook = dec.layers[cut].register_forward_pre_hook(grab, with_kwargs=True)
    model.eval()
    with torch.no_grad():
        for e in enc:
            try:
                dec(input_ids=torch.tensor([e.ids]))
            except _Stop:
                cached.append(box["h"][0])
    hook.remove()
    log(f"  frozen layers cached: {len(enc)} rows, {time.perf_counter() - t0:.0f} s")
    cfg = LoraConfig(
        r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=list(TARGET_MODULES),
        layers_to_transform=list(range(cut, n)), task_type="CAUSAL_LM",
    )  # fmt: skip
    pm = get_peft_model(model, cfg)
    params = [p for p in pm.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=LR)
    head = model.get_output_embeddings()
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    use_bf16 = native_bf16(torch.device("cpu"))
    order = sorted(range(len(enc)), key=lambda i: len(enc[i].ids))
    batches = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
    steps = 0
    pm.train()
    for epoch in range(EPOCHS):
        rng.shuffle(batches)
        total = 0.0
        for b in batches:
            width = max(len(enc[i].ids) for i in b)
            ids = torch.full((len(b), width), pad)
            am = torch.zeros((len(b), width), dtype=torch.long)
            h = torch.zeros((len(b), width, cached[0].shape[-1]), dtype=cached[0].dtype)
            rows, cols, tgt = [], [], []
            for j, i in enumerate(b):
                e = enc[i]
                ids[j, : len(e.ids)] = torch.tensor(e.ids)
                am[j, : len(e.ids)] = 1
                h[j, : len(e.ids)] = cached[i]
                for p in range(e.n_prompt, len(e.ids)):  # position p-1 predicts token p
                    rows.append(j), cols.append(p - 1), tgt.append(e.ids[p])
            orig = _replay_layers(dec, cut, h)
            try:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
                    out = dec(input_ids=ids, attention_mask=am).last_hidden_state
                    logits = head(out[rows, cols]).float()
            finally:
                dec.layers = orig
            lr = LR * min(1.0, (steps + 1) / WARMUP) * (0.5 if epoch == EPOCHS - 1 else 1.0)
            for g in opt.param_groups:
                g["lr"] = lr
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor(tgt))
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            total += loss.item()
        log(f"  epoch {epoch + 1}: mean loss {total / len(batches):.3f}, {steps} steps")
    seconds = time.perf_counter() - t0
    merged = pm.merge_and_unload().eval()
    return merged, seconds, steps


def grouped_cv(qs: list[dict], folds: int = 5) -> dict:
    """The full reader with weights fitted to this LM's own scores: a conditional logit
    (bench/learn_reader.py's fit, with the shipped target, softness and C) fitted on the other
    folds of the held-out corpus and scored on each fold, a question's original, paraphrases
    and changed fact in one fold. Equal footing for LMs whose score scales differ."""
    import numpy as np

    from prototype.extract import STARTS

    ids = sorted({q["id"] for q in qs})
    fold_of = {qid: i % folds for i, qid in enumerate(ids)}
    em, ok = [], []
    for f in range(folds):
        train = [a for q in qs if fold_of[q["id"]] != f if (a := arrays(q, "gold", 0.02))]
        w = fit(train, 30.0)
        for q in qs:
            if fold_of[q["id"]] == f:
                a = arrays(q, softness=0.02)
                e, o = pick(a, w, STARTS) if a else (False, False)
                em.append(e), ok.append(o)
    return {"reader_em": round(float(np.mean(em)), 3), "reader_acc": round(float(np.mean(ok)), 3)}


def scored(name: str, models, tag: str) -> dict:
    """Dump `name` with the current LM (kept under data/runs/cache/), and summarise it."""
    qs = dump(name, models)
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / f"fold_lm_{name}_{tag}.json").write_text(json.dumps(qs))
    return {**summary(qs), "cv_in_corpus": grouped_cv(qs)}


def span_seconds(gen, models, name: str, n: int = 30) -> float:
    """Seconds of span search per question at the reader's own setting, first `n` questions."""
    from prototype.backbone import embedding_store_for
    from prototype.corpus import load_corpus
    from prototype.evaluate import corpus_questions
    from prototype.extract import SpanExtractor
    from prototype.index import RagIndex
    from prototype.rag import RagReader
    from prototype.rag_settings import RagSettings

    corpus = load_corpus(ROOT / "data" / "corpora" / name)
    emb = models.embedder
    index = RagIndex.build(corpus.docs, emb, settings=RagSettings(), store=embedding_store_for(emb))
    reader = RagReader(index, gen, constrained=True)
    ext = SpanExtractor(gen.model, gen.tokenizer)
    qs = corpus_questions(corpus, ("original",))[:n]
    prepared = [reader.read_candidates(q.question)[:2] for q in qs]
    ext.score(prepared[0][1], prepared[0][0])  # warm-up
    t = time.perf_counter()
    for cands, prompt in prepared:
        if cands:
            ext.score(prompt, cands)
    return (time.perf_counter() - t) / len(prepared)


def main() -> None:
    from prototype.generator import LocalGenerator
    from prototype.reading_adapter import training_rows
    from prototype.rows import SharedModels

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--score", required=True, help="held-out corpus (not tuning, not test)")
    ap.add_argument("--lm", help="local HF model directory (default: SmolLM2-135M)")
    ap.add_argument("--out", help="JSON file to write the result to")
    ap.add_argument("--plain", action="store_true", help="also score with the plain model")
    ap.add_argument("--starts", type=int, default=16, help="span starts the LM scores per question")
    ap.add_argument(
        "--shipped-only",
        action="store_true",
        help="SmolLM2 only: no training here; score the shipped reading adapter (prototype.lora's "
        "loop, the same rows and settings) as the reference",
    )
    args = ap.parse_args()
    import yaml

    splits = yaml.safe_load((ROOT / "data" / "corpora" / "SPLITS.yaml").read_text())
    if args.score in splits["tuning"] or args.score in splits["test"]:
        sys.exit("--score must be neither a tuning nor a test corpus")
    shared = SharedModels("cpu")
    if args.lm:
        gen = LocalGenerator.load("cpu", args.lm)
        gen = dataclasses.replace(gen, name=Path(args.lm).name)
        if not gen.tokenizer.chat_template:  # a base model: the messages as plain text
            gen.tokenizer.chat_template = (
                "{{ bos_token }}{% for m in messages %}{{ m['content'] }}\n\n{% endfor %}"
                "Answer as JSON: "
            )
    else:
        gen = shared.generator
    models = SimpleNamespace(embedder=shared.embedder, generator=gen)
    learn_reader.ALL_STARTS = args.starts  # the dump's LM scores the top `starts` starts
    result: dict = {"lm": gen.name, "score": args.score, "tuning": tuning_corpora()}
    result["starts"] = args.starts
    if args.plain:
        result["plain"] = scored(args.score, models, f"{gen.name}_plain")
        result["plain"]["span_s_per_q"] = round(span_seconds(gen, models, args.score), 3)
        print(json.dumps(result), flush=True)
    if args.shipped_only:
        if args.lm:
            sys.exit("--shipped-only scores the shipped SmolLM2 adapter; drop --lm")
        _score_shipped(result, models, args.score)
        _finish(result, args.out)
        return
    rng = random.Random(0)
    rows = [r for n in tuning_corpora() for r in training_rows(n, models, rng)]
    print(f"{len(rows)} training rows", flush=True)
    merged, seconds, steps = train(gen.model, gen.tokenizer, rows)
    gen = dataclasses.replace(gen, model=merged)
    models.generator = gen
    result["train"] = {"rows": len(rows), "steps": steps, "seconds": round(seconds)}
    result["adapted"] = scored(args.score, models, f"{gen.name}_adapted")
    result["adapted"]["span_s_per_q"] = round(span_seconds(gen, models, args.score), 3)
    if not args.lm:  # the shipped reading adapter (prototype.lora's loop), for reference
        _score_shipped(result, models, args.score)
    _finish(result, args.out)


def _score_shipped(result: dict, models, name: str) -> None:
    """Score `name` with the shipped reading adapter, when it is built."""
    from prototype.generator import LocalGenerator
    from prototype.reading_adapter import available, load_reading_model

    if available():
        model, tok, tag = load_reading_model("cpu")
        models.generator = LocalGenerator(model, tok, tag)
        result["shipped"] = scored(name, models, "shipped")
        result["shipped"]["span_s_per_q"] = round(span_seconds(models.generator, models, name), 3)


def _finish(result: dict, out: str | None) -> None:
    result["date"] = time.strftime("%Y-%m-%d")
    print(json.dumps(result, indent=1), flush=True)
    if out:
        Path(out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
