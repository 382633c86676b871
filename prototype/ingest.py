"""Bring your own documents: files, folders and .zip archives -> corpus documents + problems."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core.errors import CorpusError
from core.progress import Progress
from prototype.corpus import MAX_DOC_BYTES, MAX_DOCS, Document
from prototype.ingest_docx import read_docx
from prototype.ingest_html import read_html
from prototype.ingest_limits import MAX_FILE_BYTES, open_zip
from prototype.ingest_pdf import read_pdf
from prototype.ingest_text import read_csv, read_text

Reader = Callable[[str, bytes], str]
# suffix -> (format name, reader). Adding a format is one row here and one reader module.
READERS: dict[str, tuple[str, Reader]] = {
    ".pdf": ("pdf", read_pdf),
    ".docx": ("docx", read_docx),
    ".html": ("html", read_html),
    ".htm": ("html", read_html),
    ".md": ("markdown", read_text),
    ".markdown": ("markdown", read_text),
    ".txt": ("text", read_text),
    ".csv": ("csv", read_csv),
    ".tsv": ("csv", read_csv),
}
ARCHIVES = (".zip",)
_MAX_ID = 80  # ids end up in file names, prompts and citations


@dataclass(frozen=True)
class ImportedDoc:
    id: str
    text: str  # Markdown
    source: str  # the file as given; an archive member as ARCHIVE:MEMBER
    format: str


@dataclass(frozen=True)
class IngestResult:
    docs: tuple[ImportedDoc, ...]
    problems: tuple[str, ...]  # one line per file that could not be imported, naming it

    def documents(self) -> dict[str, Document]:
        """The documents as a corpus holds them (id -> Document), ready for RagIndex.build."""
        return {d.id: Document(d.id, d.text, None) for d in self.docs}

    def error(self) -> CorpusError | None:
        """All problems as one CorpusError (one line each), or None."""
        if not self.problems:
            return None
        n = len(self.problems)
        head = f"{n} file(s) could not be imported: {self.problems[0]}"
        return CorpusError(head, list(self.problems))


@dataclass(frozen=True)
class _Source:
    label: str
    size: int
    read: Callable[[], bytes]


def slugify(stem: str) -> str:
    """A file stem -> a document id: ASCII lower case, runs of other characters -> "_"."""
    decomposed = unicodedata.normalize("NFKD", stem)  # "Å" -> "A" + a combining ring
    ascii_ = "".join(
        c if c.isascii() else ("" if unicodedata.combining(c) else "_") for c in decomposed
    )
    slug = re.sub(r"[^a-z0-9-]+", "_", ascii_.lower()).strip("_-")[:_MAX_ID].strip("_-")
    return slug or "document"


def _unique(slug: str, taken: set[str]) -> str:
    doc_id, n = slug, 1
    while doc_id in taken:
        n += 1
        doc_id = f"{slug}_{n}"
    taken.add(doc_id)
    return doc_id


def _suffix(label: str) -> str:
    return PurePosixPath(label.replace("\\", "/")).suffix.lower()


def _stem(label: str) -> str:
    return PurePosixPath(label.replace("\\", "/").rsplit(":", 1)[-1]).stem


def _archive_sources(label: str, data: bytes, problems: list[str]) -> list[_Source]:
    """The members of a .zip as sources; folders, hidden files and resource forks skipped."""
    zf = open_zip(label, data)
    out = []
    for info in zf.infolist():
        name = info.filename
        parts = PurePosixPath(name).parts
        if info.is_dir() or not parts or any(p.startswith((".", "__MACOSX")) for p in parts):
            continue
        member = f"{label}:{name}"
        if _suffix(name) in ARCHIVES:
            problems.append(f"{member}: archives inside archives are not supported; unpack it")
            continue
        out.append(_Source(member, info.file_size, lambda zf=zf, info=info: zf.read(info)))
    return out


def _expand(given: Iterable[str | Path], problems: list[str]) -> list[_Source]:
    """Files as given, folders walked (hidden entries skipped), archives opened."""
    files: list[Path] = []
    for g in map(Path, given):
        if g.is_dir():
            files += sorted(
                p
                for p in g.rglob("*")
                if p.is_file() and not any(s.startswith(".") for s in p.relative_to(g).parts)
            )
        elif g.is_file():
            files.append(g)
        else:
            problems.append(f"{g}: no such file or folder")
    return [_Source(str(p), p.stat().st_size, p.read_bytes) for p in files]


def _open_archives(sources: list[_Source], problems: list[str]) -> list[_Source]:
    out: list[_Source] = []
    for s in sources:
        if _suffix(s.label) not in ARCHIVES:
            out.append(s)
        elif s.size > MAX_FILE_BYTES:
            problems.append(f"{s.label}: file is {s.size:,} bytes, the limit is {MAX_FILE_BYTES:,}")
        else:
            try:
                out += _archive_sources(s.label, s.read(), problems)
            except CorpusError as e:
                problems.append(e.lines()[0])
    return out


def _read_one(s: _Source) -> tuple[str, str]:
    """(format, Markdown) of one source; CorpusError naming it when it cannot be imported."""
    suffix = _suffix(s.label)
    if suffix not in READERS:
        known = ", ".join(sorted({*READERS, *ARCHIVES}))
        raise CorpusError(f"{s.label}: unsupported file type `{suffix or '(none)'}`; use {known}")
    fmt, reader = READERS[suffix]
    if s.size > MAX_FILE_BYTES:
        raise CorpusError(f"{s.label}: file is {s.size:,} bytes, the limit is {MAX_FILE_BYTES:,}")
    if s.size == 0:
        raise CorpusError(f"{s.label}: file is empty (0 bytes)")
    try:
        text = reader(s.label, s.read())
    except CorpusError:
        raise
    except (zipfile.BadZipFile, OSError) as e:
        raise CorpusError(f"{s.label}: could not read this {fmt} file ({e})") from None
    except Exception as e:  # a parser's own error on a malformed file: still one line
        raise CorpusError(
            f"{s.label}: could not read this {fmt} file ({type(e).__name__}: {e})"
        ) from None
    if not text.strip():
        raise CorpusError(f"{s.label}: no text found in this {fmt} file")
    size = len(text.encode("utf-8"))
    if size > MAX_DOC_BYTES:
        raise CorpusError(
            f"{s.label}: its text is {size:,} bytes, the limit for one document is "
            f"{MAX_DOC_BYTES:,}; split the file"
        )
    return fmt, text


def _ingest(sources: list[_Source], problems: list[str], progress: Progress | None) -> IngestResult:
    sources = sorted(_open_archives(sources, problems), key=lambda s: s.label)
    if len(sources) > MAX_DOCS:
        problems.append(
            f"{sources[MAX_DOCS].label}: and {len(sources) - MAX_DOCS:,} more files past the "
            f"limit of {MAX_DOCS:,} documents were not imported; import them as another corpus"
        )
        sources = sources[:MAX_DOCS]
    docs: list[ImportedDoc] = []
    taken: set[str] = set()
    for i, s in enumerate(sources):
        if progress:
            progress("import", i, len(sources), {"file": s.label})
        try:
            fmt, text = _read_one(s)
        except CorpusError as e:
            problems.append(e.lines()[0])
            continue
        docs.append(ImportedDoc(_unique(slugify(_stem(s.label)), taken), text, s.label, fmt))
    if progress:
        progress("import", len(sources), len(sources), {"documents": len(docs)})
    return IngestResult(tuple(docs), tuple(problems))


def ingest(paths: Iterable[str | Path], progress: Progress | None = None) -> IngestResult:
    """Read files, folders (recursively) and .zip archives into documents.

    Each file becomes one document (id: a safe slug of the file stem, made unique), as
    Markdown whose `#` headings the chunker reads as section titles. A file that cannot be
    read becomes one problem line naming it, and the batch goes on.
    """
    problems: list[str] = []
    return _ingest(_expand(paths, problems), problems, progress)


def ingest_files(files: Mapping[str, bytes], progress: Progress | None = None) -> IngestResult:
    """The same for uploads (file name -> bytes), as the app receives them."""
    sources = [_Source(name, len(data), lambda d=data: d) for name, data in files.items()]
    return _ingest(sources, [], progress)
