"""Load and validate a knowledge corpus (see "Knowledge corpus" in the architecture notes).

Layout::

    CORPUS/docs/*.md|*.txt        one document per file; file stem = document id
    CORPUS/qa.jsonl               optional: {"id", "question", "answer", "doc", "paraphrases",
                                  "aliases"?, "generated"?} (generated: a rule-made suggestion
                                  not yet reviewed, `ftrag corpus suggest-qa`)
    CORPUS/update/docs/*.md|*.txt optional: same stem replaces a document, a new stem adds one
    CORPUS/update/qa.jsonl        optional: {"id", "answer", "aliases"?}, ids from qa.jsonl

Every problem is reported as a `CorpusError` whose lines read ``FILE:LINE: what is wrong`` (or
``FILE: ...`` where a line makes no sense), so a user can fix the corpus without a traceback.
Limits keep a hostile or mistaken upload from exhausting memory; they are far above the demo
corpora and the sizes a CPU prototype can index in minutes.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import CorpusError

MAX_DOC_BYTES = 1_000_000  # per document: a long handbook chapter is ~50 kB
MAX_DOCS = 2_000  # per corpus (docs/ plus update/docs/ each)
MAX_QA_LINES = 10_000  # per qa file
MAX_QA_BYTES = 10_000_000  # per qa file, checked before reading
MAX_PROBLEMS = 20  # report this many problems, then stop: one bad file can have thousands
DOC_SUFFIXES = (".md", ".txt")
# A document id becomes part of paths, prompts and citations: no separators, no traversal.
_SAFE_ID = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    path: Path | None  # None for uploaded documents


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answer: str
    doc: str
    paraphrases: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    generated: bool = False  # suggested by rules from the documents, not yet reviewed


@dataclass(frozen=True)
class UpdateItem:
    id: str
    answer: str
    aliases: tuple[str, ...] = ()


def on_training_side(qid: str) -> bool:
    """Which side a generated pair's id puts it on (see `Corpus.scored_qa`)."""
    return zlib.crc32(qid.encode("utf-8")) % 2 == 0


@dataclass(frozen=True)
class Corpus:
    name: str
    root: Path | None
    docs: dict[str, Document]
    qa: tuple[QAItem, ...] | None  # None: no qa.jsonl, so accuracy metrics are absent
    update_docs: dict[str, Document] = field(default_factory=dict)
    update_qa: dict[str, UpdateItem] = field(default_factory=dict)

    def changed_doc_ids(self) -> tuple[str, ...]:
        """Ids the update adds or whose text it changes: exactly what RAG must re-index."""
        return tuple(
            sorted(
                i
                for i, d in self.update_docs.items()
                if i not in self.docs or self.docs[i].text != d.text
            )
        )

    def changed_qa(self) -> tuple[QAItem, ...]:
        """The questions whose gold answer the update changes, carrying the new answer."""
        if self.qa is None:
            return ()
        return tuple(q for q in self.updated().qa or () if q.id in self.update_qa)

    def trainable_qa(self) -> tuple[QAItem, ...]:
        """The pairs a training row may learn from: every written pair, and the half of the
        generated (suggested, then accepted) pairs on the training side."""
        return tuple(q for q in self.qa or () if not q.generated or on_training_side(q.id))

    def scored_qa(self) -> tuple[QAItem, ...]:
        """The pairs every row is scored on: every written pair, and the other half of the
        generated ones. A suggestion echoes its document sentence, so one both trained on and
        scored would flatter fine-tuning; each generated pair is therefore one or the other,
        never both (split by a hash of its id, so a run is repeatable)."""
        return tuple(q for q in self.qa or () if not q.generated or not on_training_side(q.id))

    def sample(self, n_questions: int = 20, paraphrases: int = 1, seed: int = 0) -> Corpus:
        """A smaller corpus for a quick run: every question whose answer the update changes
        (the freshness experiment needs all of them), topped up at random (seeded) to
        `n_questions`, each keeping its first `paraphrases` paraphrases. Documents stay whole,
        so retrieval is as hard as on the full corpus; only the questions asked shrink."""
        if self.qa is None:
            return self
        most = max((len(q.paraphrases) for q in self.qa), default=0)
        if len(self.qa) <= n_questions and paraphrases >= most:
            return self  # nothing to leave out
        import random

        changed = [q for q in self.qa if q.id in self.update_qa]
        rest = [q for q in self.qa if q.id not in self.update_qa]
        extra = random.Random(seed).sample(rest, max(0, min(len(rest), n_questions - len(changed))))
        keep = {q.id for q in changed + extra}
        qa = tuple(
            replace(q, paraphrases=q.paraphrases[:paraphrases]) for q in self.qa if q.id in keep
        )
        return replace(self, qa=qa)

    def updated(self) -> Corpus:
        """The corpus after the update: same stem replaces, new stem adds, gold answers replaced.

        An update item's aliases replace the old ones (empty if it gives none), because the
        old aliases describe the old answer.
        """
        qa = self.qa
        if qa is not None:
            qa = tuple(
                replace(q, answer=self.update_qa[q.id].answer, aliases=self.update_qa[q.id].aliases)
                if q.id in self.update_qa
                else q
                for q in qa
            )
        return Corpus(self.name, self.root, {**self.docs, **self.update_docs}, qa)


class _Problems:
    """Collects problems so a user sees several at once, then raises one CorpusError."""

    def __init__(self, name: str):
        self.name = name
        self.items: list[str] = []

    def add(self, line: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(line)
        elif len(self.items) == MAX_PROBLEMS:
            self.items.append("... further problems not shown")

    def raise_if_any(self) -> None:
        if self.items:
            n = len(self.items)
            head = f"corpus `{self.name}` is invalid: {self.items[0]}"
            if n > 1:
                head += f" (and {n - 1} more)"
            raise CorpusError(head, list(self.items))


def _decode(label: str, data: bytes, limit: int, problems: _Problems) -> str | None:
    """Bytes -> text, or None after recording why the file is not a usable text file."""
    if len(data) > limit:
        problems.add(f"{label}: file is {len(data):,} bytes, the limit is {limit:,}")
        return None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        problems.add(f"{label}:{line}: binary file (NUL byte); expected UTF-8 text")
        return None
    try:
        return data.decode("utf-8-sig")  # tolerate a BOM, which some editors write
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        problems.add(f"{label}:{line}: not valid UTF-8 (byte {data[e.start]:#04x})")
        return None


def _check_doc_name(label: str, filename: str, problems: _Problems) -> str | None:
    """The document id for a file name, or None after recording why it is unusable."""
    p = Path(filename)
    if p.suffix.lower() not in DOC_SUFFIXES:
        problems.add(f"{label}: unsupported file type `{p.suffix or filename}`; use .md or .txt")
        return None
    stem = p.stem
    if not _SAFE_ID.fullmatch(stem) or set(stem) == {"."}:
        problems.add(f"{label}: document id `{stem}` must match [A-Za-z0-9_.-]+ (no paths)")
        return None
    return stem


def _add_doc(docs: dict[str, Document], doc: Document, label: str, problems: _Problems) -> None:
    if doc.id in docs:
        problems.add(f"{label}: duplicate document id `{doc.id}`")
    elif not doc.text.strip():
        problems.add(f"{label}: document is empty")
    else:
        docs[doc.id] = doc


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _read_docs_dir(directory: Path, root: Path, problems: _Problems) -> dict[str, Document]:
    docs: dict[str, Document] = {}
    entries = sorted(p for p in directory.iterdir() if not p.name.startswith("."))
    if len(entries) > MAX_DOCS:
        problems.add(f"{_rel(directory, root)}: {len(entries)} files, the limit is {MAX_DOCS}")
        return docs
    for p in entries:
        label = _rel(p, root)
        if not _inside(p, root):
            problems.add(f"{label}: symlink points outside {root.name or root}")
            continue
        if p.is_dir():
            problems.add(f"{label}: subdirectories are not supported; put documents directly here")
            continue
        doc_id = _check_doc_name(label, p.name, problems)
        if doc_id is None:
            continue
        if p.stat().st_size > MAX_DOC_BYTES:  # refuse before reading it into memory
            problems.add(
                f"{label}: file is {p.stat().st_size:,} bytes, the limit is {MAX_DOC_BYTES:,}"
            )
            continue
        text = _decode(label, p.read_bytes(), MAX_DOC_BYTES, problems)
        if text is not None:
            _add_doc(docs, Document(doc_id, text, p), label, problems)
    return docs


def _rel(p: Path, root: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)


def _json_lines(label: str, text: str, problems: _Problems):
    """Yield (line number, object) for each non-blank line that is a JSON object."""
    lines = text.splitlines()
    if len(lines) > MAX_QA_LINES:
        problems.add(f"{label}: {len(lines):,} lines, the limit is {MAX_QA_LINES:,}")
        return
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.add(f"{label}:{n}: invalid JSON ({e.msg}, column {e.colno})")
            continue
        if not isinstance(obj, dict):
            problems.add(f"{label}:{n}: expected a JSON object, got {type(obj).__name__}")
            continue
        yield n, obj


def _fields(where: str, obj: dict, required: tuple, optional: tuple, problems: _Problems) -> bool:
    """Check keys and types: strings must be non-empty, lists must hold non-empty strings."""
    ok = True
    for key in set(obj) - set(required) - set(optional):
        problems.add(f"{where}: unknown key `{key}`")
        ok = False
    for key in required:
        if key not in obj:
            problems.add(f"{where}: missing key `{key}`")
            ok = False
    for key in (*required, *optional):
        if key not in obj:
            continue
        v = obj[key]
        if key == "generated":
            if not isinstance(v, bool):
                problems.add(f"{where}: `generated` must be true or false, got {v!r}")
                ok = False
        elif key in ("paraphrases", "aliases"):
            if not isinstance(v, list) or not all(isinstance(s, str) and s.strip() for s in v):
                problems.add(f"{where}: `{key}` must be a list of non-empty strings, got {v!r}")
                ok = False
        elif not isinstance(v, str) or not v.strip():
            problems.add(f"{where}: `{key}` must be a non-empty string, got {v!r}")
            ok = False
    return ok


def _parse_qa(label: str, text: str, doc_ids, problems: _Problems) -> tuple[QAItem, ...]:
    items: list[QAItem] = []
    seen: dict[str, int] = {}
    for n, obj in _json_lines(label, text, problems):
        where = f"{label}:{n}"
        required = ("id", "question", "answer", "doc", "paraphrases")
        if not _fields(where, obj, required, ("aliases", "generated"), problems):
            continue
        if obj["id"] in seen:
            problems.add(f"{where}: duplicate id `{obj['id']}` (first on line {seen[obj['id']]})")
            continue
        seen[obj["id"]] = n
        if obj["doc"] not in doc_ids:
            problems.add(f"{where}: `doc` `{obj['doc']}` is not a document in docs/")
            continue
        items.append(
            QAItem(
                obj["id"],
                obj["question"],
                obj["answer"],
                obj["doc"],
                tuple(obj["paraphrases"]),
                tuple(obj.get("aliases", ())),
                obj.get("generated", False),
            )
        )
    return tuple(items)


def _parse_update_qa(label: str, text: str, qa_ids, problems: _Problems) -> dict[str, UpdateItem]:
    items: dict[str, UpdateItem] = {}
    lines: dict[str, int] = {}
    for n, obj in _json_lines(label, text, problems):
        where = f"{label}:{n}"
        if not _fields(where, obj, ("id", "answer"), ("aliases",), problems):
            continue
        if obj["id"] in items:
            problems.add(f"{where}: duplicate id `{obj['id']}` (first on line {lines[obj['id']]})")
        elif obj["id"] not in qa_ids:
            problems.add(f"{where}: `id` `{obj['id']}` is not a question in qa.jsonl")
        else:
            lines[obj["id"]] = n
            items[obj["id"]] = UpdateItem(obj["id"], obj["answer"], tuple(obj.get("aliases", ())))
    return items


def _read_text_file(p: Path, root: Path, limit: int, problems: _Problems) -> str | None:
    label = _rel(p, root)
    if not _inside(p, root):
        problems.add(f"{label}: symlink points outside {root.name or root}")
        return None
    if not p.is_file():
        problems.add(f"{label}: expected a file")
        return None
    if p.stat().st_size > limit:
        problems.add(f"{label}: file is {p.stat().st_size:,} bytes, the limit is {limit:,}")
        return None
    return _decode(label, p.read_bytes(), limit, problems)


def load_corpus(path: str | Path) -> Corpus:
    """Read and validate the corpus at `path`; raise CorpusError listing every problem found."""
    given = Path(path)
    problems = _Problems(given.name or str(given))
    if not given.is_dir():
        problems.add(f"{given}: corpus directory not found")
        problems.raise_if_any()
    root = given.resolve()
    docs_dir = root / "docs"
    if not docs_dir.is_dir() or not _inside(docs_dir, root):
        problems.add(f"{given / 'docs'}: missing docs/ directory (one .md or .txt per document)")
        problems.raise_if_any()
    docs = _read_docs_dir(docs_dir, root, problems)
    problems.raise_if_any()
    if not docs:
        problems.add(f"{given / 'docs'}: no documents (expected *.md or *.txt files)")
        problems.raise_if_any()

    qa = None
    if (root / "qa.jsonl").exists():
        text = _read_text_file(root / "qa.jsonl", root, MAX_QA_BYTES, problems)
        if text is not None:
            qa = _parse_qa("qa.jsonl", text, docs, problems)

    update_docs: dict[str, Document] = {}
    update_qa: dict[str, UpdateItem] = {}
    upd = root / "update"
    if (upd / "docs").is_dir():
        if _inside(upd / "docs", root):
            update_docs = _read_docs_dir(upd / "docs", root, problems)
        else:
            problems.add("update/docs: symlink points outside the corpus directory")
    if (upd / "qa.jsonl").exists():
        if qa is None and not problems.items:
            problems.add("update/qa.jsonl: given, but there is no qa.jsonl to update")
        text = _read_text_file(upd / "qa.jsonl", root, MAX_QA_BYTES, problems)
        if text is not None and qa is not None:
            update_qa = _parse_update_qa("update/qa.jsonl", text, {q.id for q in qa}, problems)
    problems.raise_if_any()
    return Corpus(root.name, root, docs, qa, update_docs, update_qa)


def corpus_from_uploads(files: dict[str, bytes], name: str) -> Corpus:
    """Validate documents uploaded through the UI (file name -> bytes) into a Corpus.

    Names must be plain .md/.txt file names (the UI passes the browser's file name, which the
    user controls, so anything with a path in it is refused). An upload named `qa.jsonl` is
    read as the question set; without one, `qa` is None.
    """
    problems = _Problems(name)
    if not files:
        problems.add("upload: no documents (expected .md or .txt files)")
    if len(files) > MAX_DOCS + 1:
        problems.add(f"upload: {len(files)} files, the limit is {MAX_DOCS}")
    problems.raise_if_any()
    docs: dict[str, Document] = {}
    qa_bytes = None
    for filename, data in sorted(files.items()):
        if filename == "qa.jsonl":
            qa_bytes = data
            continue
        if "/" in filename or "\\" in filename:
            problems.add(f"{filename}: file name must not contain a path")
            continue
        doc_id = _check_doc_name(filename, filename, problems)
        if doc_id is None:
            continue
        text = _decode(filename, data, MAX_DOC_BYTES, problems)
        if text is not None:
            _add_doc(docs, Document(doc_id, text, None), filename, problems)
    problems.raise_if_any()
    if not docs:
        problems.add("upload: no documents (expected .md or .txt files)")
    qa = None
    if qa_bytes is not None:
        text = _decode("qa.jsonl", qa_bytes, MAX_QA_BYTES, problems)
        if text is not None:
            qa = _parse_qa("qa.jsonl", text, docs, problems)
    problems.raise_if_any()
    return Corpus(name, None, docs, qa)
