"""Run one prototype strategy (or all of them) on a corpus and return PrototypeResult(s).

Every strategy goes through the one evaluation protocol in `prototype.evaluate`; this module
only dispatches. A queue or a UI worker thread can drive it: `progress(stage, done, total,
info)` reports, and a set `cancel` event raises JobCancelled between questions.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from core.errors import ConfigError
from core.prototype_result import PrototypeResult
from prototype.evaluate import Progress

STRATEGIES = ("base", "rag", "rag+constrained", "fine_tuning", "hybrid")
# `ftrag prototype --strategy all`: the architecture's rows plus the constrained variant,
# which is kept in its own row so decoding-forced format never hides in the plain `rag` one.
ALL_STRATEGIES = STRATEGIES


@lru_cache(maxsize=2)
def shared_models(device: str):
    """(generator, tokenizer, embedder) loaded once per process and device, so `all` does not
    reload them for every strategy. Inference never mutates them."""
    from prototype.backbone import load_embedder, load_generator

    model, tok = load_generator(device)
    return model, tok, load_embedder(device)


def run_strategy(
    strategy: str,
    corpus,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    retrain: bool = False,
    augment: bool = True,
) -> PrototypeResult:
    """Evaluate `strategy` on `corpus` (a prototype.corpus.Corpus).

    `retrain` and `augment` only concern fine-tuning: also retrain on the updated corpus and
    report that figure beside the stale one; train on rule-based rewrites of the questions too.
    """
    from prototype.backbone import pick_device

    if strategy not in STRATEGIES:
        raise ConfigError(f"strategy: must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    dev = pick_device(device)
    if strategy == "fine_tuning":
        from prototype.fine_tune import run_fine_tuning

        return run_fine_tuning(
            corpus, device=dev, progress=progress, cancel=cancel, retrain=retrain, augment=augment
        )
    if strategy == "hybrid":
        from prototype.hybrid import run_hybrid

        return run_hybrid(corpus, device=dev, progress=progress, cancel=cancel)
    model, tok, embedder = shared_models(dev)
    if strategy == "base":
        from prototype.base import run_base

        return run_base(corpus, dev, progress, cancel, models=(model, tok))
    from prototype.rag import run_rag

    return run_rag(
        corpus,
        dev,
        progress,
        cancel,
        constrained=strategy == "rag+constrained",
        models=(model, tok, embedder),
    )


def run_all(
    corpus,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    retrain: bool = False,
    strategies: tuple[str, ...] = ALL_STRATEGIES,
    augment: bool = True,
) -> list[PrototypeResult]:
    """Every strategy in `strategies`, in order, the closed-book base included."""
    return [run_strategy(s, corpus, device, progress, cancel, retrain, augment) for s in strategies]


# A live question longer than this is a pasted document, not a question: it would crowd the
# retrieved passages out of a 135M model's prompt (MiniLM reads only its first 256 pieces).
MAX_QUESTION_CHARS = 1_000


def answer_live(strategy: str, corpus, question: str, device: str | None = None):
    """Answer one live question (`ftrag ask`) -> evaluate.Answer (raw text, retrieved ids).

    Supports the strategies that need no training: base, rag and rag+constrained. A trained
    adapter is asked through `ftrag prototype`, which trains or reuses it.
    """
    from prototype.backbone import endpoint_from_env, pick_device

    if strategy not in ("base", "rag", "rag+constrained"):
        raise ConfigError(f"ask: strategy must be base, rag or rag+constrained, got {strategy!r}")
    question = question.strip()
    if not question:
        raise ConfigError("ask: question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise ConfigError(
            f"ask: question is {len(question):,} characters; at most {MAX_QUESTION_CHARS:,}"
        )
    endpoint = endpoint_from_env()
    if endpoint is not None:
        return _answer_via_endpoint(endpoint, strategy, corpus, question, pick_device(device))
    model, tok, embedder = shared_models(pick_device(device))
    if strategy == "base":
        from prototype.base import closed_book_answerer

        return closed_book_answerer(model, tok)([question])[0]
    from prototype.rag import RagIndex, RagReader

    index = RagIndex.build(corpus.docs, embedder)
    return RagReader(index, model, tok, constrained=strategy == "rag+constrained")([question])[0]


def _answer_via_endpoint(endpoint, strategy: str, corpus, question: str, device: str):
    """The same prompts, answered by a user-configured OpenAI-compatible endpoint. Embedding
    and retrieval stay local; constrained decoding needs the local model's logits."""
    import time

    from prototype.evaluate import Answer
    from prototype.generate import closed_book_messages

    if strategy == "rag+constrained":
        raise ConfigError("ask: rag+constrained needs the local generator, not an endpoint")
    retrieved: tuple[str, ...] = ()
    if strategy == "base":
        msgs = closed_book_messages(question)
    else:
        from prototype.backbone import load_embedder
        from prototype.rag import RagIndex, RagReader

        reader = RagReader(RagIndex.build(corpus.docs, load_embedder(device)), None, None)
        chats, _, ret = reader.prepare([question])
        msgs, retrieved = chats[0], ret[0]
    t0 = time.perf_counter()
    text = endpoint.chat(msgs)
    return Answer(
        raw=text,
        prompt_tokens=0,  # the endpoint's tokenizer is unknown here
        seconds=time.perf_counter() - t0,
        retrieved=retrieved,
        extra={"endpoint": endpoint.url},
    )
