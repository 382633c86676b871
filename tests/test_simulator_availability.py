"""A price book that knows its age and what can still be bought (issue 17, part 5).

The simulator never prices a model, fine-tuning path or GPU that is closed to new users or shuts
down within the simulated months; when no cloud fine-tuning path is open it prices LoRA on an
open-weights model and says so; a price over six months old is named.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest
import yaml
from test_simulator_profiles import BOOK, WHAT_IF, make_profile

from core.errors import ConfigError
from core.simulation import PriceUsed, SimulationResult, old_prices
from simulator import derive_assumptions, load_price_book, simulate
from simulator.assumptions import horizon_end
from simulator.prices import PRICES_DIR
from simulator.runner import run

TODAY = date(2026, 12, 6)


def _book_with(tmp_path, file: str, entry: str, **fields):
    shutil.copytree(PRICES_DIR, tmp_path / "prices")
    path = tmp_path / "prices" / f"{file}.yaml"
    raw = yaml.safe_load(path.read_text())
    raw[entry].update(fields)
    path.write_text(yaml.safe_dump(raw))
    return tmp_path / "prices"


# --- schema -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"retires": "2027-02-30"},
            "prices/models.yaml: gpt-6-luna.retires must be a date written YYYY-MM-DD, "
            "got '2027-02-30'",
        ),
        ({"as_of": "last year"}, "gpt-6-luna.as_of must be a date written YYYY-MM-DD"),
        (
            {"available_to_new_users": "maybe"},
            "gpt-6-luna.available_to_new_users must be true or false, got 'maybe'",
        ),
        ({"verified": "perhaps"}, "gpt-6-luna.verified must be true or false"),
        (
            {"retires": "2027-01-01"},
            "prices/models.yaml: gpt-6-luna `available_to_new_users: false` or a `retires` "
            "date needs an `availability_source`",
        ),
        ({"availability": "open"}, "gpt-6-luna.availability unknown key"),
    ],
)
def test_bad_availability_fields_are_named(tmp_path, fields, message):
    book_dir = _book_with(tmp_path, "models", "gpt-6-luna", **fields)
    with pytest.raises(ConfigError) as e:
        load_price_book(book_dir)
    assert message in str(e.value)


def test_every_entry_is_dated_and_closed_entries_say_why():
    for table in (BOOK.models, BOOK.gpus, BOOK.embeddings, BOOK.vector_stores):
        for name, entry in table.items():
            assert entry.as_of <= TODAY, name
            if not entry.available_to_new_users or entry.retires:
                assert entry.availability_source, name
    assert BOOK.people.labelling.as_of and BOOK.people.engineering.source


def test_the_issue_items_are_in_the_book():
    ds = BOOK.models["deepseek-chat"]
    assert (ds.input_per_mtok, ds.output_per_mtok) == (0.56, 1.68)
    assert "AWS ~3.9" not in BOOK.gpus["h100"].source and "RunPod" in BOOK.gpus["h100"].source
    for name in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini"):
        assert BOOK.models[name].retires == date(2027, 1, 14), name
    for name in ("gpt-4o", "gpt-4o-mini"):
        ft = BOOK.models[name].fine_tuning
        assert ft and not ft.available_to_new_users and ft.retires == date(2027, 1, 6)
        assert "2026-05-07" in ft.availability_source
    why = BOOK.defaults["cloud_api"].why
    assert "2025-09-15" in why and "Mistral" in why  # Cohere and Mistral deprecations


# --- the simulator never prices what cannot be bought -----------------------------------------
def test_retired_model_is_refused_after_its_date_and_priced_before():
    p = make_profile()
    # gpt-5-mini shuts down 2026-12-11: a 3-month run from 2026-06-01 may price it...
    a = derive_assumptions(
        p, BOOK, {"generator_model": "gpt-5-mini"}, start=date(2026, 6, 1), months=3
    )
    assert a.prices["gen.input_per_mtok"].value == 0.25
    # ...a run that reaches its shutdown may not, and says which entry and why.
    with pytest.raises(ConfigError) as e:
        derive_assumptions(p, BOOK, {"generator_model": "gpt-5-mini"}, start=TODAY, months=1)
    assert "generator_model: 'gpt-5-mini' cannot be bought" in str(e.value)
    assert "shuts down on 2026-12-11" in str(e.value)


def test_closed_to_new_users_is_refused_whatever_the_date():
    with pytest.raises(ConfigError) as e:
        derive_assumptions(
            make_profile(), BOOK, {"generator_model": "claude-sonnet-4"}, start=date(2025, 1, 1)
        )
    assert "closed to new users" in str(e.value)


def test_a_longer_horizon_than_resolved_is_refused():
    p = make_profile()
    a = derive_assumptions(
        p, BOOK, {"generator_model": "gpt-5-mini"}, start=date(2026, 6, 1), months=3
    )
    simulate(p, a, months=3, draws=0)
    with pytest.raises(ConfigError, match="past the shutdown on 2026-12-11"):
        simulate(p, a, months=12, draws=0)


def test_no_open_cloud_fine_tuning_prices_open_weights_lora_and_says_why():
    p = make_profile()  # cloud_api
    # gpt-4o-mini is still sold on 2026-12-06 for one month, but its fine-tuning is closed to
    # new users: fine-tuning is LoRA on the open-weights model, on A100 hours.
    a = derive_assumptions(p, BOOK, {"generator_model": "gpt-4o-mini"}, start=TODAY, months=1)
    assert (a.fine_tuning_model, a.ft_billing) == ("llama-3.1-8b-selfhosted", "gpu_hours")
    assert "ft.training_per_mtok" not in a.prices and "gpu.usd_per_hour" in a.prices
    assert "closed to new users" in a.sources["fine_tuning_model"]
    r = simulate(p, a, months=1, draws=0)
    assert any("LoRA on open-weights llama-3.1-8b-selfhosted" in n for n in r.notes)
    rows = r.rows.set_index("strategy")
    # Training on GPU hours: tokens / (5.4M tokens per GPU-hour) x 1.79 USD; the tuned model
    # reserves its own A100 (730 h x 1.79 = 1306.70 a month at least), RAG reserves nothing.
    assert rows.loc["fine_tuning", "monthly_cost_usd"] >= 1306.70
    assert rows.loc["rag", "hosting_usd"] == 0
    # The same run in a what-if book that reopens gpt-4o-mini fine-tuning prices the cloud path.
    b = derive_assumptions(p, WHAT_IF, {"generator_model": "gpt-4o-mini"}, start=TODAY, months=1)
    assert (b.fine_tuning_model, b.ft_billing) == ("gpt-4o-mini", "per_token")
    assert b.prices["ft.training_per_mtok"].value == 3.0


def test_choosing_a_closed_fine_tuning_path_is_refused():
    with pytest.raises(ConfigError) as e:
        derive_assumptions(
            make_profile(),
            BOOK,
            {"generator_model": "gpt-4o-mini", "fine_tuning_model": "gpt-4o-mini"},
            start=TODAY,
            months=1,
        )
    assert "fine_tuning_model: gpt-4o-mini fine-tuning is closed to new users" in str(e.value)


@pytest.mark.parametrize("name", ["support_bot", "ticket_classifier", "static_manual"])
def test_default_cloud_stack_is_open_for_ten_years(name):
    a = derive_assumptions(make_profile(name), BOOK, start=TODAY, months=120)
    assert a.generator_model == "gpt-6-luna" and a.available_until == ""
    simulate(make_profile(name), a, months=120, draws=0)


def test_horizon_end():
    assert horizon_end(date(2026, 12, 6), 36) == date(2029, 12, 5)
    assert horizon_end(date(2026, 12, 1), 1) == date(2026, 12, 31)


# --- age warning ------------------------------------------------------------------------------
def test_age_warning_fires_for_an_old_entry_and_not_a_fresh_one():
    fresh = PriceUsed(0.1, 0.1, 0.1, "s", "2026-12-06", "high", "models.gpt-6-luna")
    old = PriceUsed(0.56, 0.56, 0.56, "s", "2025-09-05", "high", "models.deepseek-chat")
    edge = PriceUsed(1.0, 1.0, 1.0, "s", "2026-06-06", "high", "gpus.x")  # 183 days: not yet
    found = old_prices({"a": fresh, "b": old, "c": edge, "d": old}, TODAY)
    assert [o.entry for o in found] == ["models.deepseek-chat"]  # once per entry
    assert found[0].age_days == 457 and "15 months old" in found[0].sentence()
    assert old_prices({"a": fresh}, TODAY) == []


def test_simulation_names_its_old_prices():
    p = make_profile()
    r = run(p, months=12, draws=0, sets=["generator_model=deepseek-chat"], start=TODAY)
    sim = SimulationResult.from_dict(r.to_dict())
    entries = {o.entry for o in sim.old_prices(TODAY)}
    # deepseek-chat's price list dates from 2025-09-05; the open-weights fine-tuning path's
    # throughputs are estimates from 2026-01-15.
    assert entries == {"models.deepseek-chat", "models.llama-3.1-8b-selfhosted"}
    assert "embeddings.text-embedding-3-small" not in entries  # re-checked 2026-12-06
    assert "people.labelling" not in entries
    # The same run judged on its own price dates raises nothing.
    assert sim.old_prices(date(2025, 10, 1)) == []
