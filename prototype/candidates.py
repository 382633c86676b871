"""Answer candidates: every admissible span of the shown sentences, with its evidence.

Candidates are word spans of up to `MAX_WORDS` inside one shown sentence, not starting or
ending on a function word, not made only of words the question already says. Evidence per
candidate: answer-type match (a number for "how many", a time or date for "when", a name for
"who"), proximity to the question's content words, the sentence's overlap with and similarity
to the question, whether the span ends on a phrase boundary (a number keeps its unit: "27
days", not "27"), and how well the words around the span match the question's words in
MiniLM's contextual word vectors (`Alignment`: a paraphrase's "final" still finds "last"),
and, for a value in a "Label: value;" record (a table row or a key-value list), how much of
the question its label says ("Fee" for "how much does it cost"). Only the question's wording
is consulted, never a gold answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from prototype.answer_types import (
    QUANTITY_TYPES,
    answer_subtype,
    answer_type,
    asks_count,
    question_focus,
    type_score,
)
from prototype.text import (
    AUXILIARIES,
    clean,
    is_capitalised,
    is_function_word,
    is_numeric,
    stem,
    terms,
)

MAX_WORDS = 8  # longest answer span; factoid answers in the demo corpora are 1-5 words
_PLACE_PREPOSITIONS = "at in on near via from to inside outside"
_LOCATIVE = frozenset(_PLACE_PREPOSITIONS.split())
_ARTICLES = frozenset(["the", "a", "an"])


@dataclass(frozen=True)
class Candidate:
    text: str  # the span, trailing punctuation removed
    doc_id: str
    evidence: float  # Weights.evidence(features): every evidence term but the LM
    sentence: int  # index of the sentence among those shown
    start: int  # word index in the sentence
    features: tuple[float, ...] = ()  # Weights.FEATURES, in order
    # The pick's probability among the spans the LM scored (SpanExtractor.score); None
    # before scoring.
    confidence: float | None = None


@dataclass(frozen=True)
class Weights:
    """How evidence and LM likelihood combine: a weighted sum of the features, plus `lm` x
    the span's mean token log-probability. The weights are learnt, not picked: a conditional
    logit over each question's candidate spans, fitted on every tuning corpus of
    data/corpora/SPLITS.yaml by bench/learn_reader.py, its L2 strength chosen by
    leave-one-corpus-out cross-validation (data/runs/reader_weights.json, which a test keeps
    equal to these defaults). Test corpora never enter the fit, and at answer time nothing
    sees a gold answer."""

    FEATURES = (
        "type",
        "overlap",
        "distance",
        "boundary",
        "unit_cut",
        "echo",
        "words",
        "cos",
        "top",
        "near",
        "focus",
        "prep",
        "field",
        "label",
    )
    type: float = 3.284  # the span has the asked-for answer type
    overlap: float = 4.244  # share of the question's content words in the span's sentence
    distance: float = 0.052  # words between the span and the nearest question word (cap 8)
    boundary: float = 0.441  # the span ends on a phrase boundary
    unit_cut: float = -5.11  # a number whose unit word was cut off
    echo: float = -0.589  # per question word inside the span
    words: float = -0.468  # per word: prefer the shorter of two equally good spans
    cos: float = 10.419  # MiniLM cosine of the span's sentence, under its heading, to the question
    top: float = 1.57  # the span's sentence is (nearly) the most similar (TOP_SOFTNESS)
    near: float = 9.08  # the span's neighbours match the question's words (Alignment.near)
    focus: float = 1.127  # a focus word of the question is in the span's phrase
    prep: float = 6.128  # a place question's span follows a place preposition
    field: float = -1.178  # the span is a field value of a "Label: value;" record (a table row)
    label: float = 6.567  # how well that field's label matches the question (Alignment.label)
    lm: float = 1.227  # mean token log-probability of writing the span, closing quote included

    def evidence(self, feats: Sequence[float]) -> float:
        return sum(getattr(self, n) * f for n, f in zip(self.FEATURES, feats, strict=True))


# The weights fitted on the plain base model's span scores (bench/learn_reader.py --lm base,
# data/runs/reader_weights_base.json), used when the reading adapter is not built: the
# defaults above were fitted on the adapter's scores and would misweigh the plain model's.
BASE_WEIGHTS = Weights(
    type=3.111, overlap=3.302, distance=-0.072, boundary=0.822, unit_cut=-4.618, echo=-0.986,
    words=-0.848, cos=5.046, top=2.42, near=5.596, focus=1.541, prep=3.663, field=0.237,
    label=2.172, lm=1.655,
)  # fmt: skip


NEAR_DECAY = 3.0  # words: how fast a question word's match loses weight with distance
# How far (in cosine) a sentence may trail the most similar one and still count as "top":
# top = exp(-(best - cos) / TOP_SOFTNESS), 1 for the best; 0 = only the best. A hard argmax
# let a table row win on a cosine .005 above its neighbours' ("Day: Monday; ... 18:30" over
# the asked-for "Day: Wednesday; ... 20:15"). Chosen by leave-one-corpus-out CV with the
# weights (bench/learn_reader.py, data/runs/reader_weights.json).
TOP_SOFTNESS = 0.02


@dataclass(frozen=True)
class Alignment:
    """Soft word matches between the question and each shown sentence, from MiniLM's
    contextual word vectors. Exact-stem proximity ("distance") misses a paraphrase's words;
    these vectors still match "final" to "last" or "vacation" to "leave", so a span can be
    scored by whether the words around it say what the question says."""

    sims: tuple[np.ndarray, ...]  # per sentence: cosine (question content word, sentence word)
    weights: np.ndarray  # idf share of each question content word (sums to 1)

    @classmethod
    def build(
        cls,
        question: str,
        question_vecs: np.ndarray,
        sentence_vecs: Sequence[np.ndarray],
        idf: Mapping[str, float],
    ) -> Alignment | None:
        """`question_vecs` / `sentence_vecs`: one vector per whitespace word (RagIndex.
        word_vectors); `idf` by lower-case term, unknown terms counting as the rarest."""
        words = question.split()
        if not words or len(question_vecs) != len(words):
            return None
        rare = max(idf.values(), default=1.0)
        keep = [i for i, w in enumerate(words) if len(clean(w)) > 2 and not is_function_word(w)]
        keep = keep or list(range(len(words)))
        wts = np.array(
            [max((idf.get(t, rare) for t in terms(words[i])), default=0.0) for i in keep]
        )
        if not wts.sum():
            return None
        q = question_vecs[keep]
        return cls(tuple(q @ v.T for v in sentence_vecs), wts / wts.sum())

    def near(self, sentence: int, start: int, end: int) -> float:
        """Idf-weighted best match of each question word among the words outside the span
        `[start, end)`, discounted by their distance to it."""
        sims = self.sims[sentence]
        j = np.arange(sims.shape[1])
        outside = (j < start) | (j >= end)
        if not outside.any():
            return 0.0
        dist = np.where(j < start, start - j, j - (end - 1))[outside]
        near = sims[:, outside] * np.exp(-dist / NEAR_DECAY)
        return float(self.weights @ near.max(axis=1))

    def label(self, sentence: int, start: int, end: int) -> float:
        """Idf-weighted share of the question that the words `[start, end)` (a field's
        label) say, each question word counting by its best match among them: "Doors close"
        covers more of "when do the doors close" than "Doors open" does, and "Fee" matches
        "cost", which no stem shares."""
        if end <= start:
            return 0.0
        return float(self.weights @ self.sims[sentence][:, start:end].max(axis=1))


def soft_top(gap: float, softness: float) -> float:
    """The `top` feature of a sentence whose cosine trails the best by `gap` (>= 0)."""
    if gap <= 0:
        return 1.0
    return float(np.exp(-gap / softness)) if softness > 0 else 0.0


def _field_label(words: Sequence[str], s: int) -> tuple[int, int] | None:
    """Word range of the label when the span starting at `s` is a field value: the words
    after the previous `;` (or the sentence start) up to the one ending in `:` before `s`.
    Tables and key-value lists are read as "Day: Friday; Doors close: 17:45." (ingest)."""
    if s == 0 or not words[s - 1].endswith(":"):
        return None
    lo = s - 1
    while lo > 0 and not words[lo - 1].endswith((";", ":", ".")) and s - lo < 6:
        lo -= 1
    return lo, s


def _digit_run(word: str, nxt: str) -> bool:
    """`nxt` continues the number `word` ends: both bare digit groups with no punctuation
    between ("01762 440", not "17:45; 440")."""
    return word.isdigit() and nxt.rstrip(",;:.").isdigit()


def _in_focus_phrase(
    words: Sequence[str], s: int, e: int, focus: frozenset[str], counted: bool = False
) -> float:
    """1 when a focus word of the question is in the span's own phrase: the span's last word
    ("Vindøy Yard"), or within two words after it ("Skjær meeting room") or before it
    ("health service, Fjordhelse") with no function word or sentence punctuation between."""
    if not focus:
        return 0.0
    if e - s > 1 and stem(words[e - 1]) in focus:
        return 1.0
    if counted:  # what "how many" counts is the number's unit, inside the span
        return 0.0
    if words[e - 1][-1:] not in ",;:.":
        for j in range(e, min(e + 2, len(words))):
            if is_function_word(words[j]):
                break
            if stem(words[j]) in focus:
                return 1.0
            if words[j][-1:] in ",;:.":
                break
    for j in range(s - 1, max(s - 3, -1), -1):
        w = words[j]
        if w[-1:] in ";:." or (w[-1:] == "," and j < s - 1) or is_function_word(w):
            break
        if stem(w) in focus:
            return 1.0
    return 0.0


def _locative(words: Sequence[str], s: int) -> bool:
    """The span follows a place preposition ("at Vindøy Yard", "in the Skjær ...")."""
    j = s - 1
    if j >= 0 and clean(words[j]).casefold() in _ARTICLES:
        j -= 1
    return j >= 0 and clean(words[j]).casefold() in _LOCATIVE


def candidates(
    question: str,
    sentences: Sequence[tuple[str, str]],
    cosines: Sequence[float] | None = None,
    weights: Weights | None = None,
    alignment: Alignment | None = None,
) -> list[Candidate]:
    """Every admissible span of the shown `sentences` ((doc id, sentence) pairs) with its
    evidence score; `cosines` are the sentences' embedding similarities to the question and
    `alignment` their word matches (both optional). Only the question's wording is
    consulted."""
    weights = weights or Weights()
    kind = answer_subtype(question) or answer_type(question)
    qstems = {stem(t) for t in terms(question) if len(t) > 2}
    focus = question_focus(question)
    counted = asks_count(question)
    out: list[Candidate] = []
    cosines = list(cosines) if cosines is not None else [0.0] * len(sentences)
    best_cos = max(cosines, default=0.0)
    for si, (doc_id, sent) in enumerate(sentences):
        cos = cosines[si]
        top = soft_top(float(best_cos - cos), TOP_SOFTNESS)
        words = sent.split()
        hits = [i for i, w in enumerate(words) if stem(w) in qstems and len(clean(w)) > 2]
        hits_set = set(hits)
        overlap = len({stem(words[i]) for i in hits}) / max(1, len(qstems))
        for s in range(len(words)):
            first = clean(words[s]).casefold()
            if not first or is_function_word(words[s]):
                continue
            field = _field_label(words, s)
            label = 0.0
            if field is not None:
                lo, hi = field
                if alignment is not None:
                    label = alignment.label(si, lo, hi)
                else:  # no word vectors: share of the question's stems the label says
                    said = {stem(w) for w in words[lo:hi]} & qstems
                    label = len(said) / max(1, len(qstems))
            for e in range(s + 1, min(len(words), s + MAX_WORDS) + 1):
                span = words[s:e]
                last = clean(span[-1]).casefold()
                # Answers do not run across a clause boundary or a verb like "is" / "must"
                # (checked before the edge test, so a function word cannot carry a span over).
                if e - s > 1 and (span[-2][-1:] in ",;:.)" or span[-1][:1] in "(["):
                    break
                if clean(span[-1]) in AUXILIARIES:
                    break
                if not last or is_function_word(span[-1]):
                    continue
                if all(stem(w) in qstems or is_function_word(w) for w in span):
                    continue  # the question's own words are not its answer
                # Words the question already says are rarely part of its answer, except a
                # unit after a number ("how many days" -> "27 days").
                echo, unit = 0, False  # unit: inside the unit words after a number
                for i in range(s, e):
                    unit = kind in QUANTITY_TYPES and i > s and (is_numeric(words[i - 1]) or unit)
                    unit = unit and i in hits_set
                    # a focus noun closing the span is the name's head ("Vindøy Yard")
                    head = i == e - 1 and e - s > 1 and stem(words[i]) in focus
                    echo += i in hits_set and not unit and not head
                outside = [i for i in hits if not s <= i < e]
                dist = min((min(abs(i - s), abs(i - (e - 1))) for i in outside), default=8)
                # A phrase ends at punctuation, the sentence end, or before a function word;
                # a span that stops inside a comma-free "27 days" or "Henrik Strand" does not.
                nxt = words[e] if e < len(words) else ""
                # A run of digit groups is one value: "01762 440 131", "1 200" (cut: "01762")
                split_number = _digit_run(span[-1], nxt) or (
                    s > 0 and _digit_run(words[s - 1], words[s])
                )
                boundary = (
                    not nxt
                    or span[-1][-1:] in ",;:."
                    or is_function_word(nxt)
                    or (is_numeric(span[-1]) and not nxt[:1].isalpha() and not split_number)
                    # a name ends where capitals end: "the Skjær | meeting room"
                    or (is_capitalised(span[-1]) and not is_numeric(span[-1]) and nxt[:1].islower())
                )
                unit_cut = split_number or (
                    is_numeric(span[-1])
                    and span[-1][-1:].isalnum()
                    and nxt[:1].islower()
                    and not is_function_word(nxt)
                )
                feats = (
                    type_score(kind, span, s == 0),
                    overlap,
                    min(dist, 8),
                    float(boundary),
                    float(unit_cut),
                    float(echo),
                    float(len(span)),
                    cos,
                    top,
                    alignment.near(si, s, e) if alignment else 0.0,
                    _in_focus_phrase(words, s, e, focus, counted),
                    float(kind == "place" and _locative(words, s)),
                    float(field is not None),
                    label,
                )
                text = clean(" ".join(span))
                out.append(Candidate(text, doc_id, weights.evidence(feats), si, s, feats))
    return out
