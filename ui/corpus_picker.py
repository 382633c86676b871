"""The Prototype page's corpus picker: a demo corpus or uploaded documents, validated."""

from __future__ import annotations

import hashlib

import streamlit as st

from core.errors import AdvisorError
from ui import services, state
from ui.common import show_error

# Upload limits: the per-document limit is the corpus loader's; the totals keep one browser
# session from filling the server's memory (a CPU prototype indexes ~1 MB in minutes anyway).
MAX_UPLOAD_FILES = 200
MAX_UPLOAD_TOTAL_BYTES = 20 * 1024 * 1024
UPLOAD_TYPES = ["md", "txt", "jsonl"]


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


def describe(corpus) -> None:
    n_q = len(corpus.qa) if corpus.qa is not None else 0
    st.caption(
        f"{len(corpus.docs)} documents · {n_q} questions · "
        f"{len(corpus.changed_doc_ids())} documents changed by the update"
    )
    if corpus.qa is None:
        st.warning("No qa.jsonl: answers can be asked live, but accuracy cannot be measured.")
