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
UPDATE_TYPES = ["pdf", "docx", "html", "htm", "md", "markdown", "txt", "csv", "tsv", "zip"]


def apply_update(corpus_key: str, corpus):
    """Render the update controls under an uploaded corpus with a golden set; (key, corpus)
    with the update attached and the key naming it (the live index after the update is cached
    by key), or unchanged while there is none."""
    from prototype.corpus import UpdateItem

    with st.expander("Apply an update: new versions of your documents", icon=":material/update:"):
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
        if not files:
            return corpus_key, corpus
        data = {f.name: f.getvalue() for f in files}
        digest = hashlib.sha256(b"".join(k.encode() + v for k, v in sorted(data.items())))
        result = services.ingest_uploads(f"update:{digest.hexdigest()[:16]}", data)
        for p in result.problems:
            st.warning(md(p), icon=":material/warning:")
        new_docs = result.documents()
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
        if not new_docs:
            return corpus_key, corpus
        st.success(
            f"Update ready: {len(new_docs)} document(s), {len(update_qa)} changed answer(s). "
            "Run the prototype to see who stays fresh."
        )
        updated = dataclasses.replace(corpus, update_docs=new_docs, update_qa=update_qa)
        return f"{corpus_key}+update:{digest.hexdigest()[:16]}", updated
