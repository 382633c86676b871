"""Score prototype answers: knowledge (strict containment, exact match, token F1), format
compliance and source accuracy.

Normalisation rules (`normalise`), applied identically to generated text and gold answers:

1. Unicode NFKC, then casefold; accents are dropped (é -> e, å -> a) and the Nordic letters
   ø, æ, œ, ß, đ, ł, þ are spelled out in ASCII, so "Vindøy" matches "Vindoy".
2. Currency and percent signs become words placed after their number: "€38", "EUR 38" and
   "38 euros" all read "38 eur"; "$5" reads "5 usd"; "20%" and "20 per cent" read "20 percent".
3. Thousands separators go ("1,200" -> "1200"); a decimal point between digits stays ("0.42").
4. A clock time stays one token without its hour's leading zero ("06:30" -> "6:30"), so a
   range such as "6-30" never reads as a time; "am"/"pm" glued to it are split off.
5. Every other punctuation mark is a space, except apostrophes, which are dropped ("driver's"
   -> "drivers"). So "DG-7" reads "dg 7".
6. Integers lose leading zeros ("05" -> "5") and ordinal suffixes ("3rd" -> "3").
7. Number words become digits up to the millions: "fourteen" -> "14", "twenty-seven" -> "27",
   "two thousand five hundred" -> "2500". Only the words become digits: "two weeks" reads
   "2 week" and is *not* turned into "14 day"; aliases carry such equivalences.
8. Units get one spelling: kilometres/kilometers/kms -> "km", minutes/mins -> "min", hours/hrs
   -> "h", tonnes/tons -> "t", characters/chars -> "character", and day/week/month/year drop
   their plural "s". A "/" between a unit and a unit reads "per" ("€/km" -> "eur per km").

The answer judged is the parsed "answer" field when the output is in the answer format, else
the whole raw text. Its tokens, and the gold's, are the normalised tokens less the articles
"a", "an", "the" (SQuAD's rule). Three verdicts, each against the gold and every alias, the
best one counting:

- `exact_match`: the answer's tokens equal the gold's.
- `token_f1`: SQuAD's token-overlap F1 (bag of tokens).
- `correct` (the `accuracy` metrics), strict containment. The answer must
  1. contain the gold's tokens as a contiguous run of whole tokens (gold "6 days" is not in
     "16 days", gold "06:30" is not in "ages 6-30");
  2. hold no *competing value*: no token outside that run of a value class the gold has
     (a clock time, another number, a month name, a weekday name), unless the question says
     it too. "06:30 or 07:15" and "27 days (2026)" name two candidates; a reader that lists
     several values has not chosen one. Values of other classes may stay: "pier 2 at 06:30"
     answers a clock-time question;
  3. not run far past the gold: at most `max(1, len(gold content words))` *new* content
     words, i.e. words that are neither function words, nor in the gold, nor (by a 5-letter
     stem) in the question. Restating the question is no run past: "The first ferry leaves
     at 06:30." answers "When does the first ferry leave?". A second fact is: "2016 at
     Vindøy Yard" for "In which year ...?" holds two new words for a one-word gold and is
     rejected, while `token_f1` still gives it partial credit. The budget grows with the
     gold because a long gold's paraphrase needs room ("Solveig Branntrø, the founder").
  Why this rule: containment alone credited table rows, lists of candidates and whole
  sentences that happen to hold the gold; exact match alone fails a right fact stated in a
  sentence, which the free-text rows write. Exact match is published beside it.
- A changed fact (kind "updated") is correct only when the answer also cites the gold
  document: some changed values also occur in other documents, and a right value from the
  wrong document is luck, not freshness. An answer that cites no source (free text, or a
  broken wrapper) cannot show it read the new document, so it is not credited; the top
  retrieved document is not taken in its place, because the row did not say it used it.
  `content_correct` keeps the verdict without the source check, for inspection.

`contains_gold` is the old lenient test (the gold anywhere in the text, as whole tokens): it
is right for "is the answer in this passage?", never for scoring an answer.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from prototype.text import CALENDAR_WORDS, is_function_word, stem

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


_CLOCK_IN_TEXT = re.compile(r"(?<![\d:.])(\d{1,2}):(\d{2})(?![\d:])\s*(am|pm)?")
_CLOCK = re.compile(r"\d{1,2}:\d{2}")


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
    s = _CLOCK_IN_TEXT.sub(r" \1:\2 \3 ", s)  # "06:30pm" -> " 06:30 pm "; ":" kept only here
    s = re.sub(r"(?<!\d):|:(?!\d\d)|_|[^\w\s./:]", " ", s)
    tokens = [p for t in s.split() for p in ([t] if _CLOCK.fullmatch(t) else t.split(":"))]
    tokens = [t for t in tokens if t]
    tokens = [re.sub(r"^(\d+)(st|nd|rd|th)$", r"\1", t) for t in tokens]
    tokens = [t.lstrip("0") or "0" if t.isdigit() else t for t in tokens]
    tokens = [t[1:] if _CLOCK.fullmatch(t) and len(t) == 5 and t[0] == "0" else t for t in tokens]
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


def contains_gold(text: str, gold: str, aliases: Iterable[str] = ()) -> bool:
    """True if the normalised gold answer or an alias occurs, as whole tokens, in the text.
    The lenient test, for "is the answer in this passage?" (module docstring)."""
    padded = f" {normalise(text)} "
    for g in (gold, *aliases):
        ng = normalise(g)
        if ng and f" {ng} " in padded:  # an answer that normalises to nothing never matches
            return True
    return False


_ARTICLES = frozenset(["a", "an", "the"])
# A weekday ends in "day"; the other calendar words are months.
_WEEKDAYS = frozenset(w for w in CALENDAR_WORDS if w.endswith("day"))
_MONTHS = CALENDAR_WORDS - _WEEKDAYS


def answer_tokens(text: str) -> list[str]:
    """Normalised tokens less the articles: what exact match, F1 and containment compare."""
    return [t for t in normalise(text).split() if t not in _ARTICLES]


def value_class(token: str) -> str | None:
    """'clock', 'number', 'month' or 'weekday' for a normalised token that states a value."""
    if _CLOCK.fullmatch(token):
        return "clock"
    if any(c.isdigit() for c in token):
        return "number"
    if token in _MONTHS:
        return "month"
    if token in _WEEKDAYS:
        return "weekday"
    return None


def _is_content(token: str) -> bool:
    return not is_function_word(token) and token not in _ARTICLES


def exact_match(answer: str, gold: str, aliases: Iterable[str] = ()) -> bool:
    """The answer's tokens equal the gold's or an alias's (an empty gold never matches)."""
    got = answer_tokens(answer)
    return any((g := answer_tokens(x)) and got == g for x in (gold, *aliases))


def token_f1(answer: str, gold: str, aliases: Iterable[str] = ()) -> float:
    """SQuAD's token F1 against the best of the gold and its aliases."""
    got = Counter(answer_tokens(answer))
    best = 0.0
    for x in (gold, *aliases):
        want = Counter(answer_tokens(x))
        common = sum((got & want).values())
        if common:
            p, r = common / sum(got.values()), common / sum(want.values())
            best = max(best, 2 * p * r / (p + r))
    return round(best, 4)


def _find(tokens: list[str], run: list[str]) -> list[int]:
    n = len(run)
    return [i for i in range(len(tokens) - n + 1) if tokens[i : i + n] == run]


def strict_reason(answer: str, gold: str, question: str = "") -> str | None:
    """Why `answer` fails strict containment of this one gold form, or None if it passes:
    "missing", "competing value" or "runs past the gold" (rules in the module docstring)."""
    got, want = answer_tokens(answer), answer_tokens(gold)
    starts = _find(got, want) if want else []
    if not starts:
        return "missing"
    inside = {i + k for i in starts for k in range(len(want))}
    outside = [t for i, t in enumerate(got) if i not in inside]
    asked = answer_tokens(question)
    asked_stems = {stem(t) for t in asked}
    classes = {value_class(t) for t in want} - {None}
    if any(value_class(t) in classes and t not in asked and t not in want for t in outside):
        return "competing value"
    new = {t for t in outside if _is_content(t) and t not in want and stem(t) not in asked_stems}
    if len(new) > max(1, sum(map(_is_content, want))):
        return "runs past the gold"
    return None


def is_correct(answer: str, gold: str, aliases: Iterable[str] = (), question: str = "") -> bool:
    """Strict containment against the gold or an alias (module docstring)."""
    return any(strict_reason(answer, g, question) is None for g in (gold, *aliases))


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
    """One generated answer and its gold data; None where the gold data is absent. `question`
    lets restating it not count as running past the gold; `kind` "updated" makes the verdict
    need the right source."""

    raw: str
    gold: str | None = None
    aliases: tuple[str, ...] = ()
    doc: str | None = None  # gold document id
    question: str = ""
    kind: str = "original"


@dataclass(frozen=True)
class AnswerScore:
    compliant: bool
    correct: bool | None  # strict containment, and the right source for a changed fact
    source_correct: bool | None
    answer: str | None
    source: str | None
    exact: bool | None = None
    f1: float | None = None
    content_correct: bool | None = None  # strict containment without the source check


def score_answer(record: AnswerRecord | Mapping) -> AnswerScore:
    """Score one answer. Accuracy measures knowledge, format compliance measures format, so a
    correct fact is counted even when the JSON wrapper is broken: the parsed "answer" is judged
    when the format is compliant, the raw text otherwise. A non-compliant answer has no
    parseable source, so its source is wrong (and a changed fact it states is not credited)."""
    r = record if isinstance(record, AnswerRecord) else AnswerRecord(**record)
    fmt = parse_answer_format(r.raw)
    text = (fmt.answer if fmt.compliant else r.raw) or ""
    source_correct = None if r.doc is None else fmt.compliant and fmt.source == r.doc
    if r.gold is None:
        return AnswerScore(fmt.compliant, None, source_correct, fmt.answer, fmt.source)
    content = is_correct(text, r.gold, r.aliases, r.question)
    correct = content and (r.kind != "updated" or bool(source_correct))
    return AnswerScore(
        fmt.compliant,
        correct,
        source_correct,
        fmt.answer,
        fmt.source,
        exact=exact_match(text, r.gold, r.aliases),
        f1=token_f1(text, r.gold, r.aliases),
        content_correct=content,
    )


def _share(flags: Sequence[bool | float | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def score_answers(records: Iterable[AnswerRecord | Mapping]) -> dict:
    """Aggregate metrics over answers: {"n", "accuracy", "exact_match", "token_f1",
    "format_compliance", "source_accuracy"}.

    Each share is over the records that have the gold data it needs (accuracy, exact match
    and F1: a gold answer; source_accuracy: a gold doc id) and is None when no record has it.
    """
    scores = [score_answer(r) for r in records]
    return {
        "n": len(scores),
        "accuracy": _share([s.correct for s in scores]),
        "exact_match": _share([s.exact for s in scores]),
        "token_f1": _share([s.f1 for s in scores]),
        "format_compliance": _share([s.compliant for s in scores]),
        "source_accuracy": _share([s.source_correct for s in scores]),
    }
