"""Benchmark: our LoRA loop vs the plain transformers `Trainer` + PEFT recipe.

Same process, same base model, same data (the first `--questions` original questions of a
corpus, no augmentation), same LoRA config (rank, alpha, modules, layers), same batch size,
peak LR and warmup. Measured: wall time until greedy decoding answers >= 90% of the training
questions correctly (`is_correct`, the product's metric).

- Ours (`prototype.lora.train_lora`) stops by itself once teacher-forced exact match
  reaches `stop_at`; its time includes its one-off cache of the frozen layers.
- The Trainer is checked by greedy decoding at the end of every epoch in a callback; the
  time spent in those checks is *subtracted*, so the Trainer is charged only for training.

Prints both times and the ratio ours / Trainer (target <= 0.6).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.9


def _accuracy(model, tok, qa) -> float:
    from prototype.generate import closed_book_messages, generate
    from prototype.scoring import score_answer

    model.eval()
    correct = 0
    for i in range(0, len(qa), 8):
        chunk = qa[i : i + 8]
        gens = generate(model, tok, [closed_book_messages(q.question) for q in chunk])
        correct += sum(
            bool(
                score_answer(
                    {"raw": g.text, "gold": q.answer, "aliases": q.aliases, "doc": q.doc}
                ).correct
            )
            for g, q in zip(gens, chunk, strict=True)
        )
    return correct / len(qa)


def run_ours(qa, examples, s, device):
    from prototype.backbone import load_generator
    from prototype.lora import add_lora, train_lora

    model, tok = load_generator(device)
    pm = add_lora(model, s)
    t0 = time.perf_counter()
    st = train_lora(pm, tok, examples, s)
    seconds = time.perf_counter() - t0
    return seconds, _accuracy(pm, tok, qa), st.epochs


def run_trainer(qa, examples, s, device, max_epochs):
    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments

    from prototype.backbone import load_generator
    from prototype.lora import add_lora, encode_example

    model, tok = load_generator(device)
    pm = add_lora(model, s)
    rows = []
    for ex in examples:  # the standard recipe: prompt tokens masked with -100
        e = encode_example(tok, ex)
        rows.append(
            {
                "input_ids": e.ids,
                "attention_mask": [1] * len(e.ids),
                "labels": [-100] * e.n_prompt + e.ids[e.n_prompt :],
            }
        )
    state = {"eval_s": 0.0, "acc": 0.0, "epochs": 0}

    class StopAtTarget(TrainerCallback):
        def on_epoch_end(self, args, st, control, **kw):
            t = time.perf_counter()
            state["acc"] = _accuracy(pm, tok, qa)
            state["epochs"] += 1
            pm.train()
            state["eval_s"] += time.perf_counter() - t
            if state["acc"] >= TARGET:
                control.should_training_stop = True
            return control

    args = TrainingArguments(
        output_dir=str(ROOT / "models" / "bench_trainer"),
        per_device_train_batch_size=s.batch_size,
        learning_rate=s.lr,
        lr_scheduler_type="constant_with_warmup",
        warmup_steps=s.warmup_steps,
        weight_decay=0.0,
        max_grad_norm=1.0,
        num_train_epochs=max_epochs,
        logging_strategy="no",
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=device == "cpu",
        seed=s.seed,
        dataloader_num_workers=0,
    )
    trainer = Trainer(
        model=pm,
        args=args,
        train_dataset=rows,
        data_collator=DataCollatorForSeq2Seq(tok, padding=True),
        callbacks=[StopAtTarget()],
    )
    torch.manual_seed(s.seed)
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0 - state["eval_s"]
    return seconds, state["acc"], state["epochs"]


def main(argv: list[str] | None = None) -> None:
    from dataclasses import replace

    from prototype.backbone import pick_device
    from prototype.corpus import load_corpus
    from prototype.fine_tune import closed_book_examples
    from prototype.lora import LoraSettings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT / "data" / "corpora" / "aurora_handbook"))
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--device", default=None)
    ap.add_argument("--max-epochs", type=int, default=30)
    a = ap.parse_args(argv if argv is not None else [])
    device = pick_device(a.device)
    corpus = load_corpus(a.corpus)
    corpus = replace(corpus, qa=corpus.qa[: a.questions])
    s = LoraSettings(augment=False, stop_at=TARGET, max_epochs=a.max_epochs, max_seconds=1e9)
    examples = closed_book_examples(corpus, augment=False)
    print(
        f"lora bench: {len(examples)} questions from {corpus.name}, rank {s.rank}, top "
        f"{s.top_layers} layers, lr {s.lr}, batch {s.batch_size}, device {device}, "
        f"{platform.processor() or platform.machine()}"
    )
    ours_s, ours_acc, ours_ep = run_ours(corpus.qa, examples, s, device)
    print(f"  ours    : {ours_s:7.1f} s  {ours_ep:2d} epochs  train accuracy {ours_acc:.2f}")
    tr_s, tr_acc, tr_ep = run_trainer(corpus.qa, examples, s, device, a.max_epochs)
    print(
        f"  Trainer : {tr_s:7.1f} s  {tr_ep:2d} epochs  train accuracy {tr_acc:.2f}"
        f"  (per-epoch accuracy checks excluded)"
    )
    note = "" if tr_acc >= TARGET and ours_acc >= TARGET else "  (a run missed the target)"
    print(f"  ratio ours/Trainer time-to-{TARGET:.1f}: {ours_s / tr_s:.2f} (target <= 0.6){note}")


if __name__ == "__main__":
    main(sys.argv[1:])
