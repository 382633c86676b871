"""Score prototype answers: knowledge (accuracy), format compliance and source accuracy.

Normalisation rules (`normalise`), applied identically to generated text and gold answers:

1. Unicode NFKC, then casefold; accents are dropped (é -> e, å -> a) and the Nordic letters
   ø, æ, œ, ß, đ, ł, þ are spelled out in ASCII, so "Vindøy" matches "Vindoy".
2. Currency and percent signs become words placed after their number: "€38", "EUR 38" and
   "38 euros" all read "38 eur"; "$5" reads "5 usd"; "20%" and "20 per cent" read "20 percent".
3. Thousands separators go ("1,200" -> "1200"); a decimal point between digits stays ("0.42").
4. Every other punctuation mark is a space, except apostrophes, which are dropped ("driver's"
   -> "drivers"). So "05:40" reads "5 40" and "DG-7" reads "dg 7".
5. Integers lose leading zeros ("05" -> "5") and ordinal suffixes ("3rd" -> "3").
6. Number words become digits up to the millions: "fourteen" -> "14", "twenty-seven" -> "27",
   "two thousand five hundred" -> "2500". Only the words become digits: "two weeks" reads
   "2 week" and is *not* turned into "14 day"; aliases carry such equivalences.
7. Units get one spelling: kilometres/kilometers/kms -> "km", minutes/mins -> "min", hours/hrs
   -> "h", tonnes/tons -> "t", characters/chars -> "character", and day/week/month/year drop
   their plural "s". A "/" between a unit and a unit reads "per" ("€/km" -> "eur per km").

`is_correct` then asks whether the normalised gold (or an alias) occurs in the normalised text
*as whole tokens*, so gold "6 days" is not found inside "16 days".
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th"})
_SYMBOLS = {"€": " eur ", "$": " usd ", "£": " gbp ", "%": " percent "}
_UNITS = {
    **dict.fromkeys(["kilometre", "kilometres", "kilometer", "kilometers", "kms"], "km"),
    **dict.fromkeys(["metre", "metres", "meter", "meters"], "m"),
    **dict.fromkeys(["minute", "minutes", "mins"], "min"),
    **dict.fromkeys(["hour", "hours", "hrs", "hr"], "h"),
    **dict.fromkeys(["second", "seconds", "secs", "sec"], "s"),
    **dict.fromkeys(["tonne", "tonnes", "ton", "tons"], "t"),
    **dict.fromkeys(["kilogram", "kilograms", "kilo", "kilos", "kgs"], "kg"),
    **dict.fromkeys(["litre", "litres", "liter", "liters"], "l"),
    **dict.fromkeys(["knot", "knots"], "kn"),
    **dict.fromkeys(["characters", "chars", "char"], "character"),
    **dict.fromkeys(["euro", "euros"], "eur"),
    **dict.fromkeys(["dollar", "dollars"], "usd"),
    **dict.fromkeys(["pound", "pounds"], "gbp"),
    **dict.fromkeys(["pct"], "percent"),
    "days": "day",
    "weeks": "week",
    "months": "month",
    "years": "year",
}
_CURRENCIES = {"eur", "usd", "gbp"}
_UNIT_WORDS = set(_UNITS) | set(_UNITS.values()) | {"per"}

_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_SMALL += ["eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"]
_SMALL += ["eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_NUM_WORDS: dict[str, tuple[str, int]] = {
    w: ("unit" if i < 10 else "teen", i) for i, w in enumerate(_SMALL)
}
_NUM_WORDS.update({w: ("tens", i * 10) for i, w in enumerate(_TENS, 2)})
_NUM_WORDS["hundred"] = ("hundred", 100)
_NUM_WORDS["thousand"] = ("scale", 1_000)
_NUM_WORDS["million"] = ("scale", 1_000_000)

# Which kind of number word may follow which within one number ("and" only after a scale).
_FOLLOWS = {
    None: {"unit", "teen", "tens"},
    "unit": {"hundred", "scale"},
    "teen": {"hundred", "scale"},
    "tens": {"unit", "scale"},
    "hundred": {"unit", "teen", "tens", "scale", "and"},
    "scale": {"unit", "teen", "tens", "and"},
    "and": {"unit", "teen", "tens"},
}


def _words_to_digits(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind = _NUM_WORDS.get(tokens[i], (None, 0))[0]
        if kind not in _FOLLOWS[None]:
            out.append(tokens[i])
            i += 1
            continue
        total, current, last, last_scale, j = 0, 0, None, 10**9, i
        while j < len(tokens):
            tok = tokens[j]
            k, v = ("and", 0) if tok == "and" else _NUM_WORDS.get(tok, (None, 0))
            if k is None or k not in _FOLLOWS[last]:
                break
            if k == "and":  # only part of the number if a number word follows it
                nxt = _NUM_WORDS.get(tokens[j + 1], (None,))[0] if j + 1 < len(tokens) else None
                if nxt not in _FOLLOWS["and"]:
                    break
            elif k == "hundred":
                current *= 100
            elif k == "scale":
                if v >= last_scale:
                    break
                total, current, last_scale = total + current * v, 0, v
            else:
                current += v
            last = k
            j += 1
        if last == "and":  # never end on "and"
            j -= 1
        out.append(str(total + current))
        i = j
    return out


def _is_number(token: str) -> bool:
    return token.replace(".", "", 1).isdigit()


def normalise(text: str) -> str:
    """Canonical form for answer matching; the rules are in the module docstring."""
    s = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    s = re.sub(r"\bper\s+cent\b", " percent ", s)
    for sym, word in _SYMBOLS.items():
        s = s.replace(sym, word)
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)  # 1,200 -> 1200
    s = re.sub(r"['’`]", "", s)
    s = re.sub(r"(?<!\d)/|/(?!\d)", " / ", s)  # "/" is its own token unless in "3/11"
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", s)  # a "." stays only inside a decimal number
    s = re.sub(r"[^\w\s./]|_", " ", s)
    tokens = s.split()
    tokens = [re.sub(r"^(\d+)(st|nd|rd|th)$", r"\1", t) for t in tokens]
    tokens = [t.lstrip("0") or "0" if t.isdigit() else t for t in tokens]
    tokens = _words_to_digits(tokens)
    tokens = [_UNITS.get(t, t) for t in tokens]
    out: list[str] = []
    for i, t in enumerate(tokens):
        if t == "/":
            # "€/km" means "per km"; any other slash is just punctuation.
            before = out[-1] if out else ""
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            if before in _UNIT_WORDS and after in _UNIT_WORDS:
                out.append("per")
            continue
        # "eur 38" -> "38 eur", unless the currency already follows a number ("5 eur 38").
        if (
            _is_number(t)
            and out
            and out[-1] in _CURRENCIES
            and not (len(out) > 1 and _is_number(out[-2]))
        ):
            out.insert(len(out) - 1, t)
            continue
        out.append(t)
    return " ".join(out)


def is_correct(generated: str, gold: str, aliases: Iterable[str] = ()) -> bool:
    """True if the normalised gold answer or an alias occurs, as whole tokens, in the text."""
    text = f" {normalise(generated)} "
    for g in (gold, *aliases):
        ng = normalise(g)
        if ng and f" {ng} " in text:  # an answer that normalises to nothing never matches
            return True
    return False


@dataclass(frozen=True)
class FormatCheck:
    compliant: bool
    answer: str | None
    source: str | None


def parse_answer_format(raw_text: str) -> FormatCheck:
    """Check the required answer format, `{"answer": "...", "source": "<doc id>"}`.

    Compliant iff the text, with surrounding whitespace stripped and nothing else changed, is
    exactly one JSON object whose "answer" and "source" are strings. Extra keys are allowed;
    any text before or after the object (a code fence, "Sure! ...") makes it non-compliant.
    The text is never repaired: format compliance measures what the model generated.
    """
    stripped = raw_text.strip()
    if not stripped.startswith("{"):
        return FormatCheck(False, None, None)
    try:
        obj = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError):
        return FormatCheck(False, None, None)
    if (
        isinstance(obj, dict)
        and isinstance(obj.get("answer"), str)
        and isinstance(obj.get("source"), str)
    ):
        return FormatCheck(True, obj["answer"], obj["source"])
    return FormatCheck(False, None, None)


@dataclass(frozen=True)
class AnswerRecord:
    """One generated answer and its gold data; None where the gold data is absent."""

    raw: str
    gold: str | None = None
    aliases: tuple[str, ...] = ()
    doc: str | None = None  # gold document id


@dataclass(frozen=True)
class AnswerScore:
    compliant: bool
    correct: bool | None
    source_correct: bool | None
    answer: str | None
    source: str | None


def score_answer(record: AnswerRecord | Mapping) -> AnswerScore:
    """Score one answer. Accuracy measures knowledge, format compliance measures format, so a
    correct fact is counted even when the JSON wrapper is broken: the parsed "answer" is judged
    when the format is compliant, the raw text otherwise. A non-compliant answer has no
    parseable source, so its source is wrong."""
    r = record if isinstance(record, AnswerRecord) else AnswerRecord(**record)
    fmt = parse_answer_format(r.raw)
    text = fmt.answer if fmt.compliant else r.raw
    correct = None if r.gold is None else is_correct(text or "", r.gold, r.aliases)
    source_correct = None if r.doc is None else fmt.compliant and fmt.source == r.doc
    return AnswerScore(fmt.compliant, correct, source_correct, fmt.answer, fmt.source)


def _share(flags: Sequence[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def score_answers(records: Iterable[AnswerRecord | Mapping]) -> dict:
    """Aggregate metrics over answers: {"n", "accuracy", "format_compliance", "source_accuracy"}.

    Each share is over the records that have the gold data it needs (accuracy: a gold answer,
    source_accuracy: a gold doc id) and is None when no record has it.
    """
    scores = [score_answer(r) for r in records]
    return {
        "n": len(scores),
        "accuracy": _share([s.correct for s in scores]),
        "format_compliance": _share([s.compliant for s in scores]),
        "source_accuracy": _share([s.source_correct for s in scores]),
    }
