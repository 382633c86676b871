"""Write imported documents as a corpus directory: CORPUS/docs/<id>.md plus sources.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from core.errors import CorpusError
from prototype.corpus import DOC_SUFFIXES
from prototype.ingest import IngestResult

SOURCES_FILE = "sources.json"  # which file each document came from; the loader ignores it


def check_output(out: Path, force: bool) -> None:
    """Refuse an existing non-empty `out` unless `force` (checked before any file is read)."""
    if out.exists() and not out.is_dir():
        raise CorpusError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise CorpusError(f"{out}: exists and is not empty; pass --force to replace its docs/")


def write_corpus(result: IngestResult, out: Path, force: bool = False) -> Path:
    """Write `result` under `out` in the corpus layout and return `out`.

    With `force`, the documents already in `out/docs/` are replaced; anything else there
    (qa.jsonl, update/) is kept.
    """
    check_output(out, force)
    docs_dir = out / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    for old in docs_dir.iterdir():
        if old.is_file() and old.suffix.lower() in DOC_SUFFIXES:
            old.unlink()
    for d in result.docs:
        (docs_dir / f"{d.id}.md").write_text(d.text, encoding="utf-8")
    sources = {
        "documents": [
            {"id": d.id, "source": d.source, "format": d.format, "chars": len(d.text)}
            for d in result.docs
        ],
        "problems": list(result.problems),
    }
    (out / SOURCES_FILE).write_text(json.dumps(sources, indent=2) + "\n", encoding="utf-8")
    return out


def save_corpus(corpus, out: Path, force: bool = False) -> Path:
    """Write a whole Corpus (documents, qa.jsonl with each question's `generated` mark, and
    its update) in the corpus layout under `out`, so `load_corpus(out)` reads it back; the
    app saves an uploaded corpus and its golden set with this."""
    check_output(out, force)
    if force and (out / "update").is_dir():
        shutil.rmtree(out / "update")  # an old update must not survive under a new corpus
    for sub, docs in (("docs", corpus.docs), ("update/docs", corpus.update_docs)):
        if not docs:
            continue
        (out / sub).mkdir(parents=True, exist_ok=True)
        for old in (out / sub).iterdir():
            if old.is_file() and old.suffix.lower() in DOC_SUFFIXES:
                old.unlink()
        for d in docs.values():
            (out / sub / f"{d.id}.md").write_text(d.text, encoding="utf-8")
    qa_lines = [
        {
            "id": q.id,
            "question": q.question,
            "answer": q.answer,
            "doc": q.doc,
            "paraphrases": list(q.paraphrases),
            **({"aliases": list(q.aliases)} if q.aliases else {}),
            **({"generated": True} if q.generated else {}),
        }
        for q in corpus.qa or ()
    ]
    if qa_lines:
        _jsonl(out / "qa.jsonl", qa_lines)
    elif (out / "qa.jsonl").is_file():
        (out / "qa.jsonl").unlink()  # an old golden set must not score the new documents
    if corpus.update_qa:
        (out / "update").mkdir(parents=True, exist_ok=True)
        _jsonl(
            out / "update" / "qa.jsonl",
            [
                {
                    "id": u.id,
                    "answer": u.answer,
                    **({"aliases": list(u.aliases)} if u.aliases else {}),
                }
                for u in corpus.update_qa.values()
            ],
        )
    return out


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
