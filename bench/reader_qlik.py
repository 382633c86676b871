"""Experiment (issue 15, part 3): question likelihood as reader evidence.

Zero-shot re-ranking by question generation (UPR, Sachan et al. 2022): a passage is relevant
when the LM, shown it, finds the question likely. Two scores per tuning question, cached next
to bench/learn_reader.py's dumps (test corpora are never opened):
- `sent`: per shown sentence, mean log P(question | "Passage: <sentence>");
- `span`: for the question's best `TOP` candidates under the current weights, mean log
  P(question | "Passage: <sentence>\\nAnswer: <span>"), i.e. answer-aware question generation.

    python bench/reader_qlik.py        # computes data/runs/cache/qlik_<corpus>.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from learn_reader import CACHE, CORPORA, arrays, as_vector, tuning_corpora  # noqa: E402

TOP = 12
SENT_ASK = "Write a question that this passage answers."
SPAN_ASK = "Write the question whose answer is the answer above."


def question_logprobs(model, tok, contexts: list[str], question: str) -> list[float]:
    """Mean log-probability of the question's tokens after each context's chat prompt."""
    import torch

    from prototype.generate import render

    heads = [render(tok, [{"role": "user", "content": c}]) for c in contexts]
    qids = tok.encode(question, add_special_tokens=False)
    rows = [tok.encode(h, add_special_tokens=False) + qids for h in heads]
    width = max(len(r) for r in rows)
    pad = tok.pad_token_id or 0
    ids = torch.full((len(rows), width), pad)
    att = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):  # right padding: the question ends each row's real tokens
        ids[i, : len(r)] = torch.tensor(r)
        att[i, : len(r)] = 1
    n = len(qids)
    target = torch.tensor(qids)
    out = []
    with torch.inference_mode():
        hidden = model.model(ids, attention_mask=att).last_hidden_state
        for i, r in enumerate(
            rows
        ):  # the vocabulary projection only where a question token is next
            logits = model.lm_head(hidden[i, len(r) - n - 1 : len(r) - 1]).float()
            out.append(float(torch.log_softmax(logits, -1)[torch.arange(n), target].mean()))
    return out


def compute(name: str, models) -> list[dict]:
    from prototype.backbone import embedding_store_for
    from prototype.candidates import TOP_SOFTNESS, Weights
    from prototype.corpus import load_corpus
    from prototype.evaluate import corpus_questions
    from prototype.index import RagIndex
    from prototype.rag import RagReader
    from prototype.rag_settings import RagSettings

    dumped = {
        (q["id"], q["kind"]): q for q in json.loads((CACHE / f"reader_{name}.json").read_text())
    }
    corpus = load_corpus(CORPORA / name)
    emb, gen = models.embedder, models.generator
    model, tok = gen.model, gen.tokenizer
    index = RagIndex.build(corpus.docs, emb, settings=RagSettings(), store=embedding_store_for(emb))
    reader = RagReader(index, gen, constrained=True)
    w = as_vector(Weights())
    out = []

    def run(questions):
        for q in questions:
            d = dumped[(q.qid, q.kind)]
            cands, _, ps, _ = reader.read_candidates(q.question)
            assert [c.text for c in cands] == [c["text"] for c in d["cands"]], q.qid
            sents = [u for p in ps for u, _ in p.units]
            sent = question_logprobs(
                model, tok, [f"Passage: {s}\n{SENT_ASK}" for s in sents], q.question
            )
            span: dict[int, float] = {}
            a = arrays(d, softness=TOP_SOFTNESS)
            if a is not None:
                scored = [i for i, c in enumerate(d["cands"]) if c["lm"] is not None]
                s = a[0][:, :-1] @ w[:-1] + w[-1] * a[0][:, -1]
                top = [scored[j] for j in np.argsort(-s)[:TOP]]
                ctx = [
                    f"Passage: {sents[cands[i].sentence]}\nAnswer: {cands[i].text}\n{SPAN_ASK}"
                    for i in top
                ]
                span = dict(zip(top, question_logprobs(model, tok, ctx, q.question), strict=True))
            out.append({"id": q.qid, "kind": q.kind, "sent": sent, "span": span})
            if len(out) % 50 == 0:
                print(f"  {name}: {len(out)}", flush=True)

    run(corpus_questions(corpus, ("original", "paraphrase")))
    index.update({d: corpus.update_docs[d] for d in corpus.changed_doc_ids()})
    run(corpus_questions(corpus, ("updated",)))
    return out


def main() -> None:
    from prototype.rows import SharedModels

    models = SharedModels("cpu")
    for name in tuning_corpora():
        t0 = time.perf_counter()
        rows = compute(name, models)
        (CACHE / f"qlik_{name}.json").write_text(json.dumps(rows))
        print(f"{name}: {len(rows)} questions in {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
