"""Profile schema: round-trips, bounds, and every kind of bad input named by field."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import VALID_PROFILE

from core.errors import ProfileError
from core.profile import (
    Profile,
    field_help,
    load_profile,
    parse_profile_bytes,
    profile_from_dict,
    profile_json_schema,
)

REQUIRED = [
    "name",
    "task",
    "knowledge_update_frequency",
    "latency_budget_ms",
    "traceability",
    "style_consistency",
    "structured_output",
    "knowledge_base_tokens",
    "labeled_examples",
    "queries_per_month",
    "deployment",
    "ml_maturity",
]


def test_required_fields_are_exactly_the_contract():
    schema = profile_json_schema()
    assert sorted(schema["required"]) == sorted(REQUIRED)
    assert set(schema["properties"]) == set(REQUIRED) | {"access_control", "monthly_budget_usd"}
    assert all(field_help(f) for f in schema["properties"])  # every field has help text


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_round_trip_through_files(tmp_path, fmt):
    p = profile_from_dict(VALID_PROFILE)
    path = tmp_path / f"p.{fmt}"
    data = p.model_dump()
    path.write_text(json.dumps(data) if fmt == "json" else yaml.safe_dump(data))
    again = load_profile(path)
    assert again == p
    assert again.access_control is False and again.monthly_budget_usd is None
    assert Profile.model_validate_json(p.to_json()) == p


BAD_VALUES = [
    # (field, value, expected fragment of the message)
    ("latency_budget_ms", -5, "latency_budget_ms: input should be greater than 0, got -5"),
    ("latency_budget_ms", 0, "latency_budget_ms"),
    ("latency_budget_ms", "fast", "latency_budget_ms"),
    ("latency_budget_ms", 10**9, "latency_budget_ms: input should be less than or equal"),
    ("task", "poetry", "task: input should be"),
    ("knowledge_update_frequency", "hourly", "knowledge_update_frequency"),
    ("traceability", True, "traceability"),
    ("structured_output", "maybe", "structured_output"),
    ("knowledge_base_tokens", -1, "knowledge_base_tokens"),
    ("queries_per_month", 1.5, "queries_per_month"),
    ("deployment", "edge", "deployment"),
    ("ml_maturity", None, "ml_maturity"),
    ("name", "", "name"),
    ("name", "   ", "name: must not be blank, got '   '"),  # min_length counts spaces
    ("name", "\t\n", "name: must not be blank"),
    ("monthly_budget_usd", -10, "monthly_budget_usd"),
]


@pytest.mark.parametrize("field,value,fragment", BAD_VALUES)
def test_bad_values_name_the_field(field, value, fragment):
    data = {**VALID_PROFILE, field: value}
    with pytest.raises(ProfileError) as exc:
        profile_from_dict(data)
    assert any(fragment in line for line in exc.value.lines()), exc.value.lines()


def test_missing_and_unknown_fields_each_get_a_line():
    data = {k: v for k, v in VALID_PROFILE.items() if k != "task"}
    data["colour"] = "blue"
    with pytest.raises(ProfileError) as exc:
        profile_from_dict(data)
    lines = exc.value.lines()
    assert "task: required field is missing" in lines
    assert "colour: unknown field (not part of the profile schema)" in lines


BAD_FILES = [
    (b"", "file is empty"),
    (b"   \n", "file is empty"),
    (b'{"name": "x", "task": ', "not valid JSON"),
    (b"\x00\x01\x02binary", "binary file"),
    (b"\xff\xfe\xfa", "not UTF-8"),
    (b"[1, 2, 3]", "expected a mapping"),
    (b"just a string", "expected a mapping"),
    (b"key: [unclosed", "not valid YAML"),
    (b"x" * (300 * 1024), "larger than"),
]


@pytest.mark.parametrize("raw,fragment", BAD_FILES)
def test_bad_files(raw, fragment):
    with pytest.raises(ProfileError) as exc:
        parse_profile_bytes(raw, "upload.yaml")
    assert fragment in str(exc.value)
    assert str(exc.value).startswith("upload.yaml")
