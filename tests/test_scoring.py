"""Answer scoring: normalisation, correctness, the answer format and the aggregate metrics."""

from __future__ import annotations

import pytest

from prototype.scoring import (
    AnswerRecord,
    FormatCheck,
    contains_gold,
    exact_match,
    is_correct,
    normalise,
    parse_answer_format,
    score_answer,
    score_answers,
    strict_reason,
    token_f1,
)

NORMALISE = [
    ("  Hello,   WORLD! ", "hello world"),
    ("fourteen days", "14 day"),
    ("Twenty-seven days", "27 day"),
    ("two thousand five hundred points", "2500 points"),
    ("one hundred and five", "105"),
    ("ninety nine", "99"),
    ("twenty twenty", "20 20"),  # two numbers, not 40
    ("bread and butter", "bread and butter"),
    ("two weeks", "2 week"),  # number words only: no unit conversion to days
    ("1,200", "1200"),
    ("2,500 points", "2500 points"),
    ("0.42", "0.42"),
    ("It ends.", "it ends"),
    ("400 kilometres", "400 km"),
    ("400 kilometers", "400 km"),
    ("400 km", "400 km"),
    ("20%", "20 percent"),
    ("20 per cent", "20 percent"),
    ("€38", "38 eur"),
    ("EUR 38", "38 eur"),
    ("38 euros", "38 eur"),
    ("$5", "5 usd"),
    ("5 dollars", "5 usd"),
    ("€0.42/km", "0.42 eur per km"),
    ("05:40", "5:40"),
    ("ages 6-30", "ages 6 30"),  # a range is two numbers, never a clock time
    ("6:30pm", "6:30 pm"),
    ("12:30:00", "12 30 0"),
    ("3rd November", "3 november"),
    ("Vindøy Yard", "vindoy yard"),
    ("Skjær", "skjaer"),
    ("Café", "cafe"),
    ("ＡＢＣ１２", "abc12"),  # full-width forms
    ("driver's lounge", "drivers lounge"),
    ("DG-7", "dg 7"),
    ("55 minutes", "55 min"),
    ("11.5 tonnes", "11.5 t"),
]


@pytest.mark.parametrize("text,expected", NORMALISE)
def test_normalise(text, expected):
    assert normalise(text) == expected


LEAVE_Q = "How many days of annual leave do full-time staff get?"
FERRY_Q = "When does the first ferry leave?"
BUILT_Q = "In which year was the MS Nordlys built?"
FOUNDER_Q = "Who founded Aurora Fjordline?"

# (answer, gold, aliases, question, strict verdict): the accepted and rejected answers of the
# strict containment rule (prototype/scoring.py docstring).
CORRECT = [
    ("Full-time staff get 27 days of leave.", "27 days", (), LEAVE_Q, True),  # echo + 27 days
    ("twenty-seven days", "27 days", (), LEAVE_Q, True),
    ("It is 16 days.", "6 days", (), LEAVE_Q, False),  # whole tokens only
    ("It is 6 days.", "16 days", (), LEAVE_Q, False),
    ("two weeks", "14 days", (), LEAVE_Q, False),
    ("two weeks", "14 days", ("two weeks",), LEAVE_Q, True),
    ("The allowance is €38 per day.", "38 EUR", (), "What is the daily allowance?", True),
    ("EUR 38", "38 EUR", (), "", True),
    ("0.42 €/km", "0.42 EUR per km", (), "", True),
    ("0.47 EUR per km", "0.42 EUR per km", (), "", False),
    ("Silver needs 2500 points", "2,500 points", (), "How many points does Silver need?", True),
    ("The first ferry leaves at 05:40.", "05:40", (), FERRY_Q, True),
    ("The ferry leaves at 06:30.", "06:30", (), FERRY_Q, True),  # the accepted example
    ("5:40", "05:40", (), FERRY_Q, True),
    ("ages 6-30", "06:30", (), FERRY_Q, False),  # a range, not a clock time
    ("06:30, 07:15 and 08:00", "06:30", (), FERRY_Q, False),  # a list of candidates
    ("06:30 or 07:15", "06:30", (), FERRY_Q, False),
    # A number is no competing clock time ("pier" restates the question, "2" is one new word).
    ("06:30 from pier 2", "06:30", (), "When does the first ferry leave the pier?", True),
    ("2016 at Vindøy Yard", "2016", (), BUILT_Q, False),  # a second fact: two new words
    ("It was built in 2016.", "2016", (), BUILT_Q, True),
    ("2016 (delivered 2017)", "2016", (), BUILT_Q, False),  # a competing number
    ("27 October", "27 October", (), "When is the deadline?", True),
    ("27 October or 3 November", "27 October", (), "When is the deadline?", False),
    ("Tuesday 27 October", "27 October", (), "When is the deadline?", True),  # no weekday gold
    ("Monday or Tuesday", "Monday", (), "Which day is the market?", False),
    ("Solveig Branntrø, the founder", "Solveig Branntrø", (), FOUNDER_Q, True),  # stem echo
    ("It is Solveig Branntro.", "Solveig Branntrø", (), FOUNDER_Q, True),
    ("The founder was Solveig.", "Solveig Branntrø", (), FOUNDER_Q, False),
    ("Solveig Branntrø, Kari Nordvik and Ola Lie", "Solveig Branntrø", (), FOUNDER_Q, False),
    (  # a table row: the gold among other cells
        "| Reception | 06:30 | Building A | ext 4411 |",
        "06:30",
        (),
        "When does reception open?",
        False,
    ),
    ("anything", "", (), "", False),  # an empty gold never matches
    ("anything", "!!", (), "", False),
    ("", "27 days", (), LEAVE_Q, False),
]


@pytest.mark.parametrize("text,gold,aliases,question,expected", CORRECT)
def test_is_correct(text, gold, aliases, question, expected):
    assert is_correct(text, gold, aliases, question) is expected


REASONS = [
    ("ages 6-30", "06:30", FERRY_Q, "missing"),
    ("06:30 or 07:15", "06:30", FERRY_Q, "competing value"),
    ("2016 at Vindøy Yard", "2016", BUILT_Q, "runs past the gold"),
    ("The ferry leaves at 06:30.", "06:30", FERRY_Q, None),
]


@pytest.mark.parametrize("text,gold,question,reason", REASONS)
def test_strict_reason_names_the_rule(text, gold, question, reason):
    assert strict_reason(text, gold, question) == reason


def test_contains_gold_is_the_lenient_passage_test():
    assert contains_gold("2016 at Vindøy Yard", "2016")
    assert contains_gold("06:30, 07:15 and 08:00", "06:30")
    assert not contains_gold("ages 6-30", "06:30")
    assert not contains_gold("It is 16 days.", "6 days")


EXACT = [  # (answer, gold, aliases, exact match, token F1)
    ("27 days", "27 days", (), True, 1.0),
    ("The 27 days.", "27 days", (), True, 1.0),  # articles and punctuation do not count
    ("twenty-seven days", "27 days", (), True, 1.0),
    ("27 days of leave", "27 days", (), False, 0.6667),
    ("2016 at Vindøy Yard", "2016", (), False, 0.4),
    ("two weeks", "14 days", ("two weeks",), True, 1.0),
    ("Branntro", "Solveig Branntrø", (), False, 0.6667),
    ("no idea", "1987", (), False, 0.0),
    ("", "1987", (), False, 0.0),
    ("anything", "", (), False, 0.0),
]


@pytest.mark.parametrize("text,gold,aliases,exact,f1", EXACT)
def test_exact_match_and_token_f1(text, gold, aliases, exact, f1):
    assert exact_match(text, gold, aliases) is exact
    assert token_f1(text, gold, aliases) == pytest.approx(f1, abs=1e-4)


FORMAT = [
    (
        '{"answer": "27 days", "source": "leave_policy"}',
        FormatCheck(True, "27 days", "leave_policy"),
    ),
    ('  \n{"answer": "x", "source": "d"}\n ', FormatCheck(True, "x", "d")),
    ('{"answer": "x", "source": "d", "confidence": "high"}', FormatCheck(True, "x", "d")),
    ('{"answer": "x", "source": "d"} Hope this helps!', FormatCheck(False, None, None)),
    ('Sure! {"answer": "x", "source": "d"}', FormatCheck(False, None, None)),
    ('```json\n{"answer": "x", "source": "d"}\n```', FormatCheck(False, None, None)),
    (
        '{"answer": "x", "source": "d"}{"answer": "y", "source": "d"}',
        FormatCheck(False, None, None),
    ),
    ('{"answer": "x"}', FormatCheck(False, None, None)),
    ('{"answer": 27, "source": "d"}', FormatCheck(False, None, None)),
    ('{"answer": "x", "source": null}', FormatCheck(False, None, None)),
    ("{'answer': 'x', 'source': 'd'}", FormatCheck(False, None, None)),
    ('{"answer": "x", "source": "d"', FormatCheck(False, None, None)),
    ('["x", "d"]', FormatCheck(False, None, None)),
    ("27 days", FormatCheck(False, None, None)),
    ("", FormatCheck(False, None, None)),
    ("[" * 100_000, FormatCheck(False, None, None)),
]


@pytest.mark.parametrize("raw,expected", FORMAT)
def test_parse_answer_format(raw, expected):
    assert parse_answer_format(raw) == expected


def test_score_answer_judges_parsed_answer_or_raw_text():
    ok = score_answer(
        AnswerRecord('{"answer": "27 days", "source": "leave"}', "27 days", (), "leave")
    )
    assert (ok.compliant, ok.correct, ok.source_correct) == (True, True, True)
    # The fact is right but the wrapper is broken: knowledge counts, format and source do not.
    broken = score_answer(AnswerRecord("Answer: 27 days (leave)", "27 days", (), "leave"))
    assert (broken.compliant, broken.correct, broken.source_correct) == (False, True, False)
    # Only the parsed answer is judged: the gold in the source field does not count.
    src = score_answer(AnswerRecord('{"answer": "no idea", "source": "27 days"}', "27 days"))
    assert (src.correct, src.source_correct) == (False, None)


def test_changed_fact_needs_the_right_source():
    raw = '{"answer": "30 days", "source": "leave_policy"}'
    right = score_answer(AnswerRecord(raw, "30 days", (), "leave_policy", kind="updated"))
    assert (right.correct, right.content_correct, right.exact) == (True, True, True)
    other = raw.replace("leave_policy", "sick_leave")
    wrong = score_answer(AnswerRecord(other, "30 days", (), "leave_policy", kind="updated"))
    assert (wrong.correct, wrong.content_correct) == (False, True)
    # Free text cites no source: it cannot show it read the changed document.
    free = score_answer(AnswerRecord("30 days", "30 days", (), "leave_policy", kind="updated"))
    assert (free.correct, free.content_correct) == (False, True)
    # Before the update the source does not gate the knowledge verdict.
    orig = score_answer(AnswerRecord(other, "30 days", (), "leave_policy"))
    assert (orig.correct, orig.source_correct) == (True, False)


def test_score_answers_metrics_and_absent_gold():
    records = [
        AnswerRecord('{"answer": "27 days", "source": "leave"}', "27 days", (), "leave"),
        AnswerRecord('{"answer": "6 days", "source": "sick"}', "6 days", (), "leave"),
        {"raw": "It is 45 days", "gold": "45 days", "aliases": (), "doc": "expenses"},
        AnswerRecord("no idea", "1987", (), "company"),
    ]
    m = score_answers(records)
    assert m == {
        "n": 4,
        "accuracy": 0.75,
        "exact_match": 0.5,
        "token_f1": pytest.approx((1 + 1 + 2 * (2 / 4 * 1) / (2 / 4 + 1) + 0) / 4, abs=1e-4),
        "format_compliance": 0.5,
        "source_accuracy": 0.25,
    }
    no_gold = score_answers([AnswerRecord('{"answer": "x", "source": "d"}')])
    assert no_gold == {
        "n": 1,
        "accuracy": None,
        "exact_match": None,
        "token_f1": None,
        "format_compliance": 1.0,
        "source_accuracy": None,
    }
    assert score_answers([])["accuracy"] is None
