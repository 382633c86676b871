"""Run-time estimates (ui.eta), the quick-run sample, and one progress bar over a whole job."""

import threading
import time

import pytest

from prototype.corpus import load_corpus
from ui import eta, jobs


def _run(row, n_questions, eval_seconds, build):
    return {
        "results": [
            {
                "strategy": row,
                "metrics": {"build_seconds": build},
                "meta": {"n_questions": n_questions, "eval_seconds": eval_seconds},
            }
        ]
    }


def test_learn_takes_medians_per_row_and_plan_falls_back_to_priors():
    runs = [
        _run("rag", {"original": 10, "paraphrase": 10}, 20.0, 2.0),  # 1.0 s / question
        _run("rag", {"original": 10, "paraphrase": 30}, 120.0, 4.0),  # 3.0 s / question
        _run("rag", {"original": 20}, 40.0, 3.0),  # 2.0 s / question
        {"results": [{"strategy": "hybrid", "meta": {}}]},  # unusable: no counts
    ]
    learnt = eta.learn(runs)
    assert set(learnt) == {"rag"}
    assert learnt["rag"].per_question == pytest.approx(2.0)
    assert learnt["rag"].build == pytest.approx(3.0)
    plan = eta.plan(("rag", "fine_tuning"), 50, learnt)
    assert plan[0].seconds == pytest.approx(3.0 + 2.0 * 50) and plan[0].runs == 3
    q, b = eta.PRIORS["fine_tuning"]
    assert plan[1].seconds == pytest.approx(b + q * 50) and plan[1].runs == 0
    assert "partly learnt" in eta.describe(plan)
    assert "learnt from 3+" in eta.describe(plan[:1])
    assert "built-in" in eta.describe(plan[1:])


def test_one_progress_figure_never_restarts_and_weighs_rows_by_expected_seconds():
    plan = [eta.RowPlan("fine_tuning", 10, 1.0, 90.0), eta.RowPlan("rag", 10, 1.0, 0.0)]
    seen = []
    # training steps, then answers of row 1; then row 2's answers
    for done in range(0, 11):
        cur = eta.row_fraction(plan[0], 0, done, 10)
        seen.append(eta.overall(plan, 0, cur, 10.0, True)[0])
    for answered in range(1, 11):
        cur = eta.row_fraction(plan[0], answered, 3, 3)
        seen.append(eta.overall(plan, 0, cur, 10.0, True)[0])
    for answered in range(0, 11):
        cur = eta.row_fraction(plan[1], answered, 0, 0)
        seen.append(eta.overall(plan, 1, cur, 10.0, True)[0])
    assert seen == sorted(seen), "the bar went backwards"
    total = eta.LOAD_SECONDS + 100 + 10
    # after training, the first row holds 100 of 116 expected seconds
    assert seen[10] == pytest.approx((eta.LOAD_SECONDS + 90) / total)
    assert seen[-1] == pytest.approx(1.0)


def test_eta_scales_the_remaining_plan_by_this_runs_speed():
    plan = [eta.RowPlan("rag", 100, 1.0, 0.0)]
    half = eta.row_fraction(plan[0], 50, 0, 0)
    frac, left = eta.overall(plan, 0, half, elapsed=2 * (eta.LOAD_SECONDS + 50), active=True)
    assert frac == pytest.approx((eta.LOAD_SECONDS + 50) / (eta.LOAD_SECONDS + 100))
    assert left == pytest.approx(2 * 50)  # running at half the planned speed
    assert eta.overall(plan, 1, 0.0, 10.0, False) == (1.0, None)


def test_quick_sample_keeps_every_changed_fact_and_whole_documents():
    corpus = load_corpus("data/corpora/aurora_handbook")
    s = corpus.sample(20, 1, seed=0)
    assert len(s.qa) == 20 and all(len(q.paraphrases) == 1 for q in s.qa)
    assert {q.id for q in s.changed_qa()} == {q.id for q in corpus.changed_qa()}
    assert s.docs == corpus.docs and s.update_docs == corpus.update_docs
    assert [q.id for q in corpus.sample(20, 1, seed=0).qa] == [q.id for q in s.qa]
    assert corpus.sample(len(corpus.qa), 9) is corpus


def test_job_streams_answers_and_reports_the_plans_fraction():
    release = threading.Event()

    def run(strategy, progress, cancel):
        progress(f"{strategy}: original", 0, 4, {})
        for i in range(4):
            progress(f"{strategy}: original", i + 1, 4, {"answers": [{"id": f"q{i}"}]})
            if i == 1 and strategy == "rag":
                release.wait(5)
        return {"strategy": strategy, "metrics": {}}

    reg = jobs.JobRegistry()
    plan = [eta.RowPlan("rag", 4, 1.0, 0.0), eta.RowPlan("base", 4, 1.0, 0.0)]
    job = reg.start("s", "c", ("rag", "base"), run, plan=plan)
    for _ in range(200):
        snap = job.snapshot()
        if len(snap["streamed"]) == 2:
            break
        time.sleep(0.01)
    assert [a["id"] for a in snap["streamed"]] == ["q0", "q1"]
    assert all(a["strategy"] == "rag" for a in snap["streamed"])
    assert 0 < jobs.progress_fraction(snap) < 0.6
    release.set()
    for _ in range(500):
        if job.snapshot()["status"] == "done":
            break
        time.sleep(0.01)
    snap = job.snapshot()
    assert len(snap["streamed"]) == 8 and snap["streamed"][-1]["strategy"] == "base"
    assert jobs.progress_fraction(snap) == 1.0 and snap["eta_s"] is None
