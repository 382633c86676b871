"""Prototype page: run real RAG / fine-tuning / hybrid prototypes on a corpus, off the UI thread.

The run happens in a ui.jobs worker thread; a fragment polls its record once a second, so the
page stays responsive and the run can be cancelled. Completed runs go to the Store, and the
results shown come from the same dicts the CLI prints.
"""

from __future__ import annotations

import threading

import streamlit as st

from core.errors import AdvisorError
from core.registry import ROWS, STRATEGIES, task_for_profile
from prototype.relevance import NOT_IN_DOCUMENTS_BELOW
from ui import jobs, services, state
from ui.common import code, label, md, show_error
from ui.corpus_picker import describe, pick_corpus
from ui.prototype_results import show_results


# --- the job -------------------------------------------------------------------------------
def _start(corpus, choice: str, retrain: bool) -> bool:
    """Bind everything the worker needs now, in the script thread; the worker gets no st."""
    # A strategy runs its primary row (the first of `StrategySpec.rows`, the one calibration
    # prefers too); "all" runs every registered row, the extractive reader and base included.
    strategies = ROWS.values() if choice == "all" else STRATEGIES.get(choice).rows[:1]
    store = services.store()
    corpus_label = corpus.name

    def run(strategy, progress, cancel: threading.Event) -> dict:
        from prototype.runner import run_strategy

        return run_strategy(
            strategy, corpus, progress=progress, cancel=cancel, retrain=retrain
        ).to_dict()

    def on_done(job: jobs.Job) -> None:
        run_id = store.save_run({"results": list(job.results)}, corpus=corpus_label)
        with job.lock:
            job.saved_run_id = run_id

    try:
        jobs.REGISTRY.start(
            st.session_state[state.SESSION_ID], corpus_label, strategies, run, on_done
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
        parts.append(f"ETA {snap['eta_s']:.0f} s")
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


# --- ask -----------------------------------------------------------------------------------
def _ask_box(corpus_key: str | None, corpus) -> None:
    st.subheader("Ask the corpus (RAG, live)")
    if corpus is None:
        st.caption("Pick a corpus first.")
        return
    with st.form("ask_form", enter_to_submit=True, border=False):
        q = st.text_input(
            "Question",
            key="w.proto.question",
            max_chars=500,
            placeholder="e.g. What time does the bakery open?",
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
            key="w.proto.reader",
        )
        after = st.toggle(
            "Answer from the documents after the update",
            key="w.proto.after_update",
            disabled=not corpus.update_docs,
        )
        asked = st.form_submit_button("Ask", icon=":material/send:")
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
    elif a["compliant"]:
        st.success(f"**{md(a['answer'])}**  \nsource: {code(a['source'])}")
    else:
        st.warning("The model did not follow the answer format; its raw text:")
        st.code(a["raw"])
    with st.expander(f"What the model was shown ({a['seconds'] * 1000:.0f} ms)"):
        for p in a["passages"]:
            st.markdown(f"**{md(p['doc'])}** (score {p['score']:.2f})")
            st.text(p["text"])


def render() -> None:
    st.title("Prototype on real models")
    st.caption(
        "SmolLM2-135M as generator, MiniLM + FAISS for retrieval, LoRA for fine-tuning; "
        "all on this machine, nothing fetched."
    )
    task = state.current_profile().task
    spec = task_for_profile(task)
    if task not in spec.profile_tasks:
        st.info(
            f"Your use case's task is {md(task.replace('_', ' '))}; the prototypes built so far "
            f"measure {spec.label.lower()}, so these rows compare what each strategy *knows*, not "
            "how well it learns your task's labels or format.",
            icon=":material/info:",
        )
    corpus_key, corpus = pick_corpus()
    if corpus is not None:
        describe(corpus)
    c1, c2 = st.columns([2, 1])
    recommended = services.recommend_view(state.current_profile())["strategy"]
    choice = c1.segmented_control(
        "Strategy",
        (*STRATEGIES.values(), "all"),
        default=recommended,  # the page follows the decision; any other is one click away
        help=f"Pre-selected: the recommendation for this profile ({label(recommended)}).",
        format_func=lambda s: (
            ("All rows (" + ", ".join(ROWS.values()) + ")") if s == "all" else label(s)
        ),
        key="w.proto.strategy",
    )
    retrain = c2.toggle(
        "Also retrain FT after the update",
        key="w.proto.retrain",
        help="Adds the retrained accuracy beside the stale one (slower).",
    )
    sid = st.session_state[state.SESSION_ID]
    running = any(j.status in jobs.ACTIVE for j in jobs.REGISTRY.jobs(sid))
    clicked = st.button(
        "Run prototype",
        type="primary",
        icon=":material/play_arrow:",
        disabled=corpus is None or running or not choice,
        key="w.proto.run",
    )
    if clicked and _start(corpus, choice, retrain):
        st.rerun()  # redraw with the button disabled and the polling panel on
    st.fragment(_job_panel, run_every=1 if running else None)(running)
    show_results()
    st.divider()
    _ask_box(corpus_key, corpus)


if __name__ == "__main__":
    render()
