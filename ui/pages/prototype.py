"""Prototype page: run real RAG / fine-tuning / hybrid prototypes on a corpus, off the UI thread.

The run happens in a ui.jobs worker thread; a fragment polls its record once a second, so the
page stays responsive and the run can be cancelled. Completed runs go to the Store, and the
results shown come from the same dicts the CLI prints.
"""

from __future__ import annotations

import hashlib
import threading

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.errors import AdvisorError
from core.registry import ROWS, STRATEGIES
from ui import jobs, services, state
from ui.common import code, colour, label, md, pct, show_error

# Upload limits: the per-document limit is the corpus loader's; the totals keep one browser
# session from filling the server's memory (a CPU prototype indexes ~1 MB in minutes anyway).
MAX_UPLOAD_FILES = 200
MAX_UPLOAD_TOTAL_BYTES = 20 * 1024 * 1024
UPLOAD_TYPES = ["md", "txt", "jsonl"]
METRIC_BARS = (
    ("accuracy", "Accuracy"),
    ("accuracy_paraphrased", "Paraphrased"),
    ("accuracy_updated", "After update"),
    ("format_compliance", "Format"),
    ("source_accuracy", "Source"),
)


# --- corpus --------------------------------------------------------------------------------
def _pick_corpus():
    """(key, corpus) for the chosen demo corpus or upload, or (None, None) after a message."""
    source = st.radio(
        "Corpus", ("Demo corpus", "Upload documents"), horizontal=True, key="w.proto.source"
    )
    if source == "Demo corpus":
        dirs = services.corpus_dirs()
        if not dirs:
            st.warning("No demo corpora found under data/corpora.")
            return None, None
        shown = st.session_state[state.RESULTS]
        if "w.proto.corpus" not in st.session_state and shown and shown.get("corpus") in dirs:
            st.session_state["w.proto.corpus"] = shown["corpus"]  # match the results shown
        name = st.selectbox("Demo corpus", list(dirs), key="w.proto.corpus")
        path = dirs[name]
        try:
            corpus = services.load_corpus_cached(str(path), services.corpus_mtime(path))
        except AdvisorError as e:
            show_error(e, f"Corpus {name} is invalid")
            return None, None
        return f"dir:{path}", corpus
    files = st.file_uploader(
        "Documents (.md or .txt, one document per file) and optionally qa.jsonl",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="w.proto.upload",
        max_upload_size=10,  # MB per file: qa.jsonl may be 10 MB; documents are checked at 1 MB
        help=f"At most {MAX_UPLOAD_FILES} files and {MAX_UPLOAD_TOTAL_BYTES // 2**20} MB in all. "
        "The file name (without extension) is the document id the answers cite.",
    )
    if not files:
        st.info("Upload documents to build a corpus, or pick a demo corpus.")
        return None, None
    if len(files) > MAX_UPLOAD_FILES:
        st.error(f"{len(files)} files uploaded; the limit is {MAX_UPLOAD_FILES}.")
        return None, None
    total = sum(f.size for f in files)
    if total > MAX_UPLOAD_TOTAL_BYTES:
        st.error(
            f"The upload is {total / 2**20:.1f} MB; the limit is "
            f"{MAX_UPLOAD_TOTAL_BYTES // 2**20} MB in all."
        )
        return None, None
    data = {f.name: f.getvalue() for f in files}
    from prototype.corpus import corpus_from_uploads

    try:
        corpus = corpus_from_uploads(data, name="upload")
    except AdvisorError as e:
        show_error(e, "The uploaded documents cannot be used")
        return None, None
    digest = hashlib.sha256(b"".join(k.encode() + v for k, v in sorted(data.items())))
    return f"upload:{digest.hexdigest()[:16]}", corpus


def _describe(corpus) -> None:
    n_q = len(corpus.qa) if corpus.qa is not None else 0
    st.caption(
        f"{len(corpus.docs)} documents · {n_q} questions · "
        f"{len(corpus.changed_doc_ids())} documents changed by the update"
    )
    if corpus.qa is None:
        st.warning("No qa.jsonl: answers can be asked live, but accuracy cannot be measured.")


# --- the job -------------------------------------------------------------------------------
def _start(corpus, choice: str, retrain: bool) -> bool:
    """Bind everything the worker needs now, in the script thread; the worker gets no st."""
    # A strategy runs every row that measures it (RAG: free text and the extractive reader).
    strategies = ROWS.values() if choice == "all" else STRATEGIES.get(choice).rows
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


# --- results -------------------------------------------------------------------------------
def metrics_table(results: list[dict]) -> pd.DataFrame:
    rows = []
    for r in results:
        row = {
            "strategy": label(r["strategy"]) + (f" ({r['variant']})" if r.get("variant") else "")
        }
        row.update(r["metrics"])
        rows.append(row)
    return pd.DataFrame(rows).set_index("strategy")


def metrics_figure(results: list[dict]) -> go.Figure:
    fig = go.Figure()
    for r in results:
        m = r["metrics"]
        fig.add_bar(
            name=label(r["strategy"]),
            x=[lab for _, lab in METRIC_BARS],
            y=[m.get(k) for k, _ in METRIC_BARS],
            marker_color=colour(r["strategy"]),
            text=[pct(m.get(k)) for k, _ in METRIC_BARS],
            textposition="outside",
        )
    fig.update_layout(
        barmode="group",
        template="plotly_white",
        yaxis_tickformat=".0%",
        yaxis_range=[0, 1.1],
        title="Measured on the corpus questions",
        legend_title_text="",
        margin=dict(t=50, b=30),
    )
    return fig


def cost_figure(results: list[dict]) -> go.Figure:
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Latency per answer (ms)", "Build time (s): index or training"),
    )
    for r in results:
        m, name = r["metrics"], label(r["strategy"])
        hue = colour(r["strategy"])
        fig.add_bar(
            x=[name],
            y=[m.get("latency_ms_p95")],
            name=name,
            marker_color=hue,
            showlegend=False,
            row=1,
            col=1,
            hovertext=f"p50 {m.get('latency_ms_p50')} ms",
        )
        fig.add_bar(
            x=[name],
            y=[m.get("build_seconds")],
            name=name,
            marker_color=hue,
            showlegend=False,
            row=1,
            col=2,
        )
    fig.update_layout(template="plotly_white", margin=dict(t=50, b=30), height=320)
    fig.update_yaxes(title_text="p95 ms", row=1, col=1)
    return fig


def update_view(results: list[dict]) -> pd.DataFrame | None:
    """RAG and fine-tuned answers side by side on the questions the update changed."""
    by = {r["strategy"]: r for r in results}
    if "rag" not in by and "fine_tuning" not in by:
        return None
    rows: dict[str, dict] = {}
    for s in ("rag", "fine_tuning", "hybrid"):
        recs = by.get(s, {}).get("answers") or []
        old = {a["id"]: a["gold"] for a in recs if a.get("kind") == "original"}
        for a in recs:
            if a.get("kind") != "updated":
                continue
            row = rows.setdefault(
                a["id"],
                {
                    "question": a["question"],
                    "old answer": old.get(a["id"], ""),
                    "new answer": a["gold"],
                },
            )
            row[f"{label(s)} answer"] = a.get("answer") or a.get("raw", "")
            row[f"{label(s)} correct"] = bool(a["correct"])
    return pd.DataFrame(rows.values()) if rows else None


def _show_results() -> None:
    res = st.session_state[state.RESULTS]
    if not res or not res.get("results"):
        return
    results = res["results"]
    where = f" on {md(res.get('corpus', ''))}" if res.get("corpus") else ""
    saved = f" (saved as run {res['run_id']})" if res.get("run_id") else ""
    st.subheader(f"Results{where}{saved}")
    cols = st.columns(len(results))
    for col, r in zip(cols, results, strict=True):
        m = r["metrics"]
        col.metric(
            label(r["strategy"]), pct(m.get("accuracy")), help="Accuracy on the original questions"
        )
        col.caption(
            f"paraphrased {pct(m.get('accuracy_paraphrased'))} · after update "
            f"{pct(m.get('accuracy_updated'))}"
        )
    percent = {k: st.column_config.NumberColumn(lab, format="percent") for k, lab in METRIC_BARS}
    st.dataframe(metrics_table(results), key="w.proto.table", column_config=percent)
    st.plotly_chart(metrics_figure(results), key="fig.proto.metrics")
    st.plotly_chart(cost_figure(results), key="fig.proto.cost")
    st.subheader("Apply the update: who is fresh?")
    view = update_view(results)
    if view is None:
        st.caption(
            "Run RAG and fine-tuning on a corpus with an update/ folder to compare "
            "answers on the changed questions."
        )
    else:
        st.caption(
            "After the documents change, RAG re-indexes only the changed documents; "
            "the fine-tuned model is not retrained, so it keeps the old facts."
        )
        st.dataframe(view, hide_index=True, key="w.proto.update")


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
    if a["compliant"] and not a["answer"]:
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
    corpus_key, corpus = _pick_corpus()
    if corpus is not None:
        _describe(corpus)
    c1, c2 = st.columns([2, 1])
    choice = c1.segmented_control(
        "Strategy",
        (*STRATEGIES.values(), "all"),
        default="rag",
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
    _show_results()
    st.divider()
    _ask_box(corpus_key, corpus)


if __name__ == "__main__":
    render()
