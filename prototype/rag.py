"""The RAG rows: the reader over a RagIndex (free text or extractive), and its run.

Pipeline for one question:
    embed question -> FAISS + BM25 top-k chunks -> sentence re-ranking inside those chunks
    (same embedder) -> a tight prompt with the best few sentences under their doc id ->
    generate (`rag`) or copy the best span (`rag+constrained`, prototype.extract).

Why the reader is engineered: with SmolLM2-135M a naive prompt over the top-3 chunks answers
only about 60% right even when recall@3 is 100%; the small model loses the fact in ~400 tokens
of context. Giving it only the few sentences most similar to the question, each labelled with
its document id, plus the reply template with the source already written, is what makes a
135M reader usable. No gold answer is ever consulted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from prototype.generator import Generator, require_local
from prototype.index import RagIndex
from prototype.passages import Passage, context_block, select_passages, shown
from prototype.rag_settings import RagSettings
from prototype.rows import RunContext, SharedModels, register_row

if TYPE_CHECKING:
    from core.progress import Progress
    from core.prototype_result import PrototypeResult
    from prototype.candidates import Weights
    from prototype.evaluate import Answer

# A worked example about a made-up document: it shows the exact JSON and that the answer is a
# short span copied from the passage, without leaking anything about the user's corpus.
FEW_SHOT_DOC = "harbour_parking"
FEW_SHOT_PASSAGE = (
    "The Molo car park is run by Havnelys Parking. Permits are sold at the harbour office."
)
FEW_SHOT_QUESTION = "Which company runs the Molo car park?"
FEW_SHOT_ANSWER = '{"answer": "Havnelys Parking", "source": "harbour_parking"}'


def rag_messages(question: str, passages: Sequence[Passage], style: str = "template"):
    """Chat for the reader: the shared system prompt, the context, the question.

    style "template" (default) ends the user turn with the reply template, the source already
    written as the best document's id, so a 135M model only has to fill in the answer span;
    "few_shot" instead shows one worked example about a made-up document; "plain" neither.
    """
    from prototype.generate import SYSTEM_PROMPT

    msgs = [{"role": "system", "content": SYSTEM_PROMPT}]
    if style.startswith("few_shot"):
        ex = context_block([Passage(FEW_SHOT_DOC, FEW_SHOT_PASSAGE, 1.0)])
        msgs += [
            {"role": "user", "content": f"{ex}\n\nQuestion: {FEW_SHOT_QUESTION}"},
            {"role": "assistant", "content": FEW_SHOT_ANSWER},
        ]
    user = f"{context_block(passages)}\n\nQuestion: {question}"
    if style.endswith("template") and passages:
        user += (
            "\nAnswer with words copied from the document. Reply with only: "
            f'{{"answer": "<short answer>", "source": "{passages[0].doc_id}"}}'
        )
    msgs.append({"role": "user", "content": user})
    return msgs


@dataclass
class RagReader:
    """Answer function for `prototype.evaluate`: retrieve, select sentences, generate.

    With `constrained`, the reply is forced into the answer format by an exhaustive span
    search (`prototype.extract`): the answer is a span copied from the shown sentences, chosen
    by the model's likelihood plus answer-type and proximity evidence, and the source is the
    document the span came from. That row measures what decoding forces, not what the model
    writes by itself, and it needs the local generator's logits. `k`, `sentences` and
    `one_doc` default to the index's RagSettings for the chosen reader.
    """

    index: RagIndex
    generator: Generator
    k: int | None = None
    sentences: int | None = None
    # "template" for the free reader: on aurora_handbook originals (greedy, CPU) template
    # accuracy .46-.65 with format 0 (the base model answers in prose); few-shot .12-.41 with
    # format .31-.82 (it copies the example's shape, not the fact). Knowing the fact is what
    # retrieval is for; the format is what fine-tuning (or constrained decoding) adds. The
    # extractive reader scores spans after the "plain" prompt.
    style: str | None = None
    one_doc: bool | None = None  # only the best document's sentences (the free reader)
    constrained: bool = False
    max_new_tokens: int = 40
    extractor: object = None  # extract.SpanExtractor to share; made on first use otherwise
    # The extractive reader's weights: by default those fitted for the scoring model
    # (reading_adapter.weights_for: the adapter's, or the plain model's when none is built).
    weights: Weights | None = None
    timings: dict = field(default_factory=dict, init=False)  # seconds per stage, cumulative
    # (first pick, second pick) when the last `pick_span` looked twice, else None
    last_look: tuple | None = field(default=None, init=False)

    def __post_init__(self):
        s = self.index.settings
        if self.constrained:
            require_local(self.generator, "rag+constrained")
            if self.weights is None:
                from prototype.reading_adapter import weights_for

                self.weights = weights_for(self.generator.name)
        if self.style is None:
            self.style = "plain" if self.constrained else "template"
        if self.k is None:
            self.k = s.extract_top_k if self.constrained else s.top_k
        if self.sentences is None:
            self.sentences = s.extract_sentences if self.constrained else s.top_sentences
        if self.one_doc is None:
            self.one_doc = not self.constrained
        self.timings = {"embed": 0.0, "search": 0.0, "generate": 0.0, "queries": 0}

    def prepare(self, questions: Sequence[str]) -> tuple[list, list[list[Passage]], list]:
        """(reader chats, passages shown, retrieved doc ids best first) per question."""
        return self._prepare(questions)[:3]

    def _prepare(self, questions: Sequence[str], k: int | None = None, n: int | None = None):
        """`prepare` plus the question vectors, which the extractive reader reuses; `k`
        chunks and `n` sentences in place of the reader's own."""
        t0 = time.perf_counter()
        qvecs = self.index.embed_questions(questions)
        t1 = time.perf_counter()
        passages, retrieved = [], []
        for q, v in zip(questions, qvecs, strict=True):
            hits = self.index.retrieve(q, v, k or self.k)
            retrieved.append(tuple(dict.fromkeys(h.chunk.doc_id for h in hits)))
            passages.append(
                select_passages(self.index, q, v, hits, n or self.sentences, one_doc=self.one_doc)
            )
        t2 = time.perf_counter()
        self.timings["embed"] += t1 - t0
        self.timings["search"] += t2 - t1
        msgs = [rag_messages(q, p, self.style) for q, p in zip(questions, passages, strict=True)]
        return msgs, passages, retrieved, qvecs

    def __call__(self, questions: Sequence[str]) -> list[Answer]:
        from prototype.evaluate import Answer

        if self.constrained:
            return [self._extract(q) for q in questions]
        t0 = time.perf_counter()
        msgs, passages, retrieved = self.prepare(questions)
        t1 = time.perf_counter()
        gens = self.generator.generate(msgs, self.max_new_tokens)
        t2 = time.perf_counter()
        self.timings["generate"] += t2 - t1
        self.timings["queries"] += len(questions)
        per_q = (t2 - t0) / len(questions)  # end to end: embed + search + generate
        return [
            Answer(
                raw=g.text,
                prompt_tokens=g.prompt_tokens,
                seconds=per_q,
                retrieved=ret,
                extra=shown(ps),
            )
            for g, ps, ret in zip(gens, passages, retrieved, strict=True)
        ]

    def read_candidates(self, question: str, k: int | None = None, n: int | None = None):
        """Retrieve for one question and list the extractive reader's candidate spans:
        (candidates, rendered prompt, passages shown, retrieved doc ids). Shared by the
        reader and by bench/learn_reader.py, which learns the reader's weights. `k` chunks
        and `n` sentences in place of the reader's own (the second look)."""
        from prototype.candidates import Alignment, candidates
        from prototype.generate import render

        local = require_local(self.generator, "rag+constrained")
        msgs, passages, retrieved, qvecs = self._prepare([question], k, n)
        ps = passages[0]
        sents = [(p.doc_id, unit) for p in ps for unit, _ in p.units]
        # Each sentence is compared with the question under its heading, as chunks are
        # embedded (measured in the README's reader table).
        headed = [h for p in ps for h in p.headed_units()]
        cos = self.index.sentence_vectors(headed) @ qvecs[0] if sents else []
        align = None
        if sents:
            words = self.index.word_vectors([t for _, t in sents])
            qwords = self.index.word_vectors([question], cache=False)
            if words is not None and qwords is not None:
                align = Alignment.build(question, qwords[0], words, self.index.lexical.idf)
        cands = candidates(question, sents, cos, weights=self.weights, alignment=align)
        return cands, render(local.tokenizer, msgs[0]), ps, retrieved[0]

    def pick_span(self, question: str):
        """The extractive reader's pick for one question (prototype.extract): (the span of
        the shown sentences that the LM and the evidence rank best, or None when no span is
        admissible; rendered prompt; passages shown; retrieved doc ids). The span search's
        time is counted as the "generate" stage. Used by this reader and the hybrid."""
        from prototype.extract import SpanExtractor

        local = require_local(self.generator, "rag+constrained")
        if self.extractor is None:
            self.extractor = SpanExtractor(local.model, local.tokenizer, weights=self.weights)
        cands, prompt, ps, retrieved = self.read_candidates(question)
        t1 = time.perf_counter()
        best = self.extractor(prompt, cands)[0] if cands else None
        self.timings["generate"] += time.perf_counter() - t1
        self.timings["queries"] += 1
        self.last_look = None
        s = self.index.settings
        if best is not None and (best.confidence or 0.0) < s.second_look_below:
            # The second look (RagSettings.second_look_below): an unsure pick is read again
            # with more chunks and sentences, and that pick answers. Only unsure questions
            # pay for it, so the median latency is the first look's.
            c2, p2, ps2, r2 = self.read_candidates(
                question, s.second_look_top_k, s.second_look_sentences
            )
            t2 = time.perf_counter()
            second = self.extractor(p2, c2)[0] if c2 else None
            self.timings["generate"] += time.perf_counter() - t2
            self.last_look = (best, second)
            if second is not None:
                return second, p2, ps2, r2
        return best, prompt, ps, retrieved

    def _extract(self, question: str) -> Answer:
        """One question through the extractive reader: the answer-format reply of its pick
        (an empty answer, in the format, when nothing admissible was retrieved)."""
        from prototype.evaluate import Answer
        from prototype.extract import reply

        t0 = time.perf_counter()
        best, prompt, ps, retrieved = self.pick_span(question)
        tok = self.generator.tokenizer
        extra = shown(ps)
        if best is not None and best.confidence is not None:
            extra["confidence"] = best.confidence
        if self.last_look is not None:
            extra["second_look"] = True
        return Answer(
            raw=reply(best),
            prompt_tokens=len(tok.encode(prompt, add_special_tokens=False)),
            seconds=time.perf_counter() - t0,
            retrieved=retrieved,
            extra=extra,
        )


def run_rag(
    corpus,
    device: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    constrained: bool = False,
    models: SharedModels | None = None,
    settings: RagSettings | None = None,
) -> PrototypeResult:
    """Evaluate RAG on `corpus`: index, answer, apply the update by re-indexing only the
    changed documents, answer the changed questions. `models` = the generator and embedder
    to reuse; loaded offline otherwise."""
    from prototype.backbone import EMBEDDER_NAME, embedding_store_for, pick_device
    from prototype.evaluate import evaluate_strategy

    dev = pick_device(device)
    models = models or SharedModels(dev)
    # The extractive reader scores spans with the reading adapter (prototype.reading_adapter).
    generator = models.reader if constrained else models.generator
    embedder = models.embedder
    if constrained:
        require_local(generator, "rag+constrained")
    settings = settings or RagSettings()
    name = "rag+constrained" if constrained else "rag"
    if progress:
        progress(f"{name}: indexing", 0, len(corpus.docs), {})
    index = RagIndex.build(
        corpus.docs, embedder, settings=settings, store=embedding_store_for(embedder)
    )
    if progress:
        progress(
            f"{name}: indexing",
            len(corpus.docs),
            len(corpus.docs),
            {"chunks": len(index), "seconds": round(index.build_seconds, 2)},
        )
    reader = RagReader(index, generator, constrained=constrained)
    meta = {
        "model": generator.name,
        "embedder": EMBEDDER_NAME,
        "device": dev,
        "index": {
            "kind": index.kind,
            "chunks": len(index),
            "chunk_words": settings.chunk_words,
            "overlap_sentences": settings.chunk_overlap_sentences,
            "top_k": reader.k,
            "sentences_shown": reader.sentences,
            "lexical_weight": settings.lexical_weight,
        },
        "reader": {"style": reader.style, "one_doc": reader.one_doc, "constrained": constrained},
        "settings": asdict(settings),
    }
    if constrained:
        from prototype.extract import STARTS

        meta["reader"].update(
            kind="extractive span search", starts=STARTS, weights=asdict(reader.weights)
        )

    def apply_update():
        changed = {d: corpus.update_docs[d] for d in corpus.changed_doc_ids()}
        stats = index.update(changed)
        meta["update"] = {
            "docs_changed": list(stats.docs_changed),
            "chunks_removed": stats.chunks_removed,
            "chunks_reembedded": stats.chunks_reembedded,
            "chunks_total": stats.chunks_total,
            "seconds": round(stats.seconds, 3),
        }
        if progress:
            progress(f"{name}: re-indexing changed docs", 1, 1, meta["update"])
        return None  # the same reader now reads the updated index

    result = evaluate_strategy(
        name,
        corpus,
        reader,
        build_seconds=index.build_seconds,
        apply_update=apply_update,
        progress=progress,
        cancel=cancel,
        meta=meta,
    )
    if constrained:
        from prototype.evaluate import confidence_metrics, second_look_share

        result.extra_metrics.update(confidence_metrics(result.answers))
        result.extra_metrics["second_look_share"] = second_look_share(result.answers)
    q = max(1, reader.timings["queries"])
    result.meta["stage_ms_mean"] = {
        k: round(1000 * reader.timings[k] / q, 1) for k in ("embed", "search", "generate")
    }
    return result


@register_row("rag")
def rag_row(corpus, ctx: RunContext) -> PrototypeResult:
    """Free-text RAG: the reader writes its answer after the reply template."""
    return run_rag(corpus, ctx.device, ctx.progress, ctx.cancel, models=ctx.models)


@register_row("rag+constrained")
def extractive_row(corpus, ctx: RunContext) -> PrototypeResult:
    """The same index, read by the extractive span search (forced answer format)."""
    return run_rag(corpus, ctx.device, ctx.progress, ctx.cancel, True, models=ctx.models)
