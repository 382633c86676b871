"""Candidate question-answer pairs drawn from documents by rules, for a person to review."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import CorpusError
from prototype.corpus import Document, corpus_from_uploads
from prototype.text import CALENDAR_WORDS, FUNCTION_WORDS, NUMBER_WORDS, split_sentences

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
_NUM = r"\d[\d,]*(?:\.\d+)?"
_CURRENCY = r"(?:EUR|USD|GBP|NOK|SEK|DKK|CHF|euros?|dollars?|pounds?|kroner|krone)"
_PRONOUNS = frozenset(
    ["it", "its", "they", "their", "them", "she", "he", "his", "her", "this", "these", "that"]
)
MIN_WORDS, MAX_WORDS = 5, 40  # shorter has no context; longer makes a question nobody asks


@dataclass(frozen=True)
class Suggestion:
    question: str
    answer: str
    doc: str
    rule: str


def _ask(sentence: str, start: int, end: int, wh: str) -> str:
    """The sentence with [start, end) replaced by the question phrase `wh`, as a question."""
    q = (sentence[:start] + wh + sentence[end:]).strip().rstrip(".!:;")
    return q[:1].upper() + q[1:] + "?"


def _definition(s: str):
    m = re.match(
        r"^(?:(?:An?|The)\s+)?(?P<term>[\w\"'-]+(?:\s+[\w\"'-]+){0,4})\s+"
        r"(?P<verb>means|is defined as|refers to|stands for)\s+(?P<def>.+?)\.?$",
        s,
    )
    if m and m.group("term").split()[0].casefold() not in _PRONOUNS:
        verb = "stand for" if m.group("verb") == "stands for" else "mean"
        return f"What does {m.group('term')} {verb}?", m.group("def")
    m = re.search(r"(?P<long>(?:[A-Z][\w-]+\s+){1,6}[A-Z][\w-]+)\s+\((?P<abbr>[A-Z]{2,8})\)", s)
    if m:
        return f"What does {m.group('abbr')} stand for?", m.group("long")
    return None


def _pattern(regex: str, wh: str | Callable[[re.Match], str], group: str = "a"):
    """A rule that asks `wh` in place of the first match of `regex` (its group `group`)."""
    compiled = re.compile(regex)

    def rule(s: str):
        m = compiled.search(s)
        if not m:
            return None
        return _ask(s, m.start(), m.end(), wh(m) if callable(wh) else wh), m.group(group)

    return rule


def _count(s: str):
    """A number and what it counts: "14 days" -> "how many days", "4 calendar days" -> "how
    many calendar days" (a singular word is joined by up to two more), "2 hours 20 minutes" ->
    "how long"."""
    words = "|".join(sorted(NUMBER_WORDS - {"half", "hundred", "thousand"}))
    unit = r"[a-z][a-z-]+"
    regex = (
        rf"\b(?P<a>(?:{_NUM}|(?:{words}))\s+(?P<unit>{unit}(?:\s+{unit}){{0,2}})"
        rf"(?P<more>\s+(?:and\s+)?{_NUM}\s+{unit})?)\b"
    )
    for m in re.finditer(regex, s):
        kept: list[str] = []
        for w in m.group("unit").split():
            if w in FUNCTION_WORDS or w in CALENDAR_WORDS:
                break
            kept.append(w)
            if w.endswith("s"):
                break
        if not kept:
            continue
        if m.group("more") and m.group("more").split()[-1] not in FUNCTION_WORDS:
            return _ask(s, m.start(), m.end(), "how long"), m.group("a")
        end = m.start("unit") + len(" ".join(kept))
        return _ask(s, m.start(), end, f"how many {' '.join(kept)}"), s[m.start() : end]
    return None


def _name(s: str):
    """A person or organisation named after "by" or a copula: "run by Mira Tosk"."""
    m = re.search(
        r"\b(?P<v>by|is|are|was|were)\s+(?P<a>[A-Z][a-z]+(?:\s+[A-Z][a-z]+){1,2})\b(?!['’])", s
    )
    if not m or m.start() == 0 or set(m.group("a").casefold().split()) & CALENDAR_WORDS:
        return None
    wh = "by whom" if m.group("v") == "by" else f"{m.group('v')} who"
    return _ask(s, m.start(), m.end(), wh), m.group("a")


RULES: tuple[tuple[str, Callable], ...] = (
    ("definition", _definition),
    (
        "amount",
        _pattern(rf"(?P<a>(?:[€$£]\s?{_NUM})|(?:{_NUM}\s?{_CURRENCY}))\b", "how much"),
    ),
    ("percentage", _pattern(rf"(?P<a>{_NUM}\s?(?:%|percent|per cent))", "what percentage")),
    (
        "date",
        _pattern(
            rf"(?:\b(?P<p>on|by|from|until|before|after)\s+)?(?P<a>\d{{4}}-\d{{2}}-\d{{2}}|"
            rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}\s+\d{{1,2}}"
            rf"(?:st|nd|rd|th)?(?:,\s+\d{{4}})?)\b",
            lambda m: f"{m.group('p') or 'on'} what date",
        ),
    ),
    (
        "time",
        _pattern(
            r"\b(?P<at>at\s+)?(?P<a>\d{1,2}:\d{2})\b",
            lambda m: "at what time" if m.group("at") else "what time",
        ),
    ),
    (
        "year",
        _pattern(
            r"\b(?P<p>in|since|from|until|by)\s+(?P<a>1[89]\d\d|20\d\d)\b",
            lambda m: f"{m.group('p')} what year",
        ),
    ),
    ("count", _count),
    ("name", _name),
)
_ROW = re.compile(r"^(?P<h1>[^:;]{1,40}): (?P<v1>[^;]+)(?:; [^:;]{1,40}: [^;]+)+\.?$")


def _row(line: str):
    """A table row "A: x; B: y; ..." -> "What is the B for x?" (first non-key column)."""
    cells = [c.split(": ", 1) for c in line.rstrip(".").split("; ")]
    if len(cells) < 2 or any(len(c) != 2 for c in cells):
        return None
    key = cells[0][1]
    for header, value in cells[1:]:
        if value.casefold() != key.casefold():
            return f"What is the {header.casefold()} for {key}?", value
    return None


def _sentences(text: str):
    """(sentence or table row, is a row) in document order; headings left out."""
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        if lines and all(_ROW.match(ln) for ln in lines):
            yield from ((ln, True) for ln in lines)
            continue
        body = " ".join(ln.lstrip("-*• ").strip() for ln in lines if not ln.startswith("#"))
        yield from ((sent, False) for sent in split_sentences(body))


def suggest_for_doc(doc_id: str, text: str) -> list[Suggestion]:
    """Every candidate of one document, in document order, at most one per sentence."""
    out = []
    for sent, is_row in _sentences(text):
        if is_row:
            found = _row(sent)
            if found:
                out.append(Suggestion(*found, doc_id, "table"))
            continue
        words = sent.split()
        if not MIN_WORDS <= len(words) <= MAX_WORDS or words[0].casefold() in _PRONOUNS:
            continue
        for name, rule in RULES:
            found = rule(sent)
            if found and found[1].strip() and found[1].casefold() not in found[0].casefold():
                out.append(Suggestion(found[0], found[1].strip(), doc_id, name))
                break
    return out


def suggest_qa(docs: Mapping[str, object], n: int = 20) -> list[dict]:
    """Up to `n` qa.jsonl rows, taken in turn from each document (sorted by id) so the set
    covers the corpus; a question asked twice is kept once. Each row has `generated: true`.

    No model is involved: each rule finds a span worth asking about in one sentence (a defined
    term, an amount, a percentage, a date or time, a count, a name, a table cell) and asks for
    it in place ("Refunds are paid within how many days of a cancelled sailing?"), the span
    being the answer. The questions read stiffly and echo their sentence, so they test the
    plumbing more than a reader; a person accepts, edits or drops each. A sentence that opens
    on a pronoun is skipped: asked alone, its question would not say what it is about.
    """
    per_doc = [
        suggest_for_doc(d, v if isinstance(v, str) else getattr(v, "text", ""))
        for d, v in sorted(docs.items())
    ]
    picked: list[Suggestion] = []
    seen: set[str] = set()
    depth = 0
    while len(picked) < n and any(depth < len(s) for s in per_doc):
        for cands in per_doc:
            if depth < len(cands) and len(picked) < n:
                c = cands[depth]
                if c.question.casefold() not in seen:
                    seen.add(c.question.casefold())
                    picked.append(c)
        depth += 1
    return [
        {
            "id": f"g{i:03d}",
            "question": s.question,
            "answer": s.answer,
            "doc": s.doc,
            "paraphrases": [],
            "generated": True,
        }
        for i, s in enumerate(picked, 1)
    ]


def corpus_docs(path: str | Path) -> dict[str, Document]:
    """The documents of the corpus at `path`, checked as the loader checks them, without its
    qa.jsonl: suggestions may be about to replace one that no longer matches the documents."""
    docs_dir = Path(path) / "docs"
    if not docs_dir.is_dir():
        raise CorpusError(f"{docs_dir}: missing docs/ directory (run `ftrag corpus import`)")
    files = {
        p.name: p.read_bytes()
        for p in sorted(docs_dir.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }
    return corpus_from_uploads(files, Path(path).name).docs
