"""The fine-tuning row: a closed-book LoRA adapter on the generator, trained and measured.

What it shows: fine-tuning teaches *behaviour* (the answer-format JSON, citing a source) and
memorises the trained facts, but its knowledge is frozen: after a document update the model
still says the old fact until it is retrained (`accuracy_updated` is measured without
retraining).

Training data: each ORIGINAL question (never the evaluation paraphrases) under the same
system prompt as `closed_book_messages`, target = the exact answer-format JSON plus the
end-of-turn token; optional rule-based rewrites (`prototype.augment`). The loop is
`prototype.lora`, the adapter store `prototype.adapters`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

from prototype.adapters import train_or_load
from prototype.generate import SYSTEM_PROMPT, closed_book_messages
from prototype.lora import LoraSettings, TrainExample
from prototype.rows import RunContext, register_row

if TYPE_CHECKING:
    from core.progress import Progress
    from core.prototype_result import PrototypeResult


def answer_json(answer: str, source: str) -> str:
    """The exact answer-format text the model is trained to write."""
    return json.dumps({"answer": answer, "source": source}, ensure_ascii=False)


def closed_book_examples(corpus, augment: bool = True, n_rewrites: int = 2) -> list[TrainExample]:
    """Training rows from the corpus's original questions (never its paraphrases; of the
    generated pairs, only the half kept for training: `Corpus.trainable_qa`)."""
    from prototype.augment import rewrites

    rows = []
    for q in corpus.trainable_qa():
        target = answer_json(q.answer, q.doc)
        rows.append(TrainExample(closed_book_messages(q.question), target, True))
        if augment:
            rows += [
                TrainExample(closed_book_messages(r), target, False)
                for r in rewrites(q.question, n_rewrites)
            ]
    return rows


def run_fine_tuning(
    corpus,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    retrain: bool = False,
    augment: bool = True,
    settings: LoraSettings | None = None,
    adapter_root: Path | None = None,
) -> PrototypeResult:
    """Train (or reuse) a closed-book LoRA adapter on `corpus` and evaluate it.

    `accuracy_updated` is measured WITHOUT retraining: the adapter still holds the old facts.
    With `retrain=True` a second adapter is trained on the updated corpus and
    `accuracy_updated_retrained` / `retrain_seconds` are added as extra metrics.
    """
    from core.errors import CorpusError
    from prototype.backbone import GENERATOR_NAME, load_generator, pick_device
    from prototype.base import closed_book_answerer
    from prototype.evaluate import (
        answer_questions,
        corpus_questions,
        evaluate_strategy,
        metrics_from_records,
    )
    from prototype.generator import LocalGenerator

    s = replace(settings or LoraSettings(), augment=augment)
    dev = pick_device(device)
    examples = closed_book_examples(corpus, s.augment, s.n_rewrites)
    if not examples:
        raise CorpusError(
            f"fine_tuning: corpus `{corpus.name}` has no question-answer pairs to train on "
            "(write some, or accept more suggestions: half of those are kept for scoring)"
        )
    model, tok = load_generator(dev)  # a fresh base: LoRA modifies the model it is added to
    pm, st, path = train_or_load(
        model,
        tok,
        examples,
        s,
        name=corpus.name,
        stage="fine_tuning: train",
        progress=progress,
        cancel=cancel,
        root=adapter_root,
    )
    extra: dict = {}
    meta = {
        "model": GENERATOR_NAME,
        "device": dev,
        "adapter": str(path),
        "settings": asdict(s),
        "train": st.to_dict(),
        "n_train_examples": len(examples),
        "training_data": "original questions" + (" + rule-based rewrites" if s.augment else ""),
        "prompt": SYSTEM_PROMPT,
    }
    if retrain and corpus.update_qa:
        # A fresh adapter on the updated corpus: the honest cost of keeping FT current.
        upd = corpus.updated()
        base2, _ = load_generator(dev)
        pm2, st2, path2 = train_or_load(
            base2,
            tok,
            closed_book_examples(upd, s.augment, s.n_rewrites),
            s,
            name=f"{corpus.name}-updated",
            stage="fine_tuning: retrain",
            progress=progress,
            cancel=cancel,
            root=adapter_root,
        )
        recs = answer_questions(
            closed_book_answerer(LocalGenerator(pm2, tok, GENERATOR_NAME)),
            corpus_questions(corpus, ("updated",)),
            stage="fine_tuning: retrained",
            progress=progress,
            cancel=cancel,
        )
        extra["accuracy_updated_retrained"] = metrics_from_records(recs, None)["accuracy_updated"]
        extra["retrain_seconds"] = round(st2.seconds, 2)
        meta["retrain"] = {**st2.to_dict(), "adapter": str(path2)}
        del pm2, base2
    return evaluate_strategy(
        "fine_tuning",
        corpus,
        closed_book_answerer(LocalGenerator(pm, tok, GENERATOR_NAME)),
        build_seconds=st.seconds,
        apply_update=None,  # deliberately NOT retrained: the freshness gap
        progress=progress,
        cancel=cancel,
        meta=meta,
        extra_metrics=extra,
    )


@register_row("fine_tuning")
def fine_tuning_row(corpus, ctx: RunContext) -> PrototypeResult:
    """Trains its own adapter on a fresh base model (the shared generator stays untouched)."""
    return run_fine_tuning(
        corpus,
        device=ctx.device,
        progress=ctx.progress,
        cancel=ctx.cancel,
        retrain=ctx.retrain,
        augment=ctx.augment,
    )
