"""Plain labels (issue 19): every name a user reads (profile fields, scorer features, simulator
inputs and prices, table columns) has one label in one place, and no label is a raw key."""

from __future__ import annotations

import re

import pytest

from advisor.features import FEATURE_NAMES, featurize
from core.errors import ConfigError
from core.inputs import ASSUMPTION_LABELS, PRICE_FIELDS, PRICE_SUBJECTS, input_label
from core.profile import FIELD_LABELS, Profile
from core.recommendation import feature_answer, feature_label, feature_value
from core.simulation import column_label
from simulator.assumptions import CHOICES, LATENCY_SPECS, SPECS, resolve_prices
from simulator.prices import load_price_book

RAW = re.compile(r"_|log10|\.[a-z]")  # snake_case, log10_, dotted price keys


def test_every_profile_field_has_one_label():
    assert set(FIELD_LABELS) == set(Profile.model_fields)
    assert not any(RAW.search(v) for v in FIELD_LABELS.values())


def test_every_assumption_has_a_label():
    names = {*SPECS, *LATENCY_SPECS, *CHOICES, "billing"}
    assert names <= set(ASSUMPTION_LABELS), names - set(ASSUMPTION_LABELS)
    assert not any(RAW.search(v) for v in ASSUMPTION_LABELS.values())


def test_every_price_the_simulator_can_use_has_a_label():
    book = load_price_book()
    keys = set()
    for model in book.models:
        try:
            keys |= set(
                resolve_prices(book, model, "text-embedding-3-small", "pinecone-standard")[1]
            )
        except ConfigError:  # a model without fine-tuning prices is refused: nothing to label
            continue
    assert any(k.startswith("gpu.") for k in keys) and "ft.training_per_mtok" in keys
    for k in keys:
        subject, _, field = k.partition(".")
        assert subject in PRICE_SUBJECTS and field in PRICE_FIELDS, k
        assert not RAW.search(input_label(k).replace("USD / 1M", "")), input_label(k)


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("ft.training_per_mtok", "Fine-tuned model: training, USD / 1M tokens"),
        ("change_rate_per_month", "Knowledge changing per month"),
        ("base_accuracy_rag", "Base accuracy: RAG"),
        ("vs.write_units_per_vector", "Vector store: write units per vector"),
        ("some_new_knob", "some new knob"),  # a newer file's input still reads as words
    ],
)
def test_input_labels(name, label):
    assert input_label(name) == label


def test_every_scorer_feature_has_a_label_and_reads_back_the_profile():
    from conftest import VALID_PROFILE

    labels = [feature_label(f) for f in FEATURE_NAMES]
    assert not any(RAW.search(v) for v in labels), labels
    assert len(set(labels)) == len(labels)
    row = dict(zip(FEATURE_NAMES, featurize(VALID_PROFILE), strict=True))
    assert feature_value("log10_labeled_examples", row["log10_labeled_examples"]) == "500"
    assert feature_value("traceability", row["traceability"]) == "required"
    assert feature_value("task=customer_support", row["task=customer_support"]) == "yes"
    assert feature_label("log10_latency_ms") == "Latency budget, p95 (ms)"
    assert feature_answer("log10_queries_per_month", VALID_PROFILE) == "50,000"
    assert feature_answer("deployment=on_premises", VALID_PROFILE) == "no"


@pytest.mark.parametrize(
    ("column", "label"),
    [
        ("cumulative_cost_usd_p90", "Cumulative cost (USD), P90"),
        ("stale_fraction_p50", "Stale share, P50"),
        ("inference_input_usd", "inference input (USD)"),
        ("month", "Month"),
    ],
)
def test_row_column_labels(column, label):
    assert column_label(column) == label
