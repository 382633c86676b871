"""The golden set a user owns: CSV import names bad lines, only written or accepted rows count,
and the accepted rows make a qa.jsonl the corpus loader reads."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from prototype.corpus import corpus_from_uploads
from ui.golden_set import accepted_rows, qa_jsonl, read_csv_rows

DOCS = {"refunds", "timetable"}


@pytest.mark.parametrize(
    ("data", "rows", "problem"),
    [
        (b"question,answer,doc\nHow long?,14 days,refunds\n", 1, None),
        (b"\xef\xbb\xbfquestion,answer,doc\nHow long?,14 days,refunds\n", 1, None),  # BOM
        (b"question,answer\nHow long?,14 days\n", 0, "missing column(s) doc"),
        (b"question,answer,doc\nHow long?,,refunds\n", 0, "line 2: question, answer and doc"),
        (b"question,answer,doc\nHow long?,14 days,faq\n", 0, "line 2: doc `faq` is not one"),
        (b"\xff\xfe\x00q", 0, "not UTF-8 text"),
        (b"", 0, "missing column(s) question, answer, doc"),
        (b"question,answer,doc\n" + b"q,a,refunds\n" * 200_000, 0, "the limit is"),
    ],
)
def test_csv_import_names_each_bad_line(data, rows, problem):
    got, problems = read_csv_rows(data, DOCS)
    assert len(got) == rows
    if problem is None:
        assert problems == [] and got[0]["accepted"] and not got[0]["generated"]
    else:
        assert len(problems) == 1 and problem in problems[0] and "golden set CSV" in problems[0]


def test_only_written_or_accepted_rows_count_and_load_as_qa():
    table = pd.DataFrame(
        [
            ("How long is the refund window?", "14 days", "refunds", False, True),  # written
            ("When is the first ferry?", "06:45", "timetable", True, True),  # accepted
            ("What is a fare?", "a price", "timetable", True, False),  # suggested, not accepted
            ("Orphan?", "x", "nowhere", False, True),  # cites no document
            ("", "y", "refunds", False, True),  # incomplete
        ],
        columns=["question", "answer", "doc", "generated", "accepted"],
    )
    rows = accepted_rows(table, DOCS)
    assert [r["answer"] for r in rows] == ["14 days", "06:45"]
    data = qa_jsonl(rows)
    lines = [json.loads(x) for x in data.decode().splitlines()]
    assert [x["id"] for x in lines] == ["q001", "q002"]
    assert "generated" not in lines[0] and lines[1]["generated"] is True
    corpus = corpus_from_uploads(
        {
            "refunds.md": b"# Refunds\n\nRefunds are accepted within 14 days.",
            "timetable.md": b"# Timetable\n\nThe first ferry leaves at 06:45.",
            "qa.jsonl": data,
        },
        name="upload",
    )
    assert [q.answer for q in corpus.qa] == ["14 days", "06:45"]
    assert [q.generated for q in corpus.qa] == [False, True]
    assert qa_jsonl([]) == b""
