"""The evaluation protocol (`bench/eval_corpora.py`) and the app's every-answer table: splits
are read and checked, the old and strict scorings come from the same answers, pooling is a
micro-average, and a test corpus's answers are never printed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import eval_corpora as ev  # noqa: E402
from core.errors import ConfigError  # noqa: E402
from core.prototype_result import PrototypeResult  # noqa: E402
from prototype.evaluate import Answer, Question, metrics_from_records, score_record  # noqa: E402

FERRY = "When does the first ferry leave?"


def record(qid, kind, raw, gold="06:30", doc="timetable", question=FERRY, latency=None):
    q = Question(qid, kind, question, gold, (), doc)
    return score_record(q, Answer(raw, 10, (latency or 0) / 1000), latency is not None)


def result(strategy, corpus, answers) -> dict:
    metrics = metrics_from_records(answers, 1.0)
    return PrototypeResult(strategy, metrics, answers, meta={"corpus": corpus}).to_dict()


def _json(answer, source="timetable"):
    return json.dumps({"answer": answer, "source": source})


def test_records_carry_every_contract_field_and_strict_verdicts():
    r = record("q1", "original", _json("06:30 or 07:15"), latency=12.0)
    contract = "id kind question raw answer source gold gold_doc correct exact compliant"
    for key in [*contract.split(), "source_correct", "retrieved", "latency_ms"]:
        assert key in r, key
    assert (r["correct"], r["exact"], r["content_correct"]) == (False, False, False)
    assert r["f1"] == pytest.approx(0.5)
    upd = record("q1", "updated", _json("06:30", source="fares"))
    assert (upd["correct"], upd["content_correct"], upd["source_correct"]) == (False, True, False)


def test_lenient_metrics_rescore_the_same_answers_the_old_way():
    answers = [
        record("q1", "original", _json("06:30 or 07:15")),  # old: right, strict: wrong
        record("q2", "original", _json("06:30")),
        record("q1", "updated", "06:30"),  # no source: old right, strict wrong
    ]
    old = ev.lenient_metrics(answers)
    assert old == {"old_accuracy": 1.0, "old_accuracy_updated": 1.0}
    m = metrics_from_records(answers, None)
    assert (m["accuracy"], m["accuracy_updated"], m["exact_match"]) == (0.5, 0.0, 0.5)


def test_pooled_metrics_are_micro_averages_over_corpora():
    a = result("rag", "a", [record("q1", "original", _json("06:30"), latency=10.0)])
    b = result(
        "rag",
        "b",
        [
            record("q1", "original", _json("07:00"), latency=30.0),
            record("q2", "original", _json("07:00"), latency=50.0),
        ],
    )
    m = ev.pooled_metrics([a, b])
    assert m["accuracy"] == round(1 / 3, 4)  # 1 of 3 questions, not the mean of 1.0 and 0.0
    assert m["latency_ms_p50"] == 30.0 and m["corpora"] == ["a", "b"]
    assert m["n_questions"] == {"original": 3, "paraphrase": 0, "updated": 0}


def _fake_tree(tmp_path, monkeypatch, splits_text: str):
    corpora = tmp_path / "corpora"
    for name in ("tune_a", "test_b"):
        (corpora / name).mkdir(parents=True)
    (corpora / "SPLITS.yaml").write_text(splits_text)
    monkeypatch.setattr(ev, "CORPORA", corpora)
    monkeypatch.setattr(ev, "SPLITS", corpora / "SPLITS.yaml")
    monkeypatch.setattr(ev, "RUNS", tmp_path / "runs")
    return corpora


@pytest.mark.parametrize(
    "text,error",
    [
        ("tuning: [tune_a]\n", "`test` must be a non-empty list"),
        ("tuning: [tune_a]\ntest: [nowhere]\n", "'nowhere', not a folder"),
        ("tuning: [tune_a, test_b]\ntest: [test_b]\n", "in both tuning and test"),
        ("- tune_a\n", "expected a mapping"),
    ],
)
def test_bad_splits_file_names_the_problem(tmp_path, monkeypatch, text, error):
    _fake_tree(tmp_path, monkeypatch, text)
    with pytest.raises(ConfigError, match=error):
        ev.load_splits(ev.SPLITS)


def test_pool_only_prints_test_figures_but_never_test_answers(tmp_path, monkeypatch, capsys):
    _fake_tree(tmp_path, monkeypatch, "tuning: [tune_a]\ntest:\n  - name: test_b\n")
    runs = tmp_path / "runs"
    runs.mkdir()
    secret = "SECRET-TEST-QUESTION about the ferry?"
    for name, split, question in (("tune_a", "tuning", FERRY), ("test_b", "test", secret)):
        ans = [record("q1", "original", _json("07:00"), question=question, latency=5.0)]
        run = {"corpus": name, "split": split, "results": [result("rag", name, ans)]}
        (runs / f"eval_{name}.json").write_text(json.dumps(run))
    ev.main(["--pool-only", "--misses", "5"])
    out = capsys.readouterr().out
    assert "tune_a (tuning)" in out and "test_b (test)" in out and "pooled test" in out
    assert FERRY in out  # a tuning miss is listed
    assert "SECRET" not in out  # a test corpus's answers are not
    pooled = json.loads((runs / "eval_pooled.json").read_text())
    assert pooled["rows"]["test"]["rag"]["accuracy"] == 0.0
    assert pooled["splits"] == {"tuning": ["tune_a"], "test": ["test_b"]}


def test_answers_table_shows_exact_match_source_and_gold_document():
    from ui.prototype_results import answers_table

    answers = [
        record("q1", "original", _json("06:30")),
        record("q2", "original", _json("The ferry leaves at 06:30.")),
        record("q1", "updated", "06:30"),
    ]
    t = answers_table([result("rag", "a", answers)])
    assert list(t["verdict"]) == ["right", "right", "right value, source not shown"]
    assert list(t["exact match"]) == ["yes", "no", "yes"]
    assert list(t["source right"]) == ["yes", "yes", "no"]
    assert set(t["gold document"]) == {"timetable"}
    # An older run without exact match or F1 leaves the cells empty.
    old = [{k: v for k, v in answers[0].items() if k not in ("exact", "f1")}]
    t_old = answers_table([{"strategy": "rag", "answers": old}])
    assert t_old["exact match"].isna().all() and t_old["token F1"].isna().all()
    # The hybrid's records carry the reader's pick the adapter was shown; other rows none.
    hyb = dict(answers[0], extra={"passages": [], "reader_pick": ["06:15", "timetable"]})
    t_hyb = answers_table([result("hybrid", "a", [hyb]), result("rag", "a", answers[:1])])
    assert list(t_hyb["reader's pick"].fillna("-")) == ["06:15", "-"]
    # Where the pick replaced the adapter's answer, the adapter's own text stays visible.
    replaced = dict(hyb, extra={**hyb["extra"], "adapter_raw": _json("07:00")})
    t_rep = answers_table([result("hybrid", "a", [hyb, replaced])])
    assert list(t_rep["adapter's own text"].fillna("-")) == ["-", _json("07:00")]
    # The extractive reader's answers say whether an unsure pick was read twice; rows
    # without a confidence (free text) leave the cell empty.
    sure = dict(answers[0], extra={"passages": [], "confidence": 0.95})
    twice = dict(answers[0], extra={"passages": [], "confidence": 0.4, "second_look": True})
    t_look = answers_table(
        [result("rag+constrained", "a", [sure, twice]), result("rag", "a", answers[:1])]
    )
    assert list(t_look["read twice"].fillna("-")) == ["no", "yes", "-"]


def test_confidence_column_bands_and_figure():
    """The extractive reader's confidence is a column, and its bands (cut at extract's UNSURE
    and CONFIDENT) count right and answered per row; rows without it have no bands."""
    from prototype.extract import CONFIDENT, UNSURE
    from ui.common import label
    from ui.prototype_results import (
        answers_table,
        confidence_bands,
        confidence_figure,
        coverage_curves,
        coverage_figure,
    )

    def rec(c, said):
        return dict(record("q1", "original", _json(said)), extra={"passages": [], "confidence": c})

    ans = [
        rec(CONFIDENT, "06:30"),
        rec(0.95, "07:00"),
        rec(UNSURE - 0.1, "07:00"),
        rec(0.6, "06:30"),
    ]
    runs = [
        result("rag+constrained", "a", ans),
        result("rag", "a", [record("q1", "original", "x")]),
    ]
    t = answers_table(runs)
    assert list(t["confidence"].fillna(-1)) == [CONFIDENT, 0.95, UNSURE - 0.1, 0.6, -1]
    bands = confidence_bands(runs)
    assert list(bands) == [label("rag+constrained")]  # the plain rag row carries none
    (counts,) = bands.values()
    assert counts == {"unsure": (0, 1), "in between": (1, 1), "confident": (1, 2)}
    fig = confidence_figure(bands)
    assert list(fig.data[0].y) == [0.0, 1.0, 0.5]
    assert list(fig.data[0].text) == ["0 of 1 right", "1 of 1 right", "1 of 2 right"]
    # accepting answers from the most confident down: (floor, share accepted, accuracy)
    (curve,) = coverage_curves(runs).values()
    assert curve == [
        (0.95, 0.25, 0.0),
        (CONFIDENT, 0.5, 0.5),
        (0.6, 0.75, 2 / 3),
        (UNSURE - 0.1, 1.0, 0.5),
    ]
    tied = [rec(0.7, "06:30"), rec(0.7, "07:00")]  # one floor for tied confidences
    assert coverage_curves([result("rag+constrained", "a", tied)]) == {
        label("rag+constrained"): [(0.7, 1.0, 0.5)]
    }
    assert list(coverage_figure({"x": curve}).data[0].x) == [0.25, 0.5, 0.75, 1.0]


def test_review_split_plan_and_curves():
    """Routing answers under a confidence floor to a person: shares, accuracies and the
    wrong answers caught, then people's time and cost at a volume; rows without a
    confidence are left out, and a floor of 0 sends nobody to a person."""
    from core.review import review_split
    from ui.common import label
    from ui.prototype_results import (
        REVIEW_FLOORS,
        plan_settings,
        review_curves,
        review_figure,
        review_plan,
    )

    def rec(c, said):
        return dict(record("q1", "original", _json(said)), extra={"passages": [], "confidence": c})

    # right at 0.95 and 0.6; wrong at 0.9 and 0.3 (gold 06:30)
    ans = [rec(0.95, "06:30"), rec(0.9, "07:00"), rec(0.6, "06:30"), rec(0.3, "07:00")]
    assert review_split(ans, 0.8) == {
        "answers": 4,
        "auto_share": 0.5,
        "auto_accuracy": 0.5,
        "review_share": 0.5,
        "wrong_caught": 0.5,  # the 0.3 wrong one is checked, the 0.9 one goes out
        "accuracy_with_review": 0.75,
    }
    none = review_split(ans, 0.0)
    assert (none["review_share"], none["wrong_caught"], none["accuracy_with_review"]) == (
        0.0, 0.0, 0.5,
    )  # fmt: skip
    every = review_split(ans, 1.0)
    assert (every["auto_accuracy"], every["accuracy_with_review"]) == (None, 1.0)
    assert review_split([record("q1", "original", "x")], 0.5) is None

    runs = [
        result("rag+constrained", "a", ans),
        result("rag", "a", [record("q1", "original", "x")]),
    ]
    plan = review_plan(runs, 0.8, 10_000, 3.0, 30.0)
    assert list(plan["row"]) == [label("rag+constrained")]
    (row,) = plan.to_dict("records")
    assert row["answers checked / month"] == 5_000
    assert row["person-hours / month"] == pytest.approx(250.0)  # 5,000 x 3 min
    assert row["review USD / month"] == pytest.approx(7_500.0)
    (curve,) = review_curves(runs, 10_000, 3.0, 30.0).values()
    assert [f for f, _, _ in curve] == list(REVIEW_FLOORS)
    assert curve[0] == (0.0, 0.0, 0.5) and curve[-1] == (1.0, 15_000.0, 1.0)
    usd = [u for _, u, _ in curve]
    assert usd == sorted(usd)  # a higher floor never checks fewer answers
    assert list(review_figure({"x": curve}).data[0].y) == [a for _, _, a in curve]
    # As the simulator's review assumptions: rounded as shown; no wrong answer to catch -> the
    # catch random picking gives (the share).
    assert plan_settings(row, 0.8, 3.0) == {
        "row": label("rag+constrained"), "floor": 0.8, "review_share": 0.5,
        "review_catch": 0.5, "review_minutes_per_answer": 3.0,
    }  # fmt: skip
    odd = {**row, "checked by a person": 2 / 3, "wrong answers caught": None}
    assert plan_settings(odd, 0.8, 3.0)["review_catch"] == 0.6667


def test_task_dev_split_is_stratified_disjoint_and_leaves_test_alone():
    """`tune_task_settings.py --dev` scores candidates on a part of train.jsonl only."""
    from collections import Counter

    from bench.tune_task_settings import dev_split
    from prototype.task_data import load_task

    ds = load_task(ROOT / "data" / "tasks" / "support_intents")
    dev = dev_split(ds)
    assert dev.update is None and dev.name == "support_intents-dev"
    train_ids, dev_ids = {e.id for e in dev.train}, {e.id for e in dev.test}
    assert not train_ids & dev_ids
    assert train_ids | dev_ids == {e.id for e in ds.train}  # drawn from train.jsonl only
    per_label = Counter(e.label for e in dev.test)
    assert set(per_label) == set(ds.schema.labels)
    full = Counter(e.label for e in ds.train)
    assert all(abs(per_label[x] - 0.2 * full[x]) <= 1 for x in full)
    assert [e.id for e in dev_split(ds).test] == [e.id for e in dev.test]  # seeded


def test_learning_curve_subset_keeps_n_per_label_and_the_test_set():
    """`tune_task_settings.py --per-label N`: N training examples per label, test untouched."""
    from collections import Counter

    from bench.tune_task_settings import per_label_subset
    from prototype.task_data import load_task

    ds = load_task(ROOT / "data" / "tasks" / "support_intents")
    sub = per_label_subset(ds, 5, seed=1)
    assert sub.name == "support_intents-5per-s1"
    assert Counter(e.label for e in sub.train) == {x: 5 for x in ds.schema.labels}
    assert {e.id for e in sub.train} <= {e.id for e in ds.train}
    assert sub.test == ds.test and sub.update == ds.update
    assert per_label_subset(ds, 5, seed=1).train == sub.train  # seeded
    assert per_label_subset(ds, 5, seed=0).train != sub.train
    assert len(per_label_subset(ds, 10_000).train) == len(ds.train)  # capped at what there is
