"""The corpus loader: the bad-input table, uploads, the update, and the shipped corpora."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.errors import CorpusError
from prototype import corpus as C
from prototype.corpus import corpus_from_uploads, load_corpus
from prototype.scoring import normalise

ROOT = Path(__file__).resolve().parents[1]
AURORA = ROOT / "data" / "corpora" / "aurora_handbook"
KESTREL = ROOT / "data" / "corpora" / "kestrel_valley"
TINY = ROOT / "tests" / "fixtures" / "tiny_corpus"

QA = {"id": "q1", "question": "Q?", "answer": "A", "doc": "a", "paraphrases": ["P?"]}


def write(root: Path, rel: str, content: str | bytes) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")


def jl(*objs) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs)


def good(root: Path) -> None:
    write(root, "docs/a.md", "Alpha doc.\n")
    write(root, "docs/b.txt", "Beta doc.\n")
    write(root, "qa.jsonl", jl(QA))


def escape_link(root: Path) -> None:
    outside = root.parent / "outside.md"
    outside.write_text("secret", encoding="utf-8")
    os.symlink(outside, root / "docs" / "leak.md")


# (case id, change applied to a good corpus, text every problem line must contain)
BAD = [
    (
        "no_docs_dir",
        lambda r: (
            (r / "docs" / "a.md").unlink()
            or (r / "docs" / "b.txt").unlink()
            or (r / "docs").rmdir()
        ),
        "missing docs/",
    ),
    (
        "empty_docs",
        lambda r: (r / "docs" / "a.md").unlink() or (r / "docs" / "b.txt").unlink(),
        "no documents",
    ),
    ("not_utf8", lambda r: write(r, "docs/c.md", b"line one\nline \xff two\n"), "docs/c.md:2:"),
    ("binary", lambda r: write(r, "docs/c.md", b"ok\n\x00\x01\x02"), "docs/c.md:2: binary"),
    (
        "oversized",
        lambda r: write(r, "docs/c.md", "x" * (C.MAX_DOC_BYTES + 1)),
        "docs/c.md: file is",
    ),
    ("empty_doc", lambda r: write(r, "docs/c.md", "  \n"), "docs/c.md: document is empty"),
    ("bad_suffix", lambda r: write(r, "docs/c.pdf", "x"), "docs/c.pdf: unsupported file type"),
    ("unsafe_id", lambda r: write(r, "docs/a b.md", "x"), "docs/a b.md: document id"),
    ("duplicate_doc", lambda r: write(r, "docs/a.txt", "again"), "duplicate document id `a`"),
    ("subdir", lambda r: write(r, "docs/sub/c.md", "x"), "docs/sub: subdirectories"),
    ("symlink_escape", escape_link, "docs/leak.md: symlink points outside"),
    (
        "bad_json",
        lambda r: write(r, "qa.jsonl", jl(QA, '{"id": "q2",')),
        "qa.jsonl:2: invalid JSON",
    ),
    ("not_object", lambda r: write(r, "qa.jsonl", jl(QA, "[1, 2]")), "qa.jsonl:2: expected a JSON"),
    (
        "missing_key",
        lambda r: write(r, "qa.jsonl", jl({k: v for k, v in QA.items() if k != "doc"})),
        "qa.jsonl:1: missing key `doc`",
    ),
    (
        "wrong_type",
        lambda r: write(r, "qa.jsonl", jl({**QA, "answer": 14})),
        "qa.jsonl:1: `answer` must be a non-empty string",
    ),
    (
        "bad_paraphrases",
        lambda r: write(r, "qa.jsonl", jl({**QA, "paraphrases": "P?"})),
        "qa.jsonl:1: `paraphrases` must be a list",
    ),
    (
        "unknown_key",
        lambda r: write(r, "qa.jsonl", jl({**QA, "colour": "red"})),
        "qa.jsonl:1: unknown key `colour`",
    ),
    (
        "duplicate_qa",
        lambda r: write(r, "qa.jsonl", jl(QA, "", QA)),
        "qa.jsonl:3: duplicate id `q1` (first on line 1)",
    ),
    (
        "unknown_doc",
        lambda r: write(r, "qa.jsonl", jl({**QA, "doc": "zeta"})),
        "qa.jsonl:1: `doc` `zeta` is not a document",
    ),
    (
        "qa_not_utf8",
        lambda r: write(r, "qa.jsonl", jl(QA).encode() + b'{"id": "\xe9"}\n'),
        "qa.jsonl:2: not valid UTF-8",
    ),
    (
        "update_unknown_id",
        lambda r: write(r, "update/qa.jsonl", jl({"id": "q9", "answer": "B"})),
        "update/qa.jsonl:1: `id` `q9` is not a question",
    ),
    (
        "update_bad_json",
        lambda r: write(r, "update/qa.jsonl", "\n{nope}\n"),
        "update/qa.jsonl:2: invalid JSON",
    ),
    (
        "update_duplicate",
        lambda r: write(r, "update/qa.jsonl", jl(*[{"id": "q1", "answer": "B"}] * 2)),
        "update/qa.jsonl:2: duplicate id",
    ),
    (
        "update_binary_doc",
        lambda r: write(r, "update/docs/a.md", b"\x00"),
        "update/docs/a.md:1: binary",
    ),
    (
        "update_without_qa",
        lambda r: (
            (r / "qa.jsonl").unlink()
            or write(r, "update/qa.jsonl", jl({"id": "q1", "answer": "B"}))
        ),
        "no qa.jsonl to update",
    ),
]


@pytest.mark.parametrize("change,expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_corpus_names_file_and_line(tmp_path, change, expected):
    root = tmp_path / "corpus"
    good(root)
    change(root)
    with pytest.raises(CorpusError) as err:
        load_corpus(root)
    assert any(expected in line for line in err.value.lines()), err.value.lines()
    assert expected in str(err.value) or len(err.value.lines()) > 1


def test_missing_corpus_dir(tmp_path):
    with pytest.raises(CorpusError, match="corpus directory not found"):
        load_corpus(tmp_path / "nope")


def test_good_corpus_and_optional_qa(tmp_path):
    good(tmp_path)
    c = load_corpus(tmp_path)
    assert sorted(c.docs) == ["a", "b"] and c.qa[0].paraphrases == ("P?",)
    (tmp_path / "qa.jsonl").unlink()
    assert load_corpus(tmp_path).qa is None  # metrics will be reported as absent


def test_symlink_inside_corpus_is_allowed(tmp_path):
    good(tmp_path)
    write(tmp_path, "extra/c.md", "Gamma.")
    os.symlink(tmp_path / "extra" / "c.md", tmp_path / "docs" / "c.md")
    assert load_corpus(tmp_path).docs["c"].text == "Gamma."


def test_many_problems_are_reported_together(tmp_path):
    good(tmp_path)
    write(tmp_path, "qa.jsonl", jl(*[{**QA, "id": f"q{i}", "doc": "zeta"} for i in range(50)]))
    lines = pytest.raises(CorpusError, load_corpus, tmp_path).value.lines()
    assert len(lines) == C.MAX_PROBLEMS + 1 and lines[0].startswith("qa.jsonl:1:")


UPLOAD_BAD = [
    ({}, "no documents"),
    ({"a.pdf": b"x"}, "a.pdf: unsupported file type"),
    ({"../etc/passwd.md": b"x"}, "must not contain a path"),
    ({"a.md": b"\xff"}, "a.md:1: not valid UTF-8"),
    ({"a.md": b"a\x00"}, "a.md:1: binary"),
    ({"a.md": b"x" * (C.MAX_DOC_BYTES + 1)}, "a.md: file is"),
    ({"a.md": b"x", "a.txt": b"y"}, "duplicate document id `a`"),
    ({"a.md": b"x", "qa.jsonl": b'{"id": 1}\n'}, "qa.jsonl:1:"),
]


@pytest.mark.parametrize("files,expected", UPLOAD_BAD)
def test_bad_uploads(files, expected):
    with pytest.raises(CorpusError) as err:
        corpus_from_uploads(files, "upload")
    assert any(expected in line for line in err.value.lines()), err.value.lines()


def test_good_upload():
    c = corpus_from_uploads({"a.md": "Æble €5".encode(), "qa.jsonl": jl(QA).encode()}, "mine")
    assert c.docs["a"].text == "Æble €5" and c.docs["a"].path is None and c.qa[0].doc == "a"
    assert corpus_from_uploads({"b.txt": b"x"}, "mine").qa is None


def test_update_applies(tmp_path):
    good(tmp_path)
    write(tmp_path, "update/docs/a.md", "Alpha v2.")
    write(tmp_path, "update/docs/b.txt", "Beta doc.\n")  # unchanged text: not re-indexed
    write(tmp_path, "update/docs/n.md", "New.")
    write(tmp_path, "update/qa.jsonl", jl({"id": "q1", "answer": "A2", "aliases": ["a two"]}))
    c = load_corpus(tmp_path)
    assert c.changed_doc_ids() == ("a", "n")
    (q,) = c.changed_qa()
    assert (q.answer, q.aliases, q.question) == ("A2", ("a two",), "Q?")
    u = c.updated()
    assert u.docs["a"].text == "Alpha v2." and "n" in u.docs and u.qa[0].answer == "A2"
    assert u.update_docs == {} and u.changed_qa() == ()
    assert c.docs["a"].text == "Alpha doc.\n"  # the original is untouched


def _in(text: str, answer: str) -> bool:
    return f" {normalise(answer)} " in f" {normalise(text)} "


@pytest.mark.parametrize(
    "path,min_docs,min_qa,min_changed",
    [(AURORA, 14, 45, 12), (KESTREL, 8, 20, 6), (TINY, 3, 6, 2)],
    ids=["aurora", "kestrel", "tiny"],
)
def test_shipped_corpora(path, min_docs, min_qa, min_changed):
    c = load_corpus(path)
    assert len(c.docs) >= min_docs and len(c.qa) >= min_qa
    assert len(c.update_qa) >= min_changed
    assert set(c.updated().docs) - set(c.docs), "the update must add one new document"
    assert {q.doc for q in c.qa} == set(c.docs), "questions must cover every document"
    for q in c.qa:
        assert q.answer.lower() in c.docs[q.doc].text.lower(), q.id  # verbatim span
        assert len(q.answer.split()) <= 6, q.id
        assert len(q.paraphrases) >= 2, q.id
        assert len({normalise(p) for p in (q.question, *q.paraphrases)}) == 3, q.id
    updated = c.updated()
    old = {q.id: q for q in c.qa}
    for q in c.changed_qa():
        new_text = updated.docs[q.doc].text
        assert _in(new_text, q.answer), q.id
        assert not _in(new_text, old[q.id].answer), q.id
        assert normalise(q.answer) != normalise(old[q.id].answer), q.id


def test_demo_corpus_sizes():
    c = load_corpus(AURORA)
    assert 14 <= len(c.docs) <= 20
    for d in c.docs.values():
        assert 150 <= len(d.text.split()) <= 400, d.id
    assert len(c.changed_doc_ids()) >= 6  # >= 5 changed plus one new
