"""`ftrag simulate` through a real subprocess, and Monte Carlo reproducibility."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from test_simulator_profiles import BOOK, PROFILES, make_profile

from simulator import derive_assumptions, simulate
from simulator.simulate import monte_carlo

REQUIRED = {
    "month",
    "strategy",
    "monthly_cost_usd",
    "cumulative_cost_usd",
    "stale_fraction",
    "expected_accuracy",
}


def ftrag(*args):
    code = "from pipeline.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("p") / "support.json"
    path.write_text(json.dumps(PROFILES["support_bot"]))
    return path


def test_csv_is_the_tidy_table_alone(profile_file):
    r = ftrag("simulate", str(profile_file), "--months", "5", "--format", "csv", "--draws", "50")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 5 * 3 and rows[0].keys() >= REQUIRED
    assert {(int(x["month"]), x["strategy"]) for x in rows} == {
        (m, s) for m in range(1, 6) for s in ("fine_tuning", "rag", "hybrid")
    }


def test_json_has_rows_and_the_rest(profile_file, tmp_path):
    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps({"strategy": "rag", "metrics": {"accuracy": 0.6}}))
    r = ftrag(
        "simulate",
        str(profile_file),
        "--months",
        "4",
        "--draws",
        "50",
        "--set",
        "change_rate_per_month=0.2",
        "--calibration",
        str(cal),
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert len(d["rows"]) == 12 and d["rows"][0].keys() >= REQUIRED
    assert {"break_even", "bands", "latency", "assumptions", "overrides", "prices_used"} <= d.keys()
    assert d["assumptions"]["values"]["change_rate_per_month"] == 0.2
    assert {o["key"] for o in d["overrides"]} == {"change_rate_per_month", "base_accuracy_rag"}
    assert len(d["bands"]["rag"]["cumulative_cost_usd_p90"]) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "warp_factor=9"], "error: warp_factor: unknown assumption"),
        (["--set", "epochs"], "error: --set 'epochs': expected key=value"),
        (["--calibration", "missing.json"], "error: missing.json: calibration file not found"),
        (["--prices", "missing.yaml"], "error: missing.yaml: file not found"),
        (["--review-floor", "0.7"], "error: --review-floor: needs --calibration"),
        (["--review-floor", "1.5"], "Invalid value for '--review-floor'"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(profile_file, args, message):
    r = ftrag("simulate", str(profile_file), "--months", "2", *args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def _answer(i: int, confidence: float | None, correct: bool) -> dict:
    extra = {} if confidence is None else {"confidence": confidence}
    return {"id": f"q{i}", "gold": "x", "correct": correct, "extra": extra}


def test_review_floor_costs_the_share_its_run_checks(profile_file, tmp_path):
    """The share a person checks and the wrong answers among them come from the calibration
    run's answers (first row carrying a confidence), priced for every strategy."""
    answers = [  # right 0.95 and 0.6, wrong 0.9 and 0.3: a 0.8 floor checks half, catches one
        _answer(0, 0.95, True), _answer(1, 0.9, False), _answer(2, 0.6, True),
        _answer(3, 0.3, False),
    ]  # fmt: skip
    results = [
        {"strategy": "rag", "metrics": {"accuracy": 0.6}, "answers": [_answer(0, None, True)]},
        {"strategy": "rag+constrained", "metrics": {"accuracy": 0.5}, "answers": answers},
    ]
    cal = tmp_path / "run.json"
    cal.write_text(json.dumps({"results": results}))
    r = ftrag(
        "simulate", str(profile_file), "--months", "2", "--draws", "0", "--calibration", str(cal),
        "--review-floor", "0.8",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    values = d["assumptions"]["values"]
    assert (values["review_share"], values["review_catch"]) == (0.5, 0.5)
    origins = {o["key"]: o["origin"] for o in d["overrides"]}
    assert origins["review_share"] == f"review plan: rag+constrained at a 0.8 floor ({cal})"
    q = PROFILES["support_bot"]["queries_per_month"]
    assert [x["review_usd"] for x in d["rows"]] == pytest.approx([q * 0.5 * 2 / 60 * 27.0] * 6)
    # No answer with a confidence: said so, named by file.
    cal.write_text(json.dumps({"results": results[:1]}))
    r = ftrag("simulate", str(profile_file), "--calibration", str(cal), "--review-floor", "0.8")
    assert r.returncode == 2 and f"{cal}: no answer carries the reader's confidence" in r.stderr


def test_bad_profile_exits_2(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({**PROFILES["support_bot"], "queries_per_month": -5}))
    r = ftrag("simulate", str(f))
    assert r.returncode == 2 and "queries_per_month" in r.stderr


# --- Monte Carlo ---------------------------------------------------------------------------
def test_monte_carlo_is_reproducible_with_a_seed():
    p = make_profile("news_desk")
    a = derive_assumptions(p, BOOK)
    one, two = monte_carlo(p, a, 12, 500, seed=7), monte_carlo(p, a, 12, 500, seed=7)
    other = monte_carlo(p, a, 12, 500, seed=8)
    for s in one:
        for k in one[s]:
            assert np.array_equal(one[s][k], two[s][k])
    assert not np.array_equal(
        one["rag"]["cumulative_cost_usd"], other["rag"]["cumulative_cost_usd"]
    )


def test_bands_contain_uncertainty_and_collapse_without_it():
    p = make_profile("support_bot")
    a = derive_assumptions(p, BOOK)
    r = simulate(p, a, months=12, seed=1, draws=1000)
    last = r.rows[r.rows.month == 12]
    assert (last.cumulative_cost_usd_p10 < last.cumulative_cost_usd_p90).all()
    # RAG staleness depends on change rate and ingestion lag only: collapse their ranges onto
    # their values and its band collapses onto the central estimate.
    flat = {
        f"{k}.{e}": a.value(k)
        for k in ("change_rate_per_month", "ingestion_lag_days")
        for e in ("low", "high")
    }
    bands = monte_carlo(p, a.with_overrides(flat), 12, 100, seed=1)
    central = r.rows[r.rows.strategy == "rag"].stale_fraction.to_numpy()
    assert np.allclose(bands["rag"]["stale_fraction"], central)
    assert not np.allclose(
        bands["fine_tuning"]["cumulative_cost_usd"][0],
        bands["fine_tuning"]["cumulative_cost_usd"][2],
    )


@pytest.mark.parametrize("name", ["support_bot", "news_desk"])
def test_bands_match_numpy_percentiles_of_the_plain_model(name):
    """The fast path (column-major month loops, one sort, repeated months sorted once) gives
    the bands `np.cumsum` and `np.percentile` give on the same draws, to the last bit."""
    from simulator.model import evaluate, full
    from simulator.simulate import sample_params
    from simulator.strategies import queries_by_month

    p = make_profile(name)
    a = derive_assumptions(p, BOOK)
    draws, months = 400, 24
    bands = monte_carlo(p, a, months, draws, seed=3)
    params = sample_params(p, a, draws, seed=3)
    out = evaluate(params, a.billing, a.decisions(), months, a.ft_billing)
    for s, res in out.items():
        cum = np.cumsum(np.array(full(res["monthly_cost_usd"], draws, months)), axis=1)
        assert np.array_equal(bands[s]["cumulative_cost_usd"], np.percentile(cum, (10, 50, 90), 0))
        stale = np.broadcast_to(res["stale_fraction"], (draws, months))
        assert np.array_equal(bands[s]["stale_fraction"], np.percentile(stale, (10, 50, 90), 0))
    q = queries_by_month(params["queries_per_month"], params["query_growth_per_month"], months)
    g = np.asarray(params["query_growth_per_month"])
    assert np.allclose(q, params["queries_per_month"] * (1 + g) ** np.arange(months), rtol=1e-12)
