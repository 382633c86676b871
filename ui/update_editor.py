"""Freshness on the user's own documents: upload new versions of some documents, say which
golden questions changed and their new answers; the prototype then measures RAG re-indexed
against the fine-tune that was not retrained, as on the demo corpus's update/ folder."""

from __future__ import annotations

import dataclasses
import hashlib

import streamlit as st

from ui import services
from ui.common import md

# The same formats as the first upload (qa.jsonl excluded: the new answers are given here).
MAX_EDIT_CHARS = 200_000  # one handbook page is ~3,000; this stops a paste of a whole book
UPDATE_TYPES = ["pdf", "docx", "html", "htm", "md", "markdown", "txt", "csv", "tsv", "zip"]


def _edit_in_place(corpus_key: str, corpus) -> dict:
    """Edit one document's text in the page: {doc id: Document} when the text differs."""
    from prototype.corpus import Document

    doc_id = st.selectbox(
        "Or edit a document here",
        [None, *sorted(corpus.docs)],
        format_func=lambda d: "(none)" if d is None else d,
        key=f"w.update.edit_doc.{corpus_key}",
    )
    if doc_id is None:
        return {}
    old = corpus.docs[doc_id].text
    text = st.text_area(
        f"New text of {doc_id}",
        value=old,
        height=260,
        max_chars=MAX_EDIT_CHARS,
        key=f"w.update.edit_text.{corpus_key}.{doc_id}",
    )
    if not text.strip():
        st.warning(f"{md(doc_id)}: an empty document is not an update; the edit is ignored.")
        return {}
    return {} if text == old else {doc_id: Document(doc_id, text, None)}


def apply_update(corpus_key: str, corpus):
    """Render the update controls under an uploaded corpus with a golden set; (key, corpus)
    with the update attached and the key naming it (the live index after the update is cached
    by key), or unchanged while there is none."""
    from prototype.corpus import UpdateItem

    with st.expander(
        "Apply an update: new versions of your documents, or edit one here",
        icon=":material/update:",
    ):
        st.caption(
            "A file with the same name as a document replaces it; a new name adds one. Then "
            "pick the questions whose answer the change alters and give the new answers."
        )
        files = st.file_uploader(
            "New versions of documents",
            type=UPDATE_TYPES,
            accept_multiple_files=True,
            key=f"w.update.files.{corpus_key}",
        )
        new_docs, digest = {}, hashlib.sha256()
        if files:
            data = {f.name: f.getvalue() for f in files}
            for k, v in sorted(data.items()):
                digest.update(k.encode() + v)
            result = services.ingest_uploads(f"update:{digest.hexdigest()[:16]}", data)
            for p in result.problems:
                st.warning(md(p), icon=":material/warning:")
            new_docs.update(result.documents())
        edited = _edit_in_place(corpus_key, corpus)
        for doc_id, doc in sorted(edited.items()):
            digest.update(doc_id.encode() + doc.text.encode())
        new_docs.update(edited)  # an edit made here wins over an uploaded file of that name
        if not new_docs:
            return corpus_key, corpus
        replaced = sorted(i for i in new_docs if i in corpus.docs)
        added = sorted(i for i in new_docs if i not in corpus.docs)
        st.caption(
            f"Replaces: {', '.join(replaced) or 'none'} · adds: {', '.join(added) or 'none'}"
        )
        by_question = {q.question: q for q in corpus.qa}
        changed = st.multiselect(
            "Questions whose answer changed",
            list(by_question),
            key=f"w.update.changed.{corpus_key}",
        )
        update_qa = {}
        for question in changed:
            q = by_question[question]
            answer = st.text_input(
                f"New answer: {question}",
                key=f"w.update.answer.{corpus_key}.{q.id}",
                placeholder=f"was: {q.answer}",
            ).strip()
            if answer:
                update_qa[q.id] = UpdateItem(q.id, answer)
        missing = len(changed) - len(update_qa)
        if missing:
            st.info(f"{missing} changed question(s) still need their new answer.")
        st.success(
            f"Update ready: {len(new_docs)} document(s), {len(update_qa)} changed answer(s). "
            "Run the prototype to see who stays fresh."
        )
        updated = dataclasses.replace(corpus, update_docs=new_docs, update_qa=update_qa)
        return f"{corpus_key}+update:{digest.hexdigest()[:16]}", updated
