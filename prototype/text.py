"""Shared text helpers: sentences, reading units, stopwords, search terms and word tests."""

from __future__ import annotations

import re

WORD_EDGE = ".,;:!?()[]{}\"'“”‘’"  # punctuation stripped from a word's ends
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")

# Retrieval's stopwords: question words and function words that say nothing about which
# passage answers.
_STOPWORDS = (
    "a an and are as at be by can do does for from has have how i in is it its many much of "
    "on or the their there this to what when where which who whom why will with within you your"
)
STOPWORDS = frozenset(_STOPWORDS.split())
# Function words never start or end an answer span: the stopwords plus these.
_MORE_FUNCTION_WORDS = (
    "been could had he her his if into may must no not our out over per she should so than "
    "that them then these they those under up was we were would after before about all any "
    "also each every only more most other some such until while"
)
FUNCTION_WORDS = STOPWORDS | frozenset(_MORE_FUNCTION_WORDS.split())
# Auxiliary and modal verbs: a factoid answer ("Vindøy Yard", "27 days") never contains one,
# while a span that does is a clause ("4.5 metres high must be booked on MV"). Matched in
# lower case only, so the month in "1 May" or a name like "Will" is not a verb.
_AUXILIARIES = (
    "is are was were be been being has have had will would shall should must can could may "
    "might do does did"
)
AUXILIARIES = frozenset(_AUXILIARIES.split())
_CALENDAR = (
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday"
)
CALENDAR_WORDS = frozenset(_CALENDAR.split())
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty "
    "forty fifty hundred thousand half"
)
NUMBER_WORDS = frozenset(_NUMBER_WORDS.split())
# A sentence that opens on one of these refers back to the sentence before it.
_ANAPHORA = frozenset(["she", "he", "it", "they", "its", "their", "his", "her", "these"])


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT_END.split(text.strip()) if s.strip()]


def reading_units(text: str) -> list[str]:
    """Sentences as the readers see them: one that opens on a pronoun ("She carries up to 38
    trailers.") is joined to the sentence before it, which names what the pronoun stands for;
    shown alone, its fact would belong to nobody and no question about the ship would find it.
    """
    out: list[str] = []
    for sent in split_sentences(text):
        first = sent.split(maxsplit=1)[0].strip(WORD_EDGE).casefold()
        if out and first in _ANAPHORA:
            out[-1] = f"{out[-1]} {sent}"
        else:
            out.append(sent)
    return out


def terms(text: str) -> list[str]:
    """Lower-case word tokens without stopwords: what BM25 and the overlap features match."""
    return [t for t in re.findall(r"\w+", text.casefold()) if t not in STOPWORDS]


def clean(word: str) -> str:
    """The word without the punctuation at its ends."""
    return word.strip(WORD_EDGE)


def is_numeric(word: str) -> bool:
    """Holds a digit, or is a number word ("twelve")."""
    w = clean(word).casefold()
    return any(ch.isdigit() for ch in w) or w in NUMBER_WORDS


def is_capitalised(word: str) -> bool:
    """Starts with a capital or a digit: part of a name or a code."""
    w = clean(word)
    return bool(w) and (w[0].isupper() or w[0].isdigit())


def stem(word: str) -> str:
    """Crude shared stem so "carried"/"carry" and "leave"/"leaves" meet (5-letter prefix)."""
    return clean(word).casefold()[:5]


def is_function_word(word: str) -> bool:
    """A function word, which never starts or ends an answer. The month "May" is not."""
    w = clean(word)
    return w.casefold() in FUNCTION_WORDS and not (
        w[:1].isupper() and w.casefold() in CALENDAR_WORDS
    )
