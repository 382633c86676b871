"""Bad input: each bad file is one problem line naming it, and the rest of the batch imports."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures.documents import (
    docx_bytes,
    encrypted_pdf_bytes,
    lying_zip_bytes,
    pdf_bytes,
    scanned_pdf_bytes,
    zip_bytes,
)

from core.errors import CorpusError
from prototype import ingest as ingest_module
from prototype.ingest import ingest
from prototype.ingest_limits import MAX_UNZIPPED_BYTES

GOOD = "# Good\n\nFerries leave at 08:15.\n"
ZEROS = b"0" * 3_000_000  # deflates ~1000:1
NAV_ONLY = b"<html><body><nav><a href='/'>Home</a></nav></body></html>"


def nested_zip() -> bytes:
    return zip_bytes({"inner.zip": zip_bytes({"a.md": b"A"})})


# (case, file name, bytes or a builder, text the one problem line must hold)
BAD = [
    ("encrypted_pdf", "locked.pdf", encrypted_pdf_bytes, "encrypted PDF"),
    ("scanned_pdf", "scan.pdf", scanned_pdf_bytes, "no text layer"),
    ("corrupt_pdf", "broken.pdf", lambda: pdf_bytes()[:400], "not a readable PDF"),
    ("not_a_pdf", "fake.pdf", b"GIF89a not a pdf at all", "not a readable PDF"),
    ("corrupt_docx", "broken.docx", lambda: docx_bytes()[:2000], "not a valid DOCX"),
    ("legacy_doc", "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "legacy Word"),
    ("docx_bomb", "bomb.docx", lambda: zip_bytes({"word/document.xml": ZEROS}), "zip bomb"),
    ("zip_bomb", "bomb.zip", lambda: zip_bytes({"a.txt": ZEROS}), "zip bomb"),
    ("zip_too_big", "big.zip", lambda: lying_zip_bytes(MAX_UNZIPPED_BYTES + 1), "expands to"),
    ("zip_lies_about_size", "liar.zip", lambda: lying_zip_bytes(10), "Bad CRC"),
    ("nested_archive", "outer.zip", nested_zip, "archives inside archives"),
    ("corrupt_zip", "junk.zip", b"PK\x03\x04 not really", "corrupt zip"),
    ("empty", "empty.md", b"", "empty (0 bytes)"),
    ("unsupported", "photo.png", b"\x89PNG\r\n\x1a\n....", "unsupported file type `.png`"),
    ("no_suffix", "README", b"text", "unsupported file type `(none)`"),
    ("binary_text", "blob.txt", b"abc\x00\x01\x02", "binary file"),
    ("html_only_navigation", "nav.html", NAV_ONLY, "no main text"),
    ("csv_header_only", "head.csv", b"a,b,c\n", "no data rows"),
    ("whitespace_only", "blank.txt", b"  \n\n ", "no text found"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "name", "content", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_file_is_one_line_naming_it_and_the_batch_goes_on(
    tmp_path, case, name, content, fragment
):
    data = content() if callable(content) else content
    (tmp_path / "a_good.md").write_text(GOOD)
    (tmp_path / name).write_bytes(data)
    (tmp_path / "z_good.md").write_text(GOOD)
    result = ingest([tmp_path])
    assert [d.id for d in result.docs] == ["a_good", "z_good"]
    (line,) = result.problems
    assert line.startswith(str(tmp_path / name)), line
    assert fragment in line, line
    assert "Traceback" not in line and "\n" not in line


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest_module, "MAX_FILE_BYTES", 100)
    (tmp_path / "big.txt").write_bytes(b"x" * 101)
    (tmp_path / "ok.txt").write_bytes(b"x" * 100)
    result = ingest([tmp_path])
    assert [d.id for d in result.docs] == ["ok"]
    assert result.problems == (f"{tmp_path / 'big.txt'}: file is 101 bytes, the limit is 100",)


def test_text_over_the_document_limit_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest_module, "MAX_DOC_BYTES", 50)
    (tmp_path / "long.txt").write_text("word " * 20)
    result = ingest([tmp_path])
    assert result.docs == () and "split the file" in result.problems[0]


def test_missing_path_and_error_summary(tmp_path):
    result = ingest([tmp_path / "nope.pdf", tmp_path / "nope_dir"])
    assert result.docs == ()
    err = result.error()
    assert isinstance(err, CorpusError) and len(err.lines()) == 2
    assert all("no such file or folder" in line for line in err.lines())


def test_a_parser_crash_is_still_one_line(tmp_path, monkeypatch):
    def explode(label, data):
        raise np.linalg.LinAlgError("boom")  # any library error, not ours

    monkeypatch.setitem(ingest_module.READERS, ".md", ("markdown", explode))
    (tmp_path / "x.md").write_text("x")
    result = ingest([tmp_path])
    assert result.problems == (
        f"{tmp_path / 'x.md'}: could not read this markdown file (LinAlgError: boom)",
    )
