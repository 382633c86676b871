"""The profile form's numbers (issue 19.6): read as typed, never coerced; refusals name the field
by its label and quote what was typed."""

from __future__ import annotations

import pytest
from conftest import VALID_PROFILE

from core.errors import ProfileError
from ui.profile_form import FIELDS, parse_number, profile_from_widgets, to_text

# (field, text typed, value read)
GOOD = [
    ("queries_per_month", "50000", 50_000),
    ("queries_per_month", "50,000", 50_000),
    ("queries_per_month", " 50_000 ", 50_000),
    ("queries_per_month", "0", 0),
    ("queries_per_month", "5e4", 50_000),  # exact, so not a guess
    ("queries_per_month", "1000000000000", 10**12),  # the schema's maximum
    ("latency_budget_ms", "1", 1),
    ("knowledge_base_tokens", "2 000 000", 2_000_000),
    ("monthly_budget_usd", "", None),  # optional: empty is "no budget"
    ("monthly_budget_usd", "1,500.50", 1500.5),
]

# (field, text typed, the one line refusing it)
BAD = [
    ("queries_per_month", "", "Queries per month: required; enter a number"),
    ("latency_budget_ms", "  ", "Latency budget, p95 (ms): required; enter a number"),
    (
        "queries_per_month",
        "1e15",
        "Queries per month: must be at most 1,000,000,000,000, got '1e15'",
    ),
    ("latency_budget_ms", "0", "Latency budget, p95 (ms): must be more than 0, got '0'"),
    ("latency_budget_ms", "-5", "Latency budget, p95 (ms): must be more than 0, got '-5'"),
    ("latency_budget_ms", "1e9", "Latency budget, p95 (ms): must be at most 600,000, got '1e9'"),
    ("labeled_examples", "1.5", "Labelled examples: must be a whole number, got '1.5'"),
    ("labeled_examples", "many", "Labelled examples: must be a number, got 'many'"),
    ("queries_per_month", "nan", "Queries per month: must be a finite number, got 'nan'"),
    ("monthly_budget_usd", "-1", "Monthly budget (USD): must be at least 0, got '-1'"),
]


@pytest.mark.parametrize(("field", "text", "value"), GOOD)
def test_numbers_are_read_as_typed(field, text, value):
    got = parse_number(field, text)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(("field", "text", "line"), BAD)
def test_numbers_that_cannot_be_read_are_refused_by_name(field, text, line):
    with pytest.raises(ProfileError) as e:
        parse_number(field, text)
    assert e.value.lines() == [line]


def widgets(**changes) -> dict:
    """The form as a first visit fills it (a toggle is never empty)."""
    data = {**VALID_PROFILE, "access_control": False}
    return {n: to_text(n, data.get(n)) for n in FIELDS} | changes


def test_widget_text_round_trips_to_the_same_profile():
    assert widgets()["knowledge_base_tokens"] == "2,000,000"
    assert widgets()["monthly_budget_usd"] == ""
    p = profile_from_widgets(widgets())
    assert p.model_dump() == {**VALID_PROFILE, "access_control": False, "monthly_budget_usd": None}


def test_every_bad_field_is_one_line_in_reading_order():
    order = ("name", "queries_per_month", "latency_budget_ms", "task")
    with pytest.raises(ProfileError) as e:
        profile_from_widgets(
            widgets(name="   ", queries_per_month="", latency_budget_ms="1e15", task="poetry"),
            order,
        )
    lines = e.value.lines()
    assert [line.split(":")[0] for line in lines] == [
        "Name",
        "Queries per month",
        "Latency budget, p95 (ms)",
        "Task",
    ]
    assert lines[0] == "Name: must not be blank, got '   '"
