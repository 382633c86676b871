"""The closed-book base: the generator with no context and the same system prompt.

It is the floor every strategy is compared against: the corpus is fictional, so the base
should know almost nothing, and any accuracy above it is knowledge the strategy injected.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from prototype.evaluate import Answer, Progress, evaluate_strategy


def closed_book_answerer(model, tokenizer, max_new_tokens: int = 48):
    """An answer function for `evaluate_strategy`: questions -> raw closed-book generations."""
    from prototype.generate import closed_book_messages, generate

    def answer(questions: Sequence[str]) -> list[Answer]:
        gens = generate(
            model, tokenizer, [closed_book_messages(q) for q in questions], max_new_tokens
        )
        return [Answer(g.text, g.prompt_tokens, g.seconds) for g in gens]

    return answer


def run_base(
    corpus,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    models=None,
):
    """Evaluate the closed-book base on `corpus`. `models` = (model, tokenizer) to reuse."""
    from prototype.backbone import GENERATOR_NAME, load_generator, pick_device

    dev = pick_device(device)
    model, tok = models or load_generator(dev)
    return evaluate_strategy(
        "base",
        corpus,
        closed_book_answerer(model, tok),
        build_seconds=0.0,  # nothing is trained or indexed
        apply_update=None,  # a base model has nothing to update
        progress=progress,
        cancel=cancel,
        meta={"generator": GENERATOR_NAME, "device": dev},
    )
