"""Write imported documents as a corpus directory: CORPUS/docs/<id>.md plus sources.json."""

from __future__ import annotations

import json
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
