"""The app's side of behaviour tasks (issue 16.5): a user's own task dataset uploaded as a .zip
of its folder, and the task results view (its own metric names, every example, CSV)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import AdvisorError
from prototype.task_data import task_from_uploads
from ui.task_picker import _zip_files

TINY = Path(__file__).parent / "fixtures" / "tiny_intents"


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _folder(prefix: str) -> dict[str, bytes]:
    return {
        f"{prefix}{p.relative_to(TINY).as_posix()}": p.read_bytes()
        for p in sorted(TINY.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("prefix", ["", "my_task/"])
def test_a_zipped_task_folder_loads_with_or_without_its_top_folder(prefix):
    files = _folder(prefix) | {"__MACOSX/._task.yaml": b"junk", f"{prefix}.DS_Store": b"x"}
    got = _zip_files("task.zip", _zip(files))
    assert set(got) == {
        "task.yaml",
        "train.jsonl",
        "test.jsonl",
        *(f"update/{n}" for n in ("task.yaml", "train.jsonl", "test.jsonl")),
    }
    ds = task_from_uploads(got, "upload")
    assert ds.kind == "classification" and ds.update is not None and ds.new_labels


def test_a_zip_with_a_stray_file_or_a_corrupt_zip_is_refused_by_name():
    got = _zip_files("t.zip", _zip(_folder("") | {"../../etc/passwd": b"x"}))
    with pytest.raises(AdvisorError, match="unexpected file"):
        task_from_uploads(got, "upload")
    with pytest.raises(AdvisorError, match="t.zip"):
        _zip_files("t.zip", b"PK\x03\x04 not really a zip")


def _results_script():

    from ui import task_results

    def row(strategy, acc, toks, answers):
        m = {
            "accuracy": acc,
            "macro_f1": acc - 0.05,
            "format_compliance": 1.0,
            "accuracy_updated": acc / 2,
            "accuracy_new_labels": 0.0 if strategy == "fine_tuning" else 0.8,
            "latency_ms_p50": 100.0,
            "latency_ms_p95": 150.0,
            "build_seconds": 3.0,
            "prompt_tokens_mean": toks,
            "peak_rss_mb": 900,
        }
        return {"strategy": strategy, "task": "classification", "metrics": m, "answers": answers}

    ans = [
        {
            "id": "a",
            "kind": "original",
            "text": "refund pls",
            "raw": "refund_request",
            "gold": "refund_request",
            "correct": True,
            "compliant": True,
            "latency_ms": 90.0,
        },
        {
            "id": "b",
            "kind": "updated",
            "text": "gift card?",
            "raw": "promo_code",
            "gold": "gift_card",
            "correct": False,
            "compliant": True,
            "latency_ms": None,
        },
    ]
    ft = row("fine_tuning", 0.95, 40.0, ans[:1])
    train = {"seconds": 165.0, "steps": 48, "epochs": 4, "stop_reason": "max_seconds"}
    ft["meta"] = {"adapter": "a1", "train": {**train, "train_exact": 0.38, "reused": False}}
    res = {
        "results": [row("rag", 0.8, 600.0, ans), ft],
        "corpus": "tiny_intents",
        "run_id": 7,
    }
    assert task_results.is_task_run(res["results"])
    task_results.show(res)


def test_task_results_show_the_tasks_metrics_and_every_example():
    at = AppTest.from_function(_results_script, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    assert any("Classification results on tiny\\_intents" in h.value for h in at.subheader)
    assert [m.label for m in at.metric] == ["RAG", "Fine-tuning"]
    assert [m.value for m in at.metric] == ["80%", "95%"]
    table = at.dataframe[0].value
    assert {"Macro-F1", "New labels", "Prompt tok"} <= set(table.columns)
    training = at.dataframe[1].value  # how the one LoRA run ended, and a budget warning
    assert list(training["row"]) == ["Fine-tuning"]
    assert list(training["stopped by"]) == ["time budget"]
    assert len(at.warning) == 1 and "48 steps" in at.warning[0].value
    examples = at.dataframe[2].value
    assert len(examples) == 3 and set(examples["right"]) == {"yes", "no"}
    at.multiselect(key="w.task.f.right").set_value(["no"]).run()
    assert len(at.dataframe[2].value) == 1
    assert at.get("plotly_chart")


def test_a_budget_note_per_adapter_that_the_cap_stopped_before_it_fit():
    """Rows sharing an adapter (fine-tuning and hybrid+route) get one note; a run that fit
    its training set, or stopped by the budget after fitting most of it, gets none; a
    retrained adapter is a training of its own."""
    from ui.common import label
    from ui.task_results import training_frame, underfit_notes

    def res(strategy, adapter, stop, exact, retrain=None):
        t = {"seconds": 1.0, "steps": 9, "epochs": 2, "stop_reason": stop, "train_exact": exact}
        meta = {"adapter": adapter, "train": t}
        if retrain:
            meta["retrain"] = {**t, "adapter": retrain, "steps": 7}
        return {"strategy": strategy, "meta": meta}

    capped = [
        res("fine_tuning", "a", "max_seconds", 0.4, retrain="b"),
        res("hybrid+route", "a", "max_seconds", 0.4),
        res("hybrid", "h", "max_seconds", 0.95),  # stopped by the cap, but nearly fit
        res("rag", None, None, None) | {"meta": {}},  # no training
    ]
    notes = underfit_notes(capped)
    assert len(notes) == 2
    assert notes[0].startswith(f"Fine-tuning, {label('hybrid+route')}:") and "9 steps" in notes[0]
    assert notes[1].startswith("Fine-tuning (retrained):") and "7 steps" in notes[1]
    frame = training_frame(capped)
    assert len(frame) == 4 and list(frame["stopped by"]) == ["time budget"] * 4
    assert underfit_notes([res("fine_tuning", "a", "train_exact", 0.99)]) == []


@pytest.mark.parametrize(
    "choice,task,rows",
    [
        ("hybrid", "classification", ("hybrid", "hybrid+route")),
        ("hybrid", "extraction", ("hybrid", "hybrid+route")),
        ("rag", "classification", ("rag",)),  # no extractive reader on a behaviour task
        ("fine_tuning", "extraction", ("fine_tuning",)),
        ("hybrid", "knowledge_qa", ("hybrid",)),  # QA: the primary row only
        ("all", "classification", ("base", "rag", "fine_tuning", "hybrid", "hybrid+route")),
    ],
)
def test_a_strategy_runs_its_rows_that_the_task_has(choice, task, rows):
    from core.registry import TASKS
    from ui.pages.prototype import _rows_for

    assert _rows_for(choice, False, TASKS.get(task)) == rows


def test_the_examples_table_says_which_part_of_a_routed_row_answered():
    from ui.task_results import answers_frame

    def rec(route=None):
        a = {"kind": "updated", "text": "t", "gold": "x", "raw": "x", "correct": True}
        return {**a, "extra": {"route": route}} if route else a

    routed = [{"strategy": "hybrid+route", "answers": [rec("retrieval"), rec("fine_tuning")]}]
    assert list(answers_frame(routed)["answered by"]) == ["retrieval", "fine_tuning"]
    plain = [{"strategy": "rag", "answers": [rec()]}]
    assert "answered by" not in answers_frame(plain)  # no empty column for unrouted rows
