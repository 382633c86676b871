"""The golden set a user owns: question, expected answer and source document, written by hand,
imported from CSV, or accepted from suggestions drawn from their documents.

A generated suggestion stays marked `generated` and counts only once the user ticks
`accepted`; a row the user typed or imported counts as written. The accepted rows become the
corpus's qa.jsonl (downloadable), so every QA metric, and fine-tuning, runs on their data. An
accepted suggestion keeps `generated: true` there: it is then either trained on or scored,
never both (`Corpus.trainable_qa` / `scored_qa`).
"""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import streamlit as st

from ui.common import md

COLUMNS = ("question", "answer", "doc", "generated", "accepted")
MAX_CSV_BYTES = 2 * 2**20
MAX_ROWS = 2_000  # a golden set, not a dataset: the CPU prototype scores ~1 question/s


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=bool if c in COLUMNS[3:] else str) for c in COLUMNS})


def _row(question: str, answer: str, doc: str, generated: bool) -> dict:
    """A table row; a written one counts at once, a generated one once accepted."""
    return {
        "question": question,
        "answer": answer,
        "doc": doc,
        "generated": generated,
        "accepted": not generated,
    }


def read_csv_rows(data: bytes, doc_ids: set[str]) -> tuple[list[dict], list[str]]:
    """CSV with `question`, `answer`, `doc` columns -> written rows, plus one problem line per
    bad row (naming the line); a bad row never stops the others."""
    if len(data) > MAX_CSV_BYTES:
        return [], [f"golden set CSV: {len(data):,} bytes; the limit is {MAX_CSV_BYTES:,}"]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [f"golden set CSV: not UTF-8 text (byte {e.start})"]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("question", "answer", "doc") if c not in (reader.fieldnames or [])]
    if missing:
        return [], [f"golden set CSV: missing column(s) {', '.join(missing)} in the header"]
    rows, problems = [], []
    for n, r in enumerate(reader, start=2):
        q, a, d = ((r.get(k) or "").strip() for k in ("question", "answer", "doc"))
        if not (q and a and d):
            problems.append(f"golden set CSV line {n}: question, answer and doc are all required")
        elif d not in doc_ids:
            problems.append(f"golden set CSV line {n}: doc `{d}` is not one of the documents")
        else:
            rows.append(
                {"question": q, "answer": a, "doc": d, "generated": False, "accepted": True}
            )
    return rows, problems


def accepted_rows(table: pd.DataFrame, doc_ids: set[str]) -> list[dict]:
    """The rows that count: written ones, and generated ones the user accepted; each complete
    and citing a known document."""
    out = []
    for r in table.to_dict("records"):
        q, a, d = (str(r.get(k) or "").strip() for k in ("question", "answer", "doc"))
        counts = bool(r.get("accepted")) or not bool(r.get("generated"))
        if counts and q and a and d in doc_ids:
            out.append({"question": q, "answer": a, "doc": d, "generated": bool(r["generated"])})
    return out


def qa_jsonl(rows: list[dict]) -> bytes:
    """The corpus's qa.jsonl: ids q001..., no paraphrases (the user may add them later)."""
    lines = [
        json.dumps(
            {
                "id": f"q{i:03d}",
                "question": r["question"],
                "answer": r["answer"],
                "doc": r["doc"],
                "paraphrases": [],
                **({"generated": True} if r["generated"] else {}),
            },
            ensure_ascii=False,
        )
        for i, r in enumerate(rows, 1)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def _append(key: str, rows: list[dict]) -> int:
    """Add rows whose question is not in the table yet; the number added."""
    table = st.session_state[key]
    seen = {str(q).casefold() for q in table["question"]}
    new = [r for r in rows if r["question"].casefold() not in seen]
    if new:
        st.session_state[key] = pd.concat([table, pd.DataFrame(new)], ignore_index=True)[:MAX_ROWS]
    return len(new)


def editor(corpus_key: str, docs: dict) -> bytes | None:
    """Render the golden-set editor for the documents `docs` (id -> Document); the qa.jsonl
    bytes of the accepted rows, or None while there are none."""
    key = f"ftrag.golden.{corpus_key}"
    st.session_state.setdefault(key, _empty())
    doc_ids = set(docs)
    st.subheader("Golden set: the questions your prototype is scored on")
    st.caption(
        "Write question, expected answer and source document; import a CSV with those three "
        "columns; or start from suggestions drawn from your documents. A suggestion counts "
        "only once you tick accepted."
    )
    c1, c2 = st.columns(2)
    if c1.button("Accept every suggestion", key="w.golden.accept_all"):
        table = st.session_state[key].copy()
        table.loc[table["generated"].astype(bool), "accepted"] = True
        st.session_state[key] = table  # untick the ones to drop in the table below
    if c1.button("Suggest questions", icon=":material/auto_awesome:", key="w.golden.suggest"):
        from prototype.suggest_qa import suggest_qa

        found = [
            {
                **{k: s[k] for k in ("question", "answer", "doc")},
                "generated": True,
                "accepted": False,
            }
            for s in suggest_qa(docs, n=20)
        ]
        st.toast(f"{_append(key, found)} suggestions added; tick the ones to keep.")
    upload = c2.file_uploader(
        "Import CSV (question, answer, doc)", type=["csv"], key=f"w.golden.csv.{corpus_key}"
    )
    if upload is not None:
        rows, problems = read_csv_rows(upload.getvalue(), doc_ids)
        for p in problems:
            st.warning(md(p), icon=":material/warning:")
        if rows and st.session_state.get(f"{key}.csv") != upload.file_id:
            st.session_state[f"{key}.csv"] = upload.file_id  # import each upload once
            _append(key, rows)
    edited = st.data_editor(
        st.session_state[key],
        num_rows="dynamic",
        hide_index=True,
        key=f"w.golden.table.{corpus_key}",
        column_config={
            "question": st.column_config.TextColumn("Question", required=True, width="large"),
            "answer": st.column_config.TextColumn("Expected answer", required=True),
            "doc": st.column_config.SelectboxColumn(
                "Source document", options=sorted(doc_ids), required=True
            ),
            "generated": st.column_config.CheckboxColumn(
                "Generated", disabled=True, help="Drawn from the documents, not written by you."
            ),
            "accepted": st.column_config.CheckboxColumn("Accepted", default=True),
        },
    )
    rows = accepted_rows(edited, doc_ids)
    n_gen = sum(r["generated"] for r in rows)
    st.caption(
        f"{len(rows)} question(s) count ({n_gen} accepted from suggestions); "
        f"{len(edited) - len(rows)} do not yet. Accepted suggestions echo their sentence, so "
        "each is used either to train fine-tuning or to score, never both (about half each)."
    )
    if not rows:
        return None
    data = qa_jsonl(rows)
    st.download_button(
        "Download qa.jsonl",
        data,
        file_name="qa.jsonl",
        mime="application/jsonl",
        icon=":material/download:",
        key=f"w.golden.dl.{corpus_key}",
    )
    return data
