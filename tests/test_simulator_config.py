"""Price book, overrides, calibration: good input round-trips, bad input names key and value."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml
from test_simulator_profiles import BOOK, make_profile

from core.errors import ConfigError
from simulator import apply_calibration, derive_assumptions, load_price_book, simulate
from simulator.calibration import load_calibration, parse_calibration
from simulator.prices import PRICES_DIR


def test_every_price_entry_has_source_and_date_and_low_confidence_has_range():
    for table in (BOOK.models, BOOK.gpus, BOOK.embeddings, BOOK.vector_stores):
        for entry in table.values():
            assert entry.source and entry.as_of
            assert entry.confidence != "low" or entry.range


@pytest.mark.parametrize(
    "key, value, expected",
    [
        (
            "prices.models.gpt-4o-mini.input_per_mtok",
            "-1",
            "prices/models.yaml (overridden by --set prices.models.gpt-4o-mini.input_per_mtok): "
            "gpt-4o-mini.input_per_mtok must be >= 0, got -1",
        ),
        ("prices.gpus.a100-80gb.usd_per_hour", "0", "a100-80gb.usd_per_hour must be > 0, got 0"),
        ("prices.models.llama-3.1-8b-selfhosted.min_gpus", "x", "llama-3.1-8b-selfhosted.min_gpus"),
        (
            "prices.models.gpt-4o-mini.fine_tuning.training_per_mtok",
            "9",
            "range for `training_per_mtok` is [2.0, 4.0], must contain 9",
        ),
        ("prices.models.nope.input_per_mtok", "1", "no entry in prices/models.yaml matches"),
        ("prices.menu.x.y", "1", "prices.menu.x.y: price overrides look like"),
    ],
)
def test_bad_price_override_names_file_and_key(key, value, expected):
    with pytest.raises(ConfigError) as e:
        load_price_book(overrides={key: value})
    assert expected in str(e.value)


def test_bad_price_file_names_file_and_key(tmp_path):
    shutil.copytree(PRICES_DIR, tmp_path / "prices")
    path = tmp_path / "prices" / "models.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["gpt-4o-mini"]["input_per_mtok"] = -1
    raw["gpt-4o"]["colour"] = "red"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as e:
        load_price_book(tmp_path / "prices")
    assert "prices/models.yaml: gpt-4o-mini.input_per_mtok must be >= 0, got -1" in e.value.lines()
    assert "prices/models.yaml: gpt-4o.colour unknown key" in e.value.lines()


def test_user_price_file_overrides_and_is_recorded(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("gpus:\n  a100-80gb:\n    usd_per_hour: 2.4\n")
    book = load_price_book(user_file=f)
    assert book.gpus["a100-80gb"].usd_per_hour == 2.4
    assert [(o.key, o.old, o.new, o.origin) for o in book.overrides] == [
        ("prices.gpus.a100-80gb.usd_per_hour", 1.79, 2.4, str(f))
    ]
    p = make_profile("news_desk")  # private_cloud: priced on A100 hours
    a = derive_assumptions(p, book)
    assert a.prices["gpu.usd_per_hour"].value == 2.4
    assert "prices.gpus.a100-80gb.usd_per_hour" in a.overridden
    # The higher GPU price costs more than the book's, month by month.
    dear = simulate(p, a, months=3, draws=0).rows.monthly_cost_usd.to_numpy()
    cheap = simulate(p, derive_assumptions(p, BOOK), months=3, draws=0).rows
    assert (dear > cheap.monthly_cost_usd.to_numpy()).all()


@pytest.mark.parametrize(
    "key, value, message",
    [
        (
            "chnage_rate_per_month",
            "0.1",
            "chnage_rate_per_month: unknown assumption (did you mean change_rate_per_month",
        ),
        (
            "change_rate_per_month",
            "1.5",
            "change_rate_per_month: must be between 0 and 1, got '1.5'",
        ),
        ("epochs", "lots", "epochs: must be a number, got 'lots'"),
        ("retrain_interval_months", "2.5", "retrain_interval_months: must be a whole number"),
        ("k_retrieved", "true", "k_retrieved: must be a number"),
        ("chunk_tokens.middle", "3", "chunk_tokens.middle: unknown assumption"),
        ("epochs.low", "4", "epochs: range [4.0, 5.0] must contain the value 3.0"),
        ("generator_model", "gpt-9", "generator_model: unknown generator model 'gpt-9'"),
        ("vector_store", "redis", "vector_store: unknown vector store 'redis'"),
    ],
)
def test_bad_assumption_override_names_key_and_value(key, value, message):
    with pytest.raises(ConfigError) as e:
        derive_assumptions(make_profile(), BOOK, {key: value})
    assert message in str(e.value)


def test_good_overrides_apply_and_are_recorded():
    a = derive_assumptions(
        make_profile(),
        BOOK,
        {"change_rate_per_month": "0.3", "epochs.high": "8", "generator_model": "deepseek-chat"},
    )
    assert a.change_rate_per_month == 0.3 and a.ranges["epochs"] == (1.0, 8.0)
    assert a.prices["gen.input_per_mtok"].value == 0.56
    assert set(a.overridden) == {"change_rate_per_month", "epochs.high", "generator_model"}
    d = json.loads(json.dumps(a.to_dict()))
    assert d["values"]["change_rate_per_month"] == 0.3
    assert d["sources"]["change_rate_per_month"] == "override: --set"


def test_profile_mapping_table():
    # Documented mapping: weekly -> 10%/month -> auto cadence 2 months; preferred -> k = 5;
    # customer_support -> 300 prompt / 250 answer; style high -> 800 instruction tokens.
    a = derive_assumptions(make_profile("support_bot"), BOOK)
    assert (a.change_rate_per_month, a.retrain_interval_months, a.k_retrieved) == (0.1, 2, 5)
    assert (a.prompt_tokens, a.answer_tokens, a.instruction_tokens) == (300, 250, 800)
    assert a.generator_model == "gpt-6-luna" and a.billing == "per_token"
    # gpt-6-luna cannot be fine-tuned: the tuned model is LoRA on open weights, on A100 hours.
    assert (a.fine_tuning_model, a.ft_billing) == ("llama-3.1-8b-selfhosted", "gpu_hours")
    b = derive_assumptions(make_profile("legal_qa_onprem"), BOOK)
    assert b.generator_model == "llama-3.1-8b-selfhosted" and b.billing == "gpu_hours"
    assert b.k_retrieved == 8  # traceability required


# --- calibration ---------------------------------------------------------------------------
def result(strategy, **metrics):
    return {"strategy": strategy, "metrics": metrics, "answers": []}


def test_calibration_replaces_base_accuracy_preferring_paraphrased():
    cal = parse_calibration(
        {
            "results": [
                result("rag", accuracy=0.9, accuracy_paraphrased=0.8),
                result("fine_tuning", accuracy=0.7, accuracy_paraphrased=None),
                {
                    **result("hybrid", accuracy=1.0),
                    "variant": "constrained",
                },  # skipped: forced format
                result("base", accuracy=0.2),
            ]
        },
        "m.json",
    )
    a = apply_calibration(derive_assumptions(make_profile(), BOOK), cal)
    assert (a.base_accuracy_rag, a.base_accuracy_fine_tuning) == (0.8, 0.7)
    assert a.base_accuracy_hybrid == 0.810  # unchanged: cited default
    assert a.sources["base_accuracy_rag"] == "override: calibration: m.json"
    rows = simulate(make_profile(), a, months=2, draws=0).rows
    rag = rows[rows.strategy == "rag"]
    assert np.allclose(rag.expected_accuracy, 0.8 * (1 - rag.stale_fraction))


def test_single_result_file(tmp_path):
    f = tmp_path / "rag.json"
    f.write_text(json.dumps(result("rag", accuracy=0.5, latency_ms_p50=12.0)))
    assert load_calibration(f).accuracies() == {"rag": 0.5}


@pytest.mark.parametrize(
    "data, message",
    [
        ([1, 2], "expected a JSON object"),
        ({"strategy": "lora", "metrics": {}}, "c.json: strategy: string should match pattern"),
        (
            result("rag", accuracy=1.5),
            "c.json: metrics.accuracy: input should be less than or equal to 1, got 1.5",
        ),
        (result("rag", latency_ms_p95=-3), "metrics.latency_ms_p95: input should be greater"),
        ({"results": []}, "c.json: results: list should have at least 1 item"),
        ({"strategy": "rag"}, "c.json: metrics: field required"),
        ({**result("rag"), "colour": 1}, "c.json: colour: unknown key"),
    ],
)
def test_bad_calibration_is_rejected_clearly(data, message):
    with pytest.raises(ConfigError) as e:
        parse_calibration(data, "c.json")
    assert message in str(e.value)


def test_calibration_file_not_json(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text("{nope")
    with pytest.raises(ConfigError, match="bad.json: not valid JSON"):
        load_calibration(f)


def test_real_prototype_output_is_accepted_and_variants_skipped():
    from simulator.calibration import parse_calibration

    data = {
        "results": [
            {**result("rag+constrained", accuracy=0.99), "meta": {"corpus": "x"}},
            {**result("rag", accuracy=0.8), "meta": {"model": "SmolLM2"}, "answers": []},
        ]
    }
    assert parse_calibration(data, "c.json").accuracies() == {"rag": 0.8}


def test_run_takes_calibration_as_file_or_parsed_json(tmp_path):
    from simulator.runner import run

    data = {"results": [{**result("rag", accuracy=0.42), "meta": {"corpus": "x"}}]}
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(data))
    profile = make_profile()
    from_file = run(profile, months=6, draws=0, calibration_file=path)
    from_dict = run(profile, months=6, draws=0, calibration_file=data)
    assert from_file.rows.equals(from_dict.rows)
    plain = run(profile, months=6, draws=0)
    assert not from_dict.rows.equals(plain.rows)  # the measured accuracy was applied
