"""The Prototype page's corpus picker: a demo corpus, or the user's own files (PDF, DOCX, HTML,
Markdown, text, CSV, .zip) turned into documents, with the golden set they own."""

from __future__ import annotations

import hashlib

import streamlit as st

from core.errors import AdvisorError
from ui import golden_set, services, state, update_editor
from ui.common import md, show_error

# Upload limits: the per-document limit is the corpus loader's; the totals keep one browser
# session from filling the server's memory (a CPU prototype indexes ~1 MB in minutes anyway).
MAX_UPLOAD_FILES = 200
MAX_UPLOAD_TOTAL_BYTES = 20 * 1024 * 1024
# Everything prototype.ingest reads, plus qa.jsonl (a golden set written elsewhere).
UPLOAD_TYPES = ["pdf", "docx", "html", "htm", "md", "markdown", "txt", "csv", "tsv", "zip", "jsonl"]


def pick_corpus():
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
        "Your documents: PDF, Word (.docx), HTML, Markdown, text, CSV or a .zip of them; "
        "optionally a qa.jsonl",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="w.proto.upload",
        max_upload_size=10,  # MB per file; ingestion has its own per-file and archive limits
        help=f"At most {MAX_UPLOAD_FILES} files and {MAX_UPLOAD_TOTAL_BYTES // 2**20} MB in all. "
        "One document per file; its name (without extension) becomes the id answers cite.",
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
    qa_upload = data.pop("qa.jsonl", None)
    if not data:
        st.info("A qa.jsonl alone is no corpus: add the documents it cites.")
        return None, None
    digest = hashlib.sha256(b"".join(k.encode() + v for k, v in sorted(data.items())))
    key = f"upload:{digest.hexdigest()[:16]}"
    result = services.ingest_uploads(key, data)
    if result.problems:  # one line per file; the others are imported all the same
        st.warning(
            f"**{len(result.problems)} of {len(data)} file(s) could not be imported**\n\n"
            + "\n".join(f"- {md(p)}" for p in result.problems),
            icon=":material/warning:",
        )
    if not result.docs:
        st.error("None of the uploaded files gave a document.")
        return None, None
    st.caption(
        f"Imported {len(result.docs)} document(s): "
        + ", ".join(f"{d.id} ({d.format})" for d in result.docs[:12])
        + (" ..." if len(result.docs) > 12 else "")
    )
    qa = qa_upload if qa_upload is not None else golden_set.editor(key, result.documents())
    files_for_corpus = {f"{d.id}.md": d.text.encode("utf-8") for d in result.docs}
    if qa:
        files_for_corpus["qa.jsonl"] = qa
    from prototype.corpus import corpus_from_uploads

    try:
        corpus = corpus_from_uploads(files_for_corpus, name="upload")
    except AdvisorError as e:
        show_error(e, "The uploaded documents cannot be used")
        return None, None
    if corpus.qa:
        key, corpus = update_editor.apply_update(key, corpus)
        _save_form(corpus)
    return key, corpus


def _save_form(corpus) -> None:
    """Save the uploaded corpus with its golden set (and update) under a name the user picks,
    so it reopens later from the corpus list. The name becomes a slug: never a path."""
    from prototype.corpus_write import save_corpus
    from prototype.ingest import slugify

    with st.form("save_corpus", border=False, enter_to_submit=True):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        name = c1.text_input("Save this corpus and its golden set as", key="w.save.name")
        submitted = c2.form_submit_button("Save corpus", icon=":material/save:")
    if not submitted:
        return
    slug = slugify(name) if any(c.isalnum() for c in name or "") else ""
    if not slug:
        st.error("Save as: give the corpus a name (letters or digits).")
        return
    if slug in services.corpus_dirs():
        st.error(f"Save as: a corpus named {slug} exists already; pick another name.")
        return
    try:
        out = save_corpus(corpus, services.saved_corpora_root() / slug)
    except (AdvisorError, OSError) as e:
        st.error(f"Save as: could not write the corpus ({md(e)}).")
        return
    st.success(f"Saved as {slug} ({md(out)}): pick it under Demo corpus to reopen it.")


def describe(corpus) -> None:
    n_q = len(corpus.qa) if corpus.qa is not None else 0
    st.caption(
        f"{len(corpus.docs)} documents · {n_q} questions · "
        f"{len(corpus.changed_doc_ids())} documents changed by the update"
    )
    if corpus.qa is None:
        st.warning("No qa.jsonl: answers can be asked live, but accuracy cannot be measured.")
