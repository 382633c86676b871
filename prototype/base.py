"""The closed-book base: the generator with no context and the same system prompt.

It is the floor every strategy is compared against: the corpus is fictional, so the base
should know almost nothing, and any accuracy above it is knowledge the strategy injected.
The fine-tuned row asks its adapter through the same answerer.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prototype.evaluate import Answer, AnswerFn, evaluate_strategy
from prototype.generate import closed_book_messages
from prototype.rows import RunContext, SharedModels, register_row

if TYPE_CHECKING:
    from core.progress import Progress
    from core.prototype_result import PrototypeResult
    from prototype.generator import Generator


def closed_book_answerer(generator: Generator, max_new_tokens: int = 48) -> AnswerFn:
    """An answer function for `evaluate_strategy`: questions -> raw closed-book generations."""

    def answer(questions: Sequence[str]) -> list[Answer]:
        gens = generator.generate([closed_book_messages(q) for q in questions], max_new_tokens)
        return [Answer(g.text, g.prompt_tokens, g.seconds) for g in gens]

    return answer


def run_base(
    corpus,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    models: SharedModels | None = None,
) -> PrototypeResult:
    """Evaluate the closed-book base on `corpus` with the shared generator in `models`."""
    from prototype.backbone import pick_device

    dev = pick_device(device)
    generator = (models or SharedModels(dev)).generator
    return evaluate_strategy(
        "base",
        corpus,
        closed_book_answerer(generator),
        build_seconds=0.0,  # nothing is trained or indexed
        apply_update=None,  # a base model has nothing to update
        progress=progress,
        cancel=cancel,
        meta={"model": generator.name, "device": dev},
    )


@register_row("base")
def base_row(corpus, ctx: RunContext) -> PrototypeResult:
    return run_base(corpus, ctx.device, ctx.progress, ctx.cancel, models=ctx.models)
