"""Automatic question rewrites for fine-tuning augmentation.

Ovadia et al. (2024) find fine-tuned accuracy rises with the number of paraphrases per fact,
and FineTuneBench finds facts learnt from one phrasing transfer poorly to others. The corpus's
own `paraphrases` are the *evaluation* set, so they must never be trained on; these rewrites
are made by rules from the original question alone (question-word swaps, imperative forms,
politeness), so the model sees each fact under more than one surface form.
"""

from __future__ import annotations

import random
import re

# (pattern on the question, replacement): question-word swaps that keep the meaning.
_SWAPS: tuple[tuple[str, str], ...] = (
    (r"^How many (.+)\?$", r"What is the number of \1?"),
    (r"^How much is (.+)\?$", r"What amount is \1?"),
    (r"^How much (.+)\?$", r"What amount \1?"),
    (r"^How long (?:is|does) (.+?)(?: take)?\?$", r"What is the duration of \1?"),
    (r"^How often (.+)\?$", r"At what interval \1?"),
    (r"^Who is (.+)\?$", r"Name the person who is \1."),
    (r"^Who (.+)\?$", r"Name the person who \1."),
    (r"^In which year (.+)\?$", r"What year \1?"),
    (r"^On which date (.+)\?$", r"What date \1?"),
    (r"^What time (.+)\?$", r"At what time \1?"),
    (
        r"^(In|At|On|Within|After|Before|Below|Up to|For) (which|what|how) (.+)\?$",
        r"\1 \2 \3, according to the handbook?",
    ),
    (r"^Which (.+)\?$", r"What \1?"),
    (r"^Where (.+)\?$", r"In what place \1?"),
    (r"^What (?:is|are) (.+)\?$", r"Tell me \1."),
)

_POLITE = ("Could you tell me: {q}", "Quick question: {q}", "{q} Please answer briefly.")


def _lower_first(q: str) -> str:
    return q[:1].lower() + q[1:] if q[:2] != q[:2].upper() else q


def rewrites(question: str, n: int = 2) -> list[str]:
    """Up to `n` distinct rewrites of `question`, deterministic, never the question itself.

    The first is a question-word swap when one applies; the rest add or change politeness
    around the original or the swapped form.
    """
    q = " ".join(question.split())
    out: list[str] = []
    for pattern, repl in _SWAPS:
        if re.match(pattern, q):
            out.append(re.sub(pattern, repl, q))
            break
    bases = [q, *out]
    for i, template in enumerate(_POLITE):
        base = bases[i % len(bases)]
        out.append(template.format(q=base if template.startswith("{q}") else _lower_first(base)))
    seen = {q.casefold()}
    unique = []
    for r in out:
        if r.casefold() not in seen:
            seen.add(r.casefold())
            unique.append(r)
    return unique[:n]


def typo_noise(text: str, seed: int, rate: float = 0.15) -> str:
    """`text` with one slip (swapped, dropped or doubled inner letter) in about `rate` of its
    words of five letters or more (a text with no such word comes back as it is);
    deterministic in `seed` and the text.

    For behaviour tasks, whose inputs are messages people type: a typo splits a word into
    unfamiliar subword tokens, and a model fine-tuned only on clean spellings of its cue words
    misses them (synthetic character noise as training data: Belinkov & Bisk 2018; Karpukhin
    et al. 2019). Labels and JSON targets are left as they are.
    """
    rng = random.Random(f"{seed}:{text}")
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 5]
    if not spots:
        return text
    for i in rng.sample(spots, max(1, round(rate * len(spots)))):
        w = words[i]
        j = rng.randrange(1, len(w) - 2)
        slip = rng.randrange(3)
        words[i] = (
            w[:j] + w[j + 1] + w[j] + w[j + 2 :]  # swap
            if slip == 0
            else w[:j] + w[j + 1 :]  # drop
            if slip == 1
            else w[:j] + w[j] + w[j:]  # double
        )
    return " ".join(words)
