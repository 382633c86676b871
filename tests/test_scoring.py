"""Answer scoring: normalisation, correctness, the answer format and the aggregate metrics."""

from __future__ import annotations

import pytest

from prototype.scoring import (
    AnswerRecord,
    FormatCheck,
    is_correct,
    normalise,
    parse_answer_format,
    score_answer,
    score_answers,
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
    ("05:40", "5 40"),
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


CORRECT = [
    ("Full-time staff get 27 days of leave.", "27 days", (), True),
    ("twenty-seven days", "27 days", (), True),
    ("It is 16 days.", "6 days", (), False),  # whole tokens only
    ("It is 6 days.", "16 days", (), False),
    ("two weeks", "14 days", (), False),
    ("two weeks", "14 days", ("two weeks",), True),
    ("The allowance is €38 per day.", "38 EUR", (), True),
    ("EUR 38", "38 EUR", (), True),
    ("0.42 €/km", "0.42 EUR per km", (), True),
    ("0.47 EUR per km", "0.42 EUR per km", (), False),
    ("Silver needs 2500 points", "2,500 points", (), True),
    ("The first ferry leaves at 05:40.", "05:40", (), True),
    ("The first ferry leaves at 5:40.", "05:40", (), True),
    ("It is Solveig Branntro.", "Solveig Branntrø", (), True),
    ("The founder was Solveig.", "Solveig Branntrø", (), False),
    ("anything", "", (), False),  # an empty gold never matches
    ("anything", "!!", (), False),
    ("", "27 days", (), False),
]


@pytest.mark.parametrize("text,gold,aliases,expected", CORRECT)
def test_is_correct(text, gold, aliases, expected):
    assert is_correct(text, gold, aliases) is expected


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


def test_score_answers_metrics_and_absent_gold():
    records = [
        AnswerRecord('{"answer": "27 days", "source": "leave"}', "27 days", (), "leave"),
        AnswerRecord('{"answer": "6 days", "source": "sick"}', "6 days", (), "leave"),
        {"raw": "It is 45 days", "gold": "45 days", "aliases": (), "doc": "expenses"},
        AnswerRecord("no idea", "1987", (), "company"),
    ]
    m = score_answers(records)
    assert m == {"n": 4, "accuracy": 0.75, "format_compliance": 0.5, "source_accuracy": 0.25}
    no_gold = score_answers([AnswerRecord('{"answer": "x", "source": "d"}')])
    assert no_gold == {"n": 1, "accuracy": None, "format_compliance": 1.0, "source_accuracy": None}
    assert score_answers([]) == {
        "n": 0,
        "accuracy": None,
        "format_compliance": None,
        "source_accuracy": None,
    }
