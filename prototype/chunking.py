"""Chunking: markdown documents into heading-labelled windows of whole sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prototype.markdown_blocks import block_sentences
from prototype.rag_settings import RagSettings
from prototype.text import split_sentences


@dataclass(frozen=True)
class Chunk:
    id: int  # FAISS id: stable across updates, never reused
    doc_id: str
    ordinal: int  # position within its document
    title: str  # the document's first heading
    heading: str  # the section heading the text sits under ("" if none)
    text: str

    def embed_text(self) -> str:
        """What gets embedded: the title and section give a short chunk its topic."""
        head = " - ".join(h for h in (self.title, self.heading) if h)
        return f"{head}: {self.text}" if head else self.text


def sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Markdown -> (title, [(section heading, paragraph text)]); tables and bullet lists read
    as sentences (prototype.markdown_blocks)."""
    title, heading, out = "", "", []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in block.strip().splitlines() if ln.strip()]
        body: list[str] = []
        for ln in lines:
            m = re.match(r"^(#{1,6})\s+(.*)$", ln)
            if m:
                if body:
                    out.append((heading, " ".join(block_sentences(body))))
                    body = []
                if len(m.group(1)) == 1 and not title:
                    title = m.group(2).strip()
                else:
                    heading = m.group(2).strip()
            else:
                body.append(ln)
        if body:
            out.append((heading, " ".join(block_sentences(body))))
    return title, out


def chunk_document(
    doc_id: str,
    text: str,
    max_words: int = RagSettings.chunk_words,
    overlap: int = RagSettings.chunk_overlap_sentences,
) -> list[tuple[str, str, str]]:
    """Split one document into (title, heading, text) windows of whole sentences.

    Paragraphs under the same heading are packed together up to `max_words`; a longer
    paragraph is cut into sentence windows that overlap by `overlap` sentences.
    """
    title, parts = sections(text)
    title = title or doc_id
    pieces: list[tuple[str, str, str]] = []
    cur_head: str | None = None
    cur: list[str] = []

    def flush():
        if cur:
            pieces.append((title, cur_head or "", " ".join(cur)))

    for heading, para in parts:
        sents = split_sentences(para)
        if heading != cur_head or len(" ".join(cur + sents).split()) > max_words:
            flush()
            cur_head = heading
            cur.clear()
        for s in sents:
            if cur and len(" ".join([*cur, s]).split()) > max_words:
                flush()
                cur[:] = cur[-overlap:] if overlap else []
            cur.append(s)
    flush()
    return pieces
