"""`ftrag prototype --task DIR`: exit codes and messages as a real subprocess, and the
output shape with fake models in-process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import FTRAG, ROOT
from fakes import HashingEmbedder

FIX = Path(__file__).parent / "fixtures"


def ftrag(*args):
    return subprocess.run([*FTRAG, *args], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize(
    "make,fragment",
    [
        (lambda d: None, "task.yaml"),  # an empty directory
        (lambda d: (d / "task.yaml").write_text("kind: poetry\nname: x\n"), "task.yaml"),
    ],
)
def test_bad_task_dir_exits_2_with_the_loaders_message(tmp_path, make, fragment):
    make(tmp_path)
    r = ftrag("prototype", "--strategy", "base", "--task", str(tmp_path))
    assert r.returncode == 2
    assert fragment in r.stderr and r.stderr.startswith("error: ")
    assert "Traceback" not in r.stderr + r.stdout


def test_missing_task_dir_and_both_sources(tmp_path):
    r = ftrag("prototype", "--strategy", "base", "--task", str(tmp_path / "nope"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = ftrag("prototype", "--strategy", "base", "--task", str(FIX / "tiny_intents"),
              "--corpus", str(FIX / "tiny_corpus"))  # fmt: skip
    assert r.returncode == 2 and "exactly one of --corpus" in r.stderr
    r = ftrag("prototype", "--strategy", "rag+constrained", "--task", str(FIX / "tiny_intents"))
    assert r.returncode == 2 and "--strategy: must be one of base, rag, fine_tuning, hybrid" in (
        r.stderr
    )


@pytest.mark.parametrize(
    "extra,fragment",
    [
        (["--train-budget", "0"], "--train-budget: seconds from 1 to 86,400, got 0"),
        (["--train-budget", "-5"], "got -5"),
        (["--train-budget", "nan"], "got nan"),
        (["--train-budget", "1e9"], "got 1e+09"),
        (["--train-budget", "soon"], "--train-budget"),  # typer: "Invalid value for ..."
    ],
)
def test_bad_train_budget_is_refused_before_any_model_loads(extra, fragment):
    r = ftrag("prototype", "--strategy", "fine_tuning", "--task", str(FIX / "tiny_intents"), *extra)
    assert r.returncode == 2 and fragment in r.stderr, r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_train_budget_is_for_task_datasets_only():
    r = ftrag("prototype", "--strategy", "rag", "--corpus", str(FIX / "tiny_corpus"),
              "--train-budget", "60")  # fmt: skip
    assert r.returncode == 2 and "--train-budget: applies to task datasets (--task)" in r.stderr


class LabelGenerator:
    name = "fake"

    def generate(self, chats, max_new_tokens=48):
        from prototype.generate import Generation

        return [Generation("track_order", 20, 1, 0.001) for _ in chats]


def test_task_run_prints_its_own_metric_names(monkeypatch, capsys, tmp_path):
    import prototype.runner as runner
    from pipeline import cli
    from prototype.rows import SharedModels

    fake = SharedModels("cpu", generator=LabelGenerator(), embedder=HashingEmbedder())
    monkeypatch.setattr(runner, "shared_models", lambda dev: fake)
    out = tmp_path / "run.json"
    args = ["--strategy", "rag", "--task", str(FIX / "tiny_intents"), "--device", "cpu"]
    from typer.testing import CliRunner

    r = CliRunner().invoke(cli.app, ["prototype", *args, "-o", str(out)])
    assert r.exit_code == 0, r.output
    head = r.stdout.splitlines()[0].split()
    assert head[:4] == ["strategy", "acc", "macro_f1", "format_compliance"]
    assert "acc_new_labels" in head and "source_acc" not in head
    payload = json.loads(out.read_text())
    assert payload["task"] == "classification" and payload["strategy"] == "rag"
    # 4 of 16 test messages are track_order
    assert payload["metrics"]["accuracy"] == 0.25
    r = CliRunner().invoke(cli.app, ["prototype", *args, "--format", "json"])
    assert json.loads(r.stdout)["metrics"]["accuracy"] == 0.25


def test_the_table_notes_a_lora_run_the_cap_cut_short():
    """`ftrag prototype` prints, under its table, each adapter the time cap stopped before it
    fit its training set (as the app warns), once for the rows that share it."""
    from pipeline.cli import _metrics_table

    def res(strategy, stop, exact, **meta):
        t = {"steps": 50, "stop_reason": stop, "train_exact": exact}
        return {
            "strategy": strategy,
            "task": "extraction",
            "metrics": {},
            "meta": {"train": t, **meta},
        }

    capped = [
        res("fine_tuning", "max_seconds", 0.48, adapter="a"),
        res("hybrid+route", "max_seconds", 0.48, adapter="a"),
        res("hybrid", "train_exact", 0.99, adapter="h"),
    ]
    notes = [x for x in _metrics_table(capped).splitlines() if "time cap" in x]
    assert notes == [
        "fine_tuning, hybrid+route: training stopped by the time cap after 50 steps, train "
        "exact 0.48; a larger --train-budget is likely to raise its scores"
    ]
