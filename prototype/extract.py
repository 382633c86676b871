"""Extractive reader: the answer is the span the generator is likeliest to write, plus evidence.

Why: a 135M generator told to answer from 2-4 retrieved sentences picks the right span only
about 60% of the time, even when the sentences hold the answer (measured on aurora_handbook;
its free text also ignores the answer format). Scoring every copyable span by how likely the
model is to write it inside the answer JSON, and adding the signals a small LM blurs (does the
span have the type the question asks for, does it sit next to the question's own words; see
`prototype.candidates`), turns the same model into a usable reader.

Per question (nothing here ever sees a gold answer): the prompt `{"answer": "` is run once
(KV cache); the best `starts` span starts by evidence plus first-token likelihood are
continued in one batch, which gives the log-probability of every span from those starts and
of the closing quote after it. The winner maximises LM log-probability (per token, plus
closing) + the evidence. The reply is the answer-format JSON of that span with the document
it was copied from as the source: attribution by construction. This is constrained decoding
(an exhaustive span search), so the row is named `rag+constrained`, apart from `rag`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import replace

from prototype.candidates import Candidate, Weights

# Span starts continued with the LM per question (one batched forward). 4 starts cut off 2
# right answers on aurora_handbook that 6 and 8 find ("Vindøy Yard", "Harbour Basics"); 6
# cost no measurable time over 4 (0.80 s a question).
STARTS = 6
# The pick's confidence is its softmax probability among the spans the LM scored: the
# reader's weights are a conditional logit (candidates.Weights), so that softmax is the
# model's own P(this span is the answer). Out of fold on the tuning corpora (435 questions,
# data/runs/reader_experiments_2026-12-07.json, "confidence"), picks at >= 0.9 were right 93 %
# of the time (44 % of the questions) and picks under 0.5 only 47 %: answers a person should
# check. The thresholds are those bins' edges, chosen on tuning data only.
CONFIDENT, UNSURE = 0.9, 0.5
CONFIDENCE_BANDS = ("unsure", "in between", "confident")


def confidence_band(c: float) -> str:
    """The band of a confidence: "unsure" under UNSURE, "confident" from CONFIDENT up."""
    return CONFIDENCE_BANDS[(c >= UNSURE) + (c >= CONFIDENT)]


class SpanExtractor:
    """Scores candidate spans with the generator inside the answer-format prompt."""

    def __init__(
        self,
        model,
        tokenizer,
        starts: int = STARTS,
        weights: Weights | None = None,
    ):
        import torch

        self.model, self.tok = model, tokenizer
        self.starts = starts
        self.lm_weight = (weights or Weights()).lm
        vocab = tokenizer.get_vocab()
        mask = torch.zeros(len(tokenizer), dtype=torch.bool)
        for t, i in vocab.items():
            if t.startswith('"') and i < len(mask):
                mask[i] = True
        self.close_mask = mask  # tokens that close the answer string: `"`, `",` ...
        self.prefix = '{"answer": "'
        self._head: tuple[list[int], object] | None = None  # (token ids, their KV cache)
        self.first_lp: dict = {}  # last `score` call: (sentence, start) -> first-token log-prob

    def _forward_prompt(self, ids: list[int]):
        """Forward the prompt, reusing the KV cache of the part every prompt shares.

        Every reader prompt starts with the same chat header and system prompt (~40 tokens,
        ~17% of a typical prompt); its cache is computed once and copied per question, which
        gives the same logits as a full forward at a fraction of the cost."""
        import copy

        import torch

        dev = self.model.device
        head = self._head
        if head is None or ids[: len(head[0])] != head[0]:
            n = self._shared_length(ids)
            if not n:  # no system turn to share: a plain forward
                return self.model(torch.tensor([ids], device=dev), use_cache=True, logits_to_keep=1)
            with torch.inference_mode():
                out = self.model(torch.tensor([ids[:n]], device=dev), use_cache=True)
            head = self._head = (ids[:n], out.past_key_values)
        cache = copy.deepcopy(head[1])
        rest = torch.tensor([ids[len(head[0]) :]], device=dev)
        return self.model(rest, past_key_values=cache, use_cache=True, logits_to_keep=1)

    def _shared_length(self, ids: list[int]) -> int:
        """Tokens of `ids` up to the end of the system turn (the header every prompt shares),
        or 0 when the prompt has none before its last token."""
        end = self.tok.convert_tokens_to_ids("<|im_end|>")
        return ids.index(end) + 1 if end in ids[:-1] else 0

    def enc(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False)

    def __call__(self, prompt: str, cands: Sequence[Candidate]) -> tuple[Candidate, float]:
        """The best candidate (with its `confidence`) and its total score; `prompt` is the
        rendered chat."""
        best, score, _ = self.score(prompt, cands)
        return best, score

    def score(self, prompt: str, cands: Sequence[Candidate]):
        """(best candidate with its `confidence`, its score, {candidate: LM mean log-prob}
        for the scored ones)."""
        import torch

        model = self.model
        dev = model.device
        ids = self.enc(prompt + self.prefix)
        by_start: dict[tuple[int, int], list[Candidate]] = {}
        for c in cands:
            by_start.setdefault((c.sentence, c.start), []).append(c)
        with torch.inference_mode():
            out = self._forward_prompt(ids)
            lp0 = torch.log_softmax(out.logits[0, -1].float(), -1)
            # Rank starts by their best evidence plus the LM's first-token log-probability.
            ranked = []
            for key, group in by_start.items():
                longest = max(group, key=lambda c: len(c.text))
                toks = self.enc(longest.text)
                best_ev = max(c.evidence for c in group)
                ranked.append((best_ev + self.lm_weight * lp0[toks[0]].item(), key, toks))
            ranked.sort(key=lambda r: -r[0])
            # first-token log-probability per start, for bench/learn_reader.py
            self.first_lp = {key: lp0[toks[0]].item() for _, key, toks in ranked}
            chosen = ranked[: self.starts]
            width = max(len(r[2]) for r in chosen)
            pad = self.tok.pad_token_id or 0
            batch = torch.full((len(chosen), width), pad, device=dev)
            for i, r in enumerate(chosen):
                batch[i, : len(r[2])] = torch.tensor(r[2])
            cache = out.past_key_values
            cache.batch_repeat_interleave(len(chosen))
            lp = torch.log_softmax(model(batch, past_key_values=cache).logits.float(), -1)
            close = torch.logsumexp(lp[:, :, self.close_mask], -1)  # (starts, width)
        best, best_score, lms, totals = None, float("-inf"), {}, []
        for i, (_, key, toks) in enumerate(chosen):
            cum = [lp0[toks[0]].item()]
            for j in range(1, len(toks)):
                cum.append(cum[-1] + lp[i, j - 1, toks[j]].item())
            for c in by_start[key]:
                ct = self.enc(c.text)
                if ct != toks[: len(ct)]:
                    continue  # tokenised differently alone (rare); not a prefix to score
                n = len(ct)
                lm = (cum[n - 1] + close[i, n - 1].item()) / (n + 1)
                lms[c] = lm
                score = c.evidence + self.lm_weight * lm
                totals.append(score)
                if score > best_score:
                    best, best_score = c, score
        if best is None:  # no span tokenised as a prefix: fall back to evidence alone
            best = max(cands, key=lambda c: c.evidence)
            return best, best.evidence, lms
        return replace(best, confidence=confidence(best_score, totals)), best_score, lms


def confidence(best: float, scores: Sequence[float]) -> float:
    """Softmax probability of the score `best` among `scores` (which include it)."""
    top = max(scores)
    return round(math.exp(best - top) / sum(math.exp(s - top) for s in scores), 4)


def reply(c: Candidate | None) -> str:
    """The constrained reply text: the answer-format JSON of the chosen span (empty answer
    and source when nothing was retrieved)."""
    if c is None:
        return json.dumps({"answer": "", "source": ""})
    return json.dumps({"answer": c.text, "source": c.doc_id}, ensure_ascii=False)
