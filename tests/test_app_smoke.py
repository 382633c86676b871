"""One AppTest smoke test per page (through st.navigation, as a user reaches it), plus the
shareable link, the feedback control and the background-job registry.

No model runs here: the prototype job is exercised with a fake run function; the real run is
in tests/test_e2e_browser.py.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from core.profile import Profile, field_label
from ui.profile_form import to_text

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TINY = ROOT / "tests" / "fixtures" / "tiny_corpus"


@pytest.fixture
def app(tmp_store, monkeypatch) -> AppTest:
    """The app on its default (Profile) page, with the store in a tmp dir."""
    monkeypatch.setenv("FTRAG_CORPORA_DIRS", str(TINY.parent))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def _plain(text: str) -> str:
    """Rendered messages escape markdown; compare against the plain text."""
    return text.replace("\\", "")


def _goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"ui/pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest) -> AppTest:
    [submit] = [b for b in at.button if b.proto.is_form_submitter and b.label == "Apply profile"]
    return submit.click().run()


def test_profile_page_has_every_field_with_schema_help(app):
    """Help is a caption under each field, not a help icon (icons are tab stops)."""
    from core.profile import field_help

    captions = {c.value for c in app.caption}
    for name in Profile.model_fields:
        w = app.get_by_key(f"w.profile.{name}")  # raises KeyError when a field has no widget
        assert w is not None
        assert not w.help, name
        assert field_help(name) in captions, name
    assert any(b.label == "Apply profile" for b in app.button)


def test_profile_submit_applies_saves_and_writes_the_link(app, tmp_store):
    app.text_input(key="w.profile.name").set_value("Ticket triage")
    app.selectbox(key="w.profile.task").set_value("classification")
    _submit(app)
    assert not app.exception
    assert any("Ticket triage" in s.value for s in app.success)
    assert app.query_params["name"] in ("Ticket triage", ["Ticket triage"])
    assert app.query_params["task"] in ("classification", ["classification"])
    saved = tmp_store.list_profiles()
    assert saved and saved[0]["payload"]["task"] == "classification"


def test_profile_invalid_value_names_the_field_and_keeps_inputs(app):
    app.text_input(key="w.profile.name").set_value("")
    app.text_input(key="w.profile.queries_per_month").set_value("1234")
    _submit(app)
    [err] = app.error
    assert "Name:" in _plain(err.value)
    assert app.text_input(key="w.profile.queries_per_month").value == "1234"


def test_profile_upload_valid_and_invalid(app, tmp_store):
    import yaml

    from ui.state import DEFAULT_PROFILE

    app.text_input(key="w.profile.queries_per_month").set_value("4321")
    _submit(app)
    bad = yaml.safe_dump({**DEFAULT_PROFILE, "task": "poetry", "latency_budget_ms": -1})
    app.get_by_key("w.profile.upload").set_value(("bad.yaml", bad.encode(), "application/x-yaml"))
    app.run()
    assert not app.exception
    [err] = app.error
    msg = _plain(err.value)
    assert "bad.yaml: task" in msg and "bad.yaml: latency_budget_ms" in msg
    assert app.text_input(key="w.profile.queries_per_month").value == "4321"  # inputs kept

    good = {**DEFAULT_PROFILE, "name": "Uploaded", "monthly_budget_usd": 900.0}
    app.get_by_key("w.profile.upload").set_value(
        ("good.json", json.dumps(good).encode(), "application/json")
    )
    app.run()
    assert not app.exception and not app.error
    assert app.text_input(key="w.profile.name").value == "Uploaded"
    assert app.text_input(key="w.profile.monthly_budget_usd").value == "900"
    assert tmp_store.list_profiles()[0]["name"] == "Uploaded"


def test_example_profile_is_one_click_away(app):
    [ex] = [b for b in app.button if b.key == "w.profile.example.internal_wiki_qa"]
    ex.click().run()
    assert not app.exception
    assert "wiki" in app.text_input(key="w.profile.name").value.lower()


def test_shared_link_reproduces_the_profile(tmp_store):
    p = {
        "name": "Linked",
        "task": "extraction",
        "knowledge_update_frequency": "never",
        "latency_budget_ms": "800",
        "traceability": "none",
        "style_consistency": "high",
        "structured_output": "true",
        "knowledge_base_tokens": "1000",
        "labeled_examples": "20000",
        "queries_per_month": "100",
        "deployment": "on_premises",
        "ml_maturity": "high",
    }
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in p.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    assert not at.error
    assert at.text_input(key="w.profile.name").value == "Linked"
    assert at.toggle(key="w.profile.structured_output").value is True
    assert at.text_input(key="w.profile.labeled_examples").value == "20,000"


def test_invalid_link_shows_one_line_per_bad_field(tmp_store):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["name"] = "Broken"
    at.query_params["task"] = "poetry"
    at.query_params["latency_budget_ms"] = "-5"
    at.run()
    assert not at.exception
    [err] = at.error
    msg = _plain(err.value)
    assert "link: task" in msg and "link: latency_budget_ms" in msg
    assert "poetry" in msg
    # the default profile stays current
    assert at.text_input(key="w.profile.name").value != "Broken"


def test_recommendation_page(app, tmp_store):
    at = _goto(app, "recommendation")
    labels = [m.label for m in at.metric]
    assert "Recommended strategy" in labels
    assert len(at.get("plotly_chart")) >= 2
    assert any("Rules that fired" in h.value for h in at.subheader)
    [save] = [b for b in at.button if b.label == "Save feedback"]
    at.selectbox(key="w.rec.outcome").set_value("mixed")
    save.click().run()
    assert not at.exception
    fb = tmp_store.list_feedback()
    assert fb and fb[0]["outcome"] == "mixed"


def test_recommendation_warns_when_rules_and_scorer_disagree(app):
    """Find a profile where they disagree through the core, then expect the page's warning."""
    from itertools import product

    from advisor.recommend import recommend
    from ui.state import DEFAULT_PROFILE

    for task, freq, trace in product(
        ("classification", "knowledge_qa", "extraction"),
        ("never", "monthly", "daily"),
        ("none", "required"),
    ):
        p = {
            **DEFAULT_PROFILE,
            "task": task,
            "knowledge_update_frequency": freq,
            "traceability": trace,
            "style_consistency": "high",
            "structured_output": True,
        }
        if recommend(p).disagreement:
            break
    else:
        pytest.skip("no disagreeing profile in the probe grid")
    for k, v in p.items():
        if v is not None:
            app.session_state[f"w.profile.{k}"] = to_text(k, v)  # numbers are typed text
    _submit(app)
    at = _goto(app, "recommendation")
    assert any("disagree" in w.value for w in at.warning)


def test_cost_page_recomputes_on_override(app):
    at = _goto(app, "cost")
    before = [m.value for m in at.metric]
    assert len(before) == 3  # one break-even per pair
    assert len(at.get("plotly_chart")) >= 1
    [rate] = [s for s in at.slider if s.key and s.key.endswith("change_rate_per_month")]
    rate.set_value(0.5).run()
    assert not at.exception
    assert any("change_rate_per_month" in c.value for c in at.caption)


def test_prototype_page_lists_corpora_and_controls(app):
    at = _goto(app, "prototype")
    names = at.selectbox(key="w.proto.corpus").options
    assert "tiny_corpus" in names
    at.selectbox(key="w.proto.corpus").set_value("tiny_corpus").run()
    assert not at.exception
    assert any(b.label == "Run prototype" for b in at.button)
    assert any("3 documents" in c.value for c in at.caption)


def test_prototype_results_render_from_a_reopened_run(app, tmp_store):
    """The results table, charts and update view render from stored per-answer records."""

    def result(strategy, upd_correct):
        ans = [
            {
                "id": "t1",
                "kind": "original",
                "question": "Q?",
                "gold": "06:15",
                "answer": "06:15",
                "raw": "{}",
                "correct": True,
            },
            {
                "id": "t1",
                "kind": "updated",
                "question": "Q?",
                "gold": "07:00",
                "answer": "07:00" if upd_correct else "06:15",
                "raw": "{}",
                "correct": upd_correct,
            },
        ]
        metrics = {
            "accuracy": 1.0,
            "accuracy_paraphrased": 0.5,
            "accuracy_updated": float(upd_correct),
            "format_compliance": 1.0,
            "source_accuracy": 1.0,
            "latency_ms_p50": 100.0,
            "latency_ms_p95": 150.0,
            "build_seconds": 2.0,
            "prompt_tokens_mean": 80.0,
            "peak_rss_mb": 900.0,
        }
        return {"strategy": strategy, "metrics": metrics, "answers": ans, "meta": {}}

    rid = tmp_store.save_run(
        {"results": [result("rag", True), result("fine_tuning", False)]}, corpus="tiny_corpus"
    )
    at = _goto(app, "history")
    at.selectbox(key="w.history.pick.run").set_value(rid)
    [open_run] = [b for b in at.button if b.label == "Open run"]
    open_run.click().run()
    assert not at.exception
    assert [m.label for m in at.metric][:2] == ["RAG", "Fine-tuning"]
    assert len(at.get("plotly_chart")) >= 2
    assert len(at.dataframe) >= 2  # metrics table + update view


def test_report_page_offers_downloads(app):
    at = _goto(app, "report")
    assert not at.error
    keys = {d.key for d in at.get("download_button")}
    assert {"w.report.dl_md", "w.report.dl_html", "w.report.dl_json"} <= keys
    assert any(b.label == "Prepare PDF" for b in at.button)
    assert any(h.value == "Preview" for h in at.subheader)


def test_history_page_reopens_a_profile(app, tmp_store):
    from ui.state import DEFAULT_PROFILE

    rid = tmp_store.save_profile({**DEFAULT_PROFILE, "name": "From history"})
    at = _goto(app, "history")
    assert len(at.tabs) == 4
    at.selectbox(key="w.history.pick.profile").set_value(rid)
    [open_p] = [b for b in at.button if b.label == "Open profile"]
    open_p.click().run()
    assert not at.exception
    assert at.text_input(key="w.profile.name").value == "From history"


# --- the job registry (no streamlit) ---------------------------------------------------------
def _fake_run(steps=5, delay=0.01, fail=None):
    def run(strategy, progress, cancel):
        for i in range(steps):
            if cancel.is_set():
                from core.errors import JobCancelled

                raise JobCancelled("cancelled")
            progress(f"{strategy}: train", i + 1, steps, {"loss": 1.0 / (i + 1)})
            time.sleep(delay)
        if fail == strategy:
            raise RuntimeError("boom")
        return {"strategy": strategy, "metrics": {"accuracy": 1.0}}

    return run


def _wait(job, timeout=10):
    t0 = time.time()
    while job.snapshot()["status"] in ("queued", "running"):
        assert time.time() - t0 < timeout, "job did not finish"
        time.sleep(0.01)
    return job.snapshot()


def test_jobs_are_isolated_per_session_and_report_progress():
    from ui.jobs import JobRegistry

    reg = JobRegistry()
    saved = []
    a = reg.start("session-a", "c", ("rag", "fine_tuning"), _fake_run(), saved.append)
    b = reg.start("session-b", "c", ("rag",), _fake_run(steps=3))
    sa, sb = _wait(a), _wait(b)
    assert [r["strategy"] for r in sa["results"]] == ["rag", "fine_tuning"]
    assert [r["strategy"] for r in sb["results"]] == ["rag"]
    assert sa["loss"] == pytest.approx(0.2) and sa["status"] == "done"
    assert saved == [a]  # on_done ran before the status turned terminal
    assert reg.jobs("session-a") == [a] and reg.jobs("session-b") == [b]
    assert not reg.cancel("session-b", a.id)  # another session cannot cancel it


def test_jobs_from_two_sessions_never_run_at_once():
    from ui.jobs import JobRegistry

    reg = JobRegistry()
    active, peak = [0], [0]
    lock = threading.Lock()

    def run(strategy, progress, cancel):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return {"strategy": strategy, "metrics": {}}

    jobs = [reg.start(f"s{i}", "c", ("rag", "hybrid"), run) for i in range(3)]
    snaps = [_wait(j) for j in jobs]
    assert peak[0] == 1
    assert all(len(s["results"]) == 2 and s["status"] == "done" for s in snaps)


def test_job_cancel_and_failure_end_in_the_record():
    from core.errors import AdvisorError
    from ui.jobs import JobRegistry

    reg = JobRegistry()
    job = reg.start("s", "c", ("rag",), _fake_run(steps=500, delay=0.01))
    with pytest.raises(AdvisorError):  # one running job per session
        reg.start("s", "c", ("rag",), _fake_run())
    assert reg.cancel("s", job.id)
    assert _wait(job)["status"] == "cancelled"
    bad = reg.start("s", "c", ("rag", "hybrid"), _fake_run(fail="hybrid"))
    snap = _wait(bad)
    assert snap["status"] == "failed" and "boom" in snap["errors"][0]
    assert [r["strategy"] for r in snap["results"]] == ["rag"]
    assert threading.active_count() < 50


def test_history_reopens_a_decision_into_the_report(app, tmp_store):
    from pipeline.decide import build_decision
    from ui.state import DEFAULT_PROFILE

    d = build_decision({**DEFAULT_PROFILE, "name": "Decided"}, months=12, draws=0)
    rid = tmp_store.save_decision(d.to_dict())
    at = _goto(app, "history")
    at.selectbox(key="w.history.pick.decision").set_value(rid)
    [open_d] = [b for b in at.button if b.label == "Open decision"]
    open_d.click().run()
    assert not at.exception
    assert any("reopened from the history" in i.value for i in at.info)
    assert any(d.key == "w.report.dl_json" for d in at.get("download_button"))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("opening_hours", "`opening_hours`"),  # no backslash before the underscore
        ("a`b\nc", "`a'b c`"),  # a backtick or line break cannot end the span early
    ],
)
def test_code_span_shows_user_text_verbatim(text, shown):
    from ui.common import code

    assert code(text) == shown


@pytest.mark.parametrize(
    ("task", "dataset", "shape"),
    [
        ("classification", "support_intents", "14 labels"),
        ("extraction", "delivery_notes", "6 fields"),
    ],
)
def test_prototype_page_opens_on_the_dataset_of_the_profiles_task(app, task, dataset, shape):
    """Issue 16.5: a classification or extraction profile is prototyped on a labelled dataset
    of its own kind (not the ferry handbook), with the task's rows and a run-time estimate;
    a knowledge-QA profile keeps the corpus picker."""
    at = _goto(app, "prototype")
    assert at.selectbox(key="w.proto.corpus")  # the default profile is knowledge QA
    assert "w.proto.train_budget" not in at.session_state  # corpus rows keep their own caps
    at = _goto(at, "profile")
    at.selectbox(key="w.profile.task").set_value(task)
    _submit(at)
    at = _goto(at, "prototype")
    assert at.selectbox(key="w.task.dataset").value == dataset
    assert dataset in at.selectbox(key="w.task.dataset").options
    assert (
        "it_helpdesk" not in at.selectbox(key="w.task.dataset").options or task == "classification"
    )
    caps = " ".join(c.value for c in at.caption)
    assert shape in caps and "test examples per row" in caps and "Expected run time" in caps
    assert "w.proto.quick" not in at.session_state  # the quick sample is for corpora
    budget = at.number_input(key="w.proto.train_budget")
    assert budget.value == 165 and budget.min == 1 and budget.max == 86_400
    at.segmented_control(key="w.proto.strategy").set_value("all").run()
    caps = " ".join(c.value for c in at.caption)
    assert "rows: Closed-book base, RAG, Fine-tuning, Hybrid (FT + RAG)" in caps


def test_every_answer_is_listed_filterable_and_exportable(app, tmp_store):
    """Issue 19.3: every scored answer, with its verdict, filterable, and the CSV matches."""
    from core.prototype_result import METRIC_KEYS
    from ui.prototype_results import answers_table

    def result(strategy, correct):
        answers = [
            {
                "id": f"q{i}",
                "kind": kind,
                "question": f"Question {i}?",
                "answer": "yes" if ok else "no",
                "gold": "yes",
                "raw": '{"answer": "..."}',
                "correct": ok,
                "source": "doc_a",
                "gold_doc": "doc_a",
                "retrieved": ["doc_a", "doc_b"],
                "latency_ms": 12.0,
            }
            for i, (kind, ok) in enumerate(
                zip(("original", "paraphrase", "updated"), correct, strict=True)
            )
        ]
        metrics = dict.fromkeys(METRIC_KEYS, 0.5)
        return {"strategy": strategy, "metrics": metrics, "answers": answers, "meta": {}}

    run = {
        "results": [result("rag", (True, True, True)), result("fine_tuning", (True, False, False))]
    }
    table = answers_table(run["results"])
    assert len(table) == 6 and list(table["verdict"]).count("wrong") == 2
    assert set(table["documents shown"]) == {"doc_a, doc_b"}

    rid = tmp_store.save_run(run, corpus="tiny_corpus")
    at = _goto(app, "history")
    at.selectbox(key="w.history.pick.run").set_value(rid)
    [open_run] = [b for b in at.button if b.label == "Open run"]
    open_run.click().run()
    at = _goto(at, "prototype")  # the reopened run stays in the session
    assert any("6 of 6 answers shown" in c.value for c in at.caption)
    at.multiselect(key="w.proto.ans.verdict").set_value(["wrong"]).run()
    assert not at.exception
    assert any("2 of 6 answers shown" in c.value for c in at.caption)
    [shown] = [d.value for d in at.dataframe if "verdict" in d.value.columns]
    assert list(shown["row"]) == ["Fine-tuning", "Fine-tuning"]
    assert list(shown["kind"]) == ["paraphrase", "updated"]


def test_prototype_page_preselects_the_recommended_strategy(app):
    """The page follows the decision: a profile recommended fine-tuning opens on it."""
    from advisor.recommend import recommend
    from core.profile import load_profile

    p = load_profile(ROOT / "data" / "profiles" / "brand_voice_copywriter.yaml")
    assert recommend(p).strategy == "fine_tuning"
    for k, v in p.model_dump().items():
        if v is not None:
            app.session_state[f"w.profile.{k}"] = to_text(k, v)  # numbers are typed text
    _submit(app)
    at = _goto(app, "prototype")
    assert at.session_state["w.proto.strategy"] == "fine_tuning"


def test_prototype_page_defaults_to_a_quick_run_with_an_estimate_and_suggestions(app):
    """Issue 19.1-2: the default run is the quick sample (every changed fact, 20 questions,
    one paraphrase each) with its expected time stated before the click, and the live box
    offers questions drawn from the corpus."""
    at = _goto(app, "prototype")
    at.selectbox(key="w.proto.corpus").set_value("aurora_handbook").run()
    assert at.toggle(key="w.proto.quick").value is True
    caps = " ".join(c.value for c in at.caption)
    assert "54 questions per row" in caps and "Expected run time: about" in caps
    assert "RAG, extractive span search" in caps  # the quick run's RAG reader
    pills = at.get("button_group")
    assert pills and len(pills[0].proto.options) == 4
    at.toggle(key="w.proto.quick").set_value(False).run()
    caps = " ".join(c.value for c in at.caption)
    assert f"{61 + 122 + 14} questions per row" in caps


def test_history_compares_two_saved_profiles_side_by_side(app, tmp_store):
    """Issue 19.4: two saved profiles, their differing inputs, and each one's recommendation
    and 3-year summary."""
    from core.profile import load_profile

    wiki = load_profile(ROOT / "data" / "profiles" / "internal_wiki_qa.yaml").model_dump(
        mode="json"
    )
    a = tmp_store.save_profile(wiki)
    b = tmp_store.save_profile({**wiki, "name": "Weekly wiki", "queries_per_month": 900_000})
    at = _goto(app, "history")
    assert at.selectbox(key="w.history.cmp.a").value == a
    assert at.selectbox(key="w.history.cmp.b").value == b
    assert any("1 input(s) differ" in m.value for m in at.markdown)
    [diff] = [d for d in at.dataframe if "field" in d.value.columns]
    assert list(diff.value["field"]) == [field_label("queries_per_month")]
    assert [m.label.split(":")[0] for m in at.metric][:2] == ["A", "B"]
    summaries = [d.value for d in at.dataframe if "field" not in d.value.columns]
    assert len([s for s in summaries if s.index.name == "Strategy"]) == 2


def test_review_plan_routes_unsure_answers_and_prices_them(app, tmp_store):
    """Under the answers, a reopened run whose answers carry the reader's confidence shows
    what routing answers under a floor to a person gives and costs; moving the floor or the
    volume recomputes it."""
    from core.prototype_result import METRIC_KEYS
    from ui.services import price_book

    confidences = (0.95, 0.9, 0.6, 0.3)  # right, wrong, right, wrong
    answers = [
        {
            "id": f"q{i}", "kind": "original", "question": f"Question {i}?",
            "answer": "yes" if i % 2 == 0 else "no", "gold": "yes", "raw": "{}",
            "correct": i % 2 == 0, "source": "doc_a", "gold_doc": "doc_a",
            "retrieved": ["doc_a"], "latency_ms": 12.0, "extra": {"confidence": c},
        }
        for i, c in enumerate(confidences)
    ]  # fmt: skip
    metrics = dict.fromkeys(METRIC_KEYS, 0.5)
    run = {"results": [{"strategy": "rag+constrained", "metrics": metrics, "answers": answers}]}
    rid = tmp_store.save_run(run, corpus="tiny_corpus")
    at = _goto(app, "history")
    at.selectbox(key="w.history.pick.run").set_value(rid)
    [open_run] = [b for b in at.button if b.label == "Open run"]
    open_run.click().run()
    at = _goto(at, "prototype")
    assert not at.exception
    rate = price_book().people.review.usd_per_hour
    at.number_input(key="w.proto.review.volume").set_value(10_000)
    at.number_input(key="w.proto.review.minutes").set_value(3.0).run()
    text = " ".join(m.value for m in at.markdown)
    # floor 0.9 (the default): 0.95 and 0.9 go out, 0.6 and 0.3 are checked
    assert "answers 50% itself, 50% right" in text
    assert f"5,000 answers and 250 hours a month, about ${250 * rate:,.0f}" in text
    assert "so 75% of answers go out right" in text
    at.slider(key="w.proto.review.floor").set_value(0.95).run()
    text = " ".join(m.value for m in at.markdown)
    assert "answers 25% itself, 100% right" in text and "so 100% of answers go out" in text
    assert any("Reviewer rate" in c.value for c in at.caption)
    # Carried to the Cost page: its measured share and catch price every strategy's review.
    at.button(key="w.proto.review.use").click().run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "at a 0.95 confidence floor. A person checks 75% of the answers, 3 min each" in text
    assert "sees 100% of the wrong ones" in text
    sim = at.session_state["ftrag.sim"]["overrides"]
    assert sim == {"review_share": 0.75, "review_catch": 1.0, "review_minutes_per_answer": 3.0}
    assert any("answer review" in c.proto.spec for c in at.get("plotly_chart"))
    assert not [s for s in at.slider if s.key and s.key.endswith(".review_share")]
    at = _goto(at, "cost")  # AppTest reruns the page it was given, not the one switched to
    at.button(key="w.cost.review.clear").click().run()
    assert at.session_state["ftrag.sim"]["overrides"] == {}
    assert [s for s in at.slider if s.key and s.key.endswith(".review_share")]
