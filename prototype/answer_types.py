"""Answer types: what kind of answer a question asks for, and how well a span fits it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from prototype.text import (
    AUXILIARIES,
    CALENDAR_WORDS,
    clean,
    is_capitalised,
    is_function_word,
    is_numeric,
    stem,
)

_TYPE_PATTERNS = (
    ("number", r"\bhow (many|much|long|often|far|old|high|heavy|big|large|soon|wide)\b"),
    ("number", r"\bwhat (percentage|share|proportion|fraction)\b"),
    ("time", r"\bwhen\b|\b(what|which) (time|date|day|year|month|hour)\b|\bby when\b"),
    ("person", r"\bwho(m|se)?\b|\b(which|what) person\b|\bname the person\b"),
    # "What is the top speed / capacity / deadline ...": a quantity, whatever the wh-word.
    (
        "number",
        r"\b(amount|number|total|length|duration|capacity|limit|size|rate|fee|cost|price|speed|"
        r"distance|deadline|allowance|entitlement|how fast|maximum|minimum|weight|height|"
        r"sailing time|travel time|journey time)\b",
    ),
)


def answer_type(question: str) -> str:
    """'number', 'time', 'person' or 'other', from the question's wording alone."""
    q = question.casefold()
    for kind, pat in _TYPE_PATTERNS:
        if re.search(pat, q):
            return kind
    return "other"


# Finer answer types inside the coarse ones (Li & Roth's NUM:period, NUM:time, NUM:date, LOC):
# they tell "how long" (a duration, never a clock time) from "what time" (a clock time) and
# "which day" (a date or weekday, never a clock time), and "where" (a named place, never a
# number) from other questions.
_SUBTYPE_PATTERNS = (
    # NUM:money: "how much does it cost", "what is the fee"; a price, never a duration.
    # "Pay" only as the question's verb ("what do pilots pay", "how much will I pay"), not
    # "paid leave", which asks for days; "surcharge", not "charge" ("in charge" asks for a
    # person).
    (
        "money",
        r"^(?!.*\b(how many|percentage|share|proportion|fraction)\b).*(\b(cost|costs|fee|"
        r"fees|price|prices|deposit|fare|fares|surcharge)\b|\b(what|how much) (do|does|did|"
        r"will|would|must|should|can) [\w' -]{1,40}\bpay\b)",
    ),
    ("clock", r"\bwhat time\b|\b(what|which) hour\b"),
    ("date", r"\b(what|which) (date|day|weekday|month|year)\b"),
    (
        "duration",
        r"\bhow long\b|\b(sailing|travel|journey|crossing) time\b|\bduration\b|"
        r"\bhow many (minutes|hours|days|weeks|months|years)\b|\bhow far (in advance|ahead|"
        r"before)\b|\bnotice period\b|\bhow much notice\b|\bhow soon\b",
    ),
    # NUM:count: "how many places" wants a count, never a clock time ("how many euros" may
    # be a price).
    ("count", r"\bhow many\b"),
    # A telephone number: a run of digit groups, not a clock time or a price.
    (
        "phone",
        r"\b(phone|telephone|fax|extension) (number|line)\b|\b(which|what) (phone|telephone|"
        r"extension)\b|\b(which|what) (number|line)\b[\w' ]{0,20}\b(call|ring|phone|dial)\b|"
        r"\bwhat do (i|you|we) dial\b|^how (do|can|should) (i|you|we) (call|ring|phone)\b",
    ),
    (
        "place",
        r"\bwhere\b|\bport of call\b|\b(which|what) (island|port|town|city|village|place|"
        r"address|room|building|yard|country|street|harbour|station|location)\b",
    ),
)
QUANTITY_TYPES = ("number", "duration", "money", "count")  # kinds whose answer carries a unit word
_CLOCK = re.compile(r"^\d{1,2}[:.]\d{2}$")
# A price: a currency sign, or a currency code or word ("£131", "44 EUR", "250 kroner").
_MONEY = re.compile(
    r"[£$€¥]|^(eur|usd|gbp|nok|sek|dkk|chf|kr|euros?|pounds?|dollars?|kroner|krone)\W*$", re.I
)


# The question's focus: the noun phrase right after "which" / "what (is the) (name of the)"
# ("which meeting room", "the name of the occupational health service"). A named answer
# usually sits in the same phrase as that noun: "the Skjær meeting room", "the Harbour
# Basics induction course", "Vindøy Yard", "the occupational health service, Fjordhelse".
_FOCUS = re.compile(
    r"\b(?:which|what)\s+(?:(?:is|are|was|were)\s+)?(?:(?:the|a|an)\s+)?"
    r"(?:name\s+of\s+(?:the\s+|a\s+|an\s+)?)?((?:[\w'’-]+\s*){1,3})",
    re.IGNORECASE,
)
_COUNTED = re.compile(r"\bhow\s+(?:many|much)\s+((?:[\w'’-]+\s*){1,3})", re.IGNORECASE)
# Words that name the answer's type, not its phrase: "which day" wants a weekday, not any
# span next to the word "day" ("every day"); the answer type covers them.
_TYPE_NOUNS = "time date day weekday week month year hour number amount"
_TYPE_WORDS = frozenset(_TYPE_NOUNS.split())


def question_focus(question: str) -> frozenset[str]:
    """Stems of the focus phrase's words (up to 3, stopping at a function word or a verb):
    what "which" / "what" asks about, or what "how many" counts ("how many passengers" ->
    "720 passengers")."""
    m = _COUNTED.search(question) or _FOCUS.search(question)
    if not m:
        return frozenset()
    out = []
    for w in m.group(1).split():
        if is_function_word(w) or clean(w).casefold() in AUXILIARIES:
            break
        if clean(w).casefold() not in _TYPE_WORDS:
            out.append(stem(w))
    return frozenset(out)


def asks_count(question: str) -> bool:
    """A "how many / how much" question: what it counts is the number's unit, in the span."""
    return bool(_COUNTED.search(question))


def answer_subtype(question: str) -> str | None:
    """'money', 'clock', 'date', 'duration', 'count', 'phone' or 'place' when the wording
    asks for one, else None."""
    q = question.casefold()
    for kind, pat in _SUBTYPE_PATTERNS:
        if re.search(pat, q):
            return kind
    return None


def type_score(kind: str, words: Sequence[str], sentence_start: bool = False) -> float:
    """1 when the span has the asked-for type, 0 when it clearly does not. Other questions
    ("which agency", "what is the name") are mostly answered by a name or a code, so a span
    of capitalised or numeric words scores 1 there, anything else 0.3. A sentence's first
    word is capitalised anyway, so it proves nothing. `kind` may also be a finer
    `answer_subtype`: a clock time, a duration or a phone number (a number that is neither a
    clock time nor a price), a count (a number, not a clock time), a price, a date, a place
    (a name, not a number)."""
    content = [w for w in words if not is_function_word(w)]
    if sentence_start and content and content[0] is words[0] and len(content) == 1:
        named = is_numeric(words[0])
    else:
        named = all(is_capitalised(w) for w in content)
    if kind == "number":
        return 1.0 if any(is_numeric(w) for w in words) else 0.0
    if kind == "time":
        ok = any(is_numeric(w) or clean(w).casefold() in CALENDAR_WORDS for w in words)
        return 1.0 if ok else 0.0
    if kind == "person":
        caps = [is_capitalised(w) and not is_numeric(w) for w in content]
        return 1.0 if named and all(caps) else 0.0
    clock = any(_CLOCK.match(clean(w)) for w in words)
    if kind == "clock":
        return 1.0 if clock else 0.0
    if kind == "date":  # a day, month or year: "1 May", "Wednesday", "2016", never "07:00"
        ok = any(
            clean(w).casefold() in CALENDAR_WORDS or re.fullmatch(r"\d{4}", clean(w)) for w in words
        )
        return 1.0 if ok and not clock else 0.0
    money = any(_MONEY.search(w) for w in words)
    if kind == "money":
        return 1.0 if money else 0.0
    numeric = any(is_numeric(w) for w in words)
    if kind == "count":
        return 1.0 if numeric and not clock else 0.0
    if kind in ("duration", "phone"):  # a number, not a clock time or a price
        return 1.0 if numeric and not clock and not money else 0.0
    if kind == "place":
        if clock or (content and all(is_numeric(w) for w in content)):
            return 0.0  # a number or a time is not a place
        return 1.0 if named else 0.3
    return 1.0 if named else 0.3
