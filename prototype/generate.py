"""Shared chat generation for every prototype strategy.

One prompt contract: the model must itself write `{"answer": ..., "source": <doc id>}`.
Nothing here repairs or re-serialises what the model wrote; callers score the raw text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

ANSWER_FORMAT_INSTRUCTION = (
    'Reply with only a JSON object: {"answer": "<short answer>", "source": "<document id>"}.'
)
SYSTEM_PROMPT = "You answer questions about the organisation's documents. " + (
    ANSWER_FORMAT_INSTRUCTION
)

Messages = list[dict[str, str]]


def closed_book_messages(question: str) -> Messages:
    """The prompt used by the closed-book base and the fine-tuned model (no context)."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": question},
    ]


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    new_tokens: int
    seconds: float


def render(tokenizer, messages: Messages) -> str:
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def generate(
    model,
    tokenizer,
    batch: Sequence[Messages],
    max_new_tokens: int = 48,
    **generate_kwargs,
) -> list[Generation]:
    """Greedy generation for a batch of chats (left-padded), stopping at <|im_end|>.

    Time is attributed evenly across the batch; use batch size 1 to measure latency.
    """
    import torch

    prompts = [render(tokenizer, m) for m in batch]
    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    enc = {k: v.to(model.device) for k, v in enc.items()}
    t0 = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            **generate_kwargs,
        )
    seconds = (time.perf_counter() - t0) / len(prompts)
    width = enc["input_ids"].shape[1]
    results = []
    for i in range(len(prompts)):
        new = out[i, width:]
        n_new = int((new != tokenizer.pad_token_id).sum())
        results.append(
            Generation(
                text=tokenizer.decode(new, skip_special_tokens=True).strip(),
                prompt_tokens=int(enc["attention_mask"][i].sum()),
                new_tokens=n_new,
                seconds=seconds,
            )
        )
    return results
