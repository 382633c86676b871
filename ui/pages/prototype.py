"""Prototype page: run real RAG / fine-tuning / hybrid prototypes on a corpus, off the UI thread.

The run happens in a ui.jobs worker thread; a fragment polls its record once a second, so the
page stays responsive and the run can be cancelled. Completed runs go to the Store, and the
results shown come from the same dicts the CLI prints.
"""

from __future__ import annotations

import threading

import streamlit as st

from core.errors import AdvisorError
from core.registry import STRATEGIES, TaskSpec, task_for_profile
from prototype.extract import UNSURE
from prototype.relevance import NOT_IN_DOCUMENTS_BELOW
from ui import eta, jobs, services, state, task_picker, task_results
from ui.common import code, label, md, show_error
from ui.corpus_picker import describe, pick_corpus
from ui.prototype_results import show_results

# The quick run: every changed fact (the freshness experiment needs them all) topped up to
# 20 questions, one paraphrase each, and RAG read by the extractive span reader, the faster
# and more accurate one. On aurora_handbook: 20 + 20 + 14 = 54 questions per row.
QUICK_QUESTIONS, QUICK_PARAPHRASES = 20, 1
QUICK_RAG_ROW = "rag+constrained"


def _rows_for(choice: str, quick: bool, spec: TaskSpec) -> tuple[str, ...]:
    """A strategy runs its primary row (the first of `StrategySpec.rows`, the one calibration
    prefers too), or in a quick run RAG's faster reader; "all" runs every row of the task. On
    a behaviour task a strategy runs each of its rows the task has (the hybrid: the generated
    `hybrid` and `hybrid+route`, which reuses fine-tuning's adapter)."""
    if choice == "all":
        return spec.rows
    rows = STRATEGIES.get(choice).rows
    if spec.data == "dataset":
        return tuple(r for r in rows if r in spec.rows)
    return (QUICK_RAG_ROW,) if quick and QUICK_RAG_ROW in rows else rows[:1]


def _questions(corpus) -> int:
    """Questions one row asks: originals, paraphrases and the changed facts (on a task
    dataset: the test examples, before and after the update)."""
    if hasattr(corpus, "test"):
        return len(corpus.test) + (len(corpus.update.test) if corpus.update else 0)
    qa = corpus.qa or ()
    return len(qa) + sum(len(q.paraphrases) for q in qa) + len(corpus.changed_qa())


def _plan(corpus, rows: tuple[str, ...]) -> list[eta.RowPlan]:
    try:
        learnt = services.learnt_timings()
    except AdvisorError:
        learnt = {}
    return eta.plan(rows, _questions(corpus), learnt)


# --- the job -------------------------------------------------------------------------------
def _start(
    corpus, strategies: tuple[str, ...], retrain: bool, plan, budget: float | None = None
) -> bool:
    """Bind everything the worker needs now, in the script thread; the worker gets no st.
    `budget`: seconds per LoRA run on a task dataset (None: the rows' own cap)."""
    store = services.store()
    corpus_label = corpus.name

    def run(strategy, progress, cancel: threading.Event) -> dict:
        from prototype.runner import run_strategy, run_task_strategy

        if hasattr(corpus, "test"):  # a task dataset
            return run_task_strategy(
                strategy, corpus, None, progress, cancel, retrain, train_budget_s=budget
            ).to_dict()
        return run_strategy(
            strategy, corpus, progress=progress, cancel=cancel, retrain=retrain
        ).to_dict()

    def on_done(job: jobs.Job) -> None:
        run_id = store.save_run({"results": list(job.results)}, corpus=corpus_label)
        with job.lock:
            job.saved_run_id = run_id

    try:
        jobs.REGISTRY.start(
            st.session_state[state.SESSION_ID], corpus_label, strategies, run, on_done, plan
        )
    except AdvisorError as e:
        show_error(e)
        return False
    return True


def _status_line(snap: dict) -> str:
    parts = [f"**{snap['status']}**"]
    if snap["strategy"]:
        parts.append(f"{label(snap['strategy'])}")
    if snap["stage"]:
        steps = f" {snap['done']}/{snap['total']}" if snap["total"] else ""
        parts.append(f"{md(snap['stage'])}{steps}")
    if snap["loss"] is not None:
        parts.append(f"loss {snap['loss']:.3f}")
    if snap["eta_s"] is not None:
        parts.append(f"about {snap['eta_s']:.0f} s left")
    parts.append(f"elapsed {snap['elapsed_s']:.0f} s")
    return " · ".join(parts)


def _job_panel(polling: bool) -> None:
    """The polled panel. Runs every second only while this session has a job running; when
    the job ends it hands its results to the page and reruns the whole page once."""
    sid = st.session_state[state.SESSION_ID]
    job = jobs.REGISTRY.latest(sid)
    if job is None:
        return
    snap = job.snapshot()
    st.progress(
        jobs.progress_fraction(snap),
        text=f"Job {snap['id']}: {', '.join(label(s) for s in snap['strategies'])}",
    )
    st.markdown(_status_line(snap))
    _streamed(snap["streamed"])
    if snap["status"] in jobs.ACTIVE:
        if st.button("Cancel", key="w.proto.cancel", icon=":material/cancel:"):
            jobs.REGISTRY.cancel(sid, job.id)
            st.toast("Cancelling after the current step...")
        return
    if snap["status"] == "cancelled":
        st.warning("The job was cancelled.")
    elif snap["status"] == "failed":
        st.error("The job failed:\n\n" + "\n".join(f"- {md(e)}" for e in snap["errors"][:1]))
        if len(snap["errors"]) > 1:
            with st.expander("Details"):
                st.code("\n".join(snap["errors"][1:]))
    if polling:
        if snap["results"]:
            st.session_state[state.RESULTS] = {
                "results": snap["results"],
                "corpus": snap["corpus"],
                "job_id": snap["id"],
                "run_id": snap["saved_run_id"],
            }
        st.rerun(scope="app")  # stop polling; show the tables and charts outside the fragment


def _streamed(answers: list[dict]) -> None:
    """The answers so far, newest first, while the job runs (the full table follows)."""
    if not answers:
        return
    right = sum(bool(a.get("correct")) for a in answers)
    st.caption(f"{len(answers)} answers so far, {right} right (newest first)")
    st.dataframe(
        [
            {
                "row": label(a["strategy"]),
                "kind": a.get("kind"),
                "question": a.get("question"),
                "answer": a.get("answer") if a.get("answer") is not None else a.get("raw"),
                "right": "yes" if a.get("correct") else "no",
            }
            for a in reversed(answers[-50:])
        ],
        hide_index=True,
        height=220,
    )


# --- ask -----------------------------------------------------------------------------------
_ASK_NOW = "proto.ask_now"


def _use_suggestion() -> None:
    """A suggested question clicked: it fills the box and is asked at once."""
    picked = st.session_state.get("w.proto.suggest")
    if picked:
        st.session_state["w.proto.question"] = picked
        st.session_state[_ASK_NOW] = True
        st.session_state["w.proto.suggest"] = None


def _ask_box(corpus_key: str | None, corpus) -> None:
    st.subheader("Ask the corpus (RAG, live)")
    if corpus is None:
        st.caption("Pick a corpus first.")
        return
    suggestions = services.suggested_questions(corpus_key or corpus.name, corpus)
    if suggestions:
        st.pills(
            "Try a question drawn from these documents",
            suggestions,
            key="w.proto.suggest",
            on_change=_use_suggestion,
        )
    with st.form("ask_form", enter_to_submit=True, border=False):
        q = st.text_input(
            "Question",
            key="w.proto.question",
            max_chars=500,
            placeholder=f"e.g. {suggestions[0]}" if suggestions else "Ask about the documents",
        )
        reader = st.radio(
            "Reader",
            ("rag+constrained", "rag"),
            format_func=lambda s: (
                "Extractive span search (faster, cites by construction)"
                if s == "rag+constrained"
                else "Free text (the model writes the JSON itself)"
            ),
            horizontal=True,
            help=services.reading_adapter_note(),
            key="w.proto.reader",
        )
        after = st.toggle(
            "Answer from the documents after the update",
            key="w.proto.after_update",
            disabled=not corpus.update_docs,
        )
        asked = st.form_submit_button("Ask", icon=":material/send:")
    asked = asked or st.session_state.pop(_ASK_NOW, False)
    if not (asked and q.strip()):
        return
    try:
        with st.spinner("Retrieving and reading..."):
            a = services.ask(
                corpus_key, corpus, q.strip(), updated=after, constrained=reader != "rag"
            )
    except AdvisorError as e:
        show_error(e, "The question could not be answered")
        return
    if a["not_in_documents"]:
        st.info(
            "Not in the documents: no passage is close enough to this question (MiniLM cosine "
            f"below {NOT_IN_DOCUMENTS_BELOW:.2f}), so nothing is made up. The closest passages "
            "are below."
        )
    elif a["compliant"] and not a["answer"]:
        st.info("Nothing in the retrieved passages answers this question.")
    elif a["compliant"] and a["confidence"] is not None and a["confidence"] < UNSURE:
        st.warning(
            f"**{md(a['answer'])}**  \nsource: {code(a['source'])}  \nThe reader is unsure "
            f"(confidence {a['confidence']:.2f}"
            + (", after reading more of the documents a second time" if a["second_look"] else "")
            + "): out of fold on the tuning corpora, under half of such picks were right. "
            "Check the passages below."
        )
    elif a["compliant"]:
        sure = "" if a["confidence"] is None else f"  \nconfidence {a['confidence']:.2f}"
        if a["second_look"]:
            sure += " (read twice: the first pick was unsure)"
        st.success(f"**{md(a['answer'])}**  \nsource: {code(a['source'])}{sure}")
    else:
        st.warning("The model did not follow the answer format; its raw text:")
        st.code(a["raw"])
    with st.expander(f"What the model was shown ({a['seconds'] * 1000:.0f} ms)"):
        for p in a["passages"]:
            st.markdown(f"**{md(p['doc'])}** (score {p['score']:.2f})")
            st.text(p["text"])


def _pick_data(spec: TaskSpec, task: str):
    """(key, corpus or task dataset) for the profile's task: a behaviour task (classification,
    extraction) runs on a labelled dataset, everything else on a knowledge corpus."""
    if spec.data == "dataset":
        st.caption(
            f"Your use case's task is {spec.label.lower()}: every row is measured on how well it "
            "learns the labels or the schema, the ground where fine-tuning should shine."
        )
        key, data = task_picker.pick_task(spec.value)
        if data is not None:
            task_picker.describe(data)
        return key, data
    if task not in spec.profile_tasks:
        st.info(
            f"Your use case's task is {md(task.replace('_', ' '))}; the prototypes built so far "
            f"measure {spec.label.lower()}, so these rows compare what each strategy *knows*, not "
            "how well it learns your task's labels or format.",
            icon=":material/info:",
        )
    key, data = pick_corpus()
    if data is not None:
        describe(data)
    return key, data


def render() -> None:
    st.title("Prototype on real models")
    st.caption(
        "SmolLM2-135M as generator, MiniLM + FAISS for retrieval, LoRA for fine-tuning; "
        "all on this machine, nothing fetched."
    )
    task = state.current_profile().task
    spec = task_for_profile(task)
    key, data = _pick_data(spec, task)
    is_corpus = spec.data == "corpus"
    c1, c2 = st.columns([2, 1])
    recommended = services.recommend_view(state.current_profile())["strategy"]
    choice = c1.segmented_control(
        "Strategy",
        (*STRATEGIES.values(), "all"),
        default=recommended,  # the page follows the decision; any other is one click away
        help=f"Pre-selected: the recommendation for this profile ({label(recommended)}).",
        # "all": the caption under the control names each row in plain words
        format_func=lambda s: f"All {len(spec.rows)} rows" if s == "all" else label(s),
        key="w.proto.strategy",
    )
    quick = is_corpus and c2.toggle(
        "Quick run (sample)",
        value=True,
        key="w.proto.quick",
        help=f"Every changed fact plus random questions up to {QUICK_QUESTIONS}, "
        f"{QUICK_PARAPHRASES} paraphrase each; RAG uses the extractive reader. Off: every "
        "question of the corpus with the selected strategy's primary row.",
    )
    retrain = c2.toggle(
        "Also retrain FT after the update",
        key="w.proto.retrain",
        help="Adds the retrained figure beside the stale one (slower).",
    )
    budget = None
    if not is_corpus:
        from prototype.task_rows import TASK_LORA, TRAIN_BUDGET_RANGE

        default = TASK_LORA.max_seconds  # every task row's own cap
        budget = c2.number_input(
            "Training budget per LoRA run (s)",
            min_value=TRAIN_BUDGET_RANGE[0],
            max_value=TRAIN_BUDGET_RANGE[1],
            value=default,
            step=15.0,
            format="%.0f",
            key="w.proto.train_budget",
            help=f"Each fine-tuning run stops here. {default:.0f} s suits a 2-core CPU; on a GPU, "
            "or with time to spare, more epochs fit (an adapter trained under one budget is "
            "never reused under another).",
        )
    run_data = data.sample(QUICK_QUESTIONS, QUICK_PARAPHRASES) if data and quick else data
    rows = _rows_for(choice, quick, spec) if choice else ()
    plan = _plan(run_data, rows) if run_data is not None and rows else []
    if plan:
        unit = "questions" if is_corpus else "test examples"
        st.caption(
            f"{_questions(run_data)} {unit} per row, rows: "
            f"{', '.join(label(r) for r in rows)}. Expected run time: {eta.describe(plan)}."
        )
    sid = st.session_state[state.SESSION_ID]
    running = any(j.status in jobs.ACTIVE for j in jobs.REGISTRY.jobs(sid))
    clicked = st.button(
        "Run prototype",
        type="primary",
        icon=":material/play_arrow:",
        disabled=data is None or running or not choice,
        key="w.proto.run",
    )
    if clicked and _start(run_data, rows, retrain, plan, budget):
        st.rerun()  # redraw with the button disabled and the polling panel on
    st.fragment(_job_panel, run_every=1 if running else None)(running)
    res = st.session_state[state.RESULTS]
    if res and task_results.is_task_run(res.get("results") or []):
        task_results.show(res)
    else:
        show_results()
    if is_corpus:
        st.divider()
        _ask_box(key, data)


if __name__ == "__main__":
    render()
