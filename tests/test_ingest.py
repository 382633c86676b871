"""Ingestion: each format from a file built here, down to its text, headings and table rows."""

from __future__ import annotations

import pytest
from fixtures.documents import DESK, HTML, REFUND, TABLE_ROWS, docx_bytes, pdf_bytes, zip_bytes

from prototype.chunking import chunk_document, sections
from prototype.ingest import ingest, ingest_files, slugify


def one(name: str, data: bytes) -> str:
    result = ingest_files({name: data})
    assert result.problems == ()
    (doc,) = result.docs
    return doc.text


def test_pdf_text_headings_and_table_rows():
    text = one("handbook.pdf", pdf_bytes(pages=2))
    assert text.startswith("# Ferry Handbook\n")  # the title is the largest font
    assert "\n## Refunds part 1\n" in text and "\n## Refunds part 2\n" in text
    assert f"{REFUND} {DESK}" in text
    assert "\n".join(TABLE_ROWS) in text  # a ruled table, one row a line, cells named
    assert text.count("Adult ticket") == 1  # the cells are not also read as loose text
    title, parts = sections(text)
    assert title == "Ferry Handbook" and [h for h, _ in parts][:2] == ["Refunds part 1"] * 2


def test_pdf_drops_running_footer_and_page_numbers():
    text = one("h.pdf", pdf_bytes(pages=4, table=False, footer=True))
    assert "internal" not in text and "\n4\n" not in text
    assert text.count(REFUND) == 4


def test_docx_headings_paragraphs_list_and_table_in_order():
    text = one("guide.docx", docx_bytes())
    assert text == (
        f"# Refund guide\n\n{REFUND}\n\n# Fees\n\n"
        "- A change fee of 12 EUR applies to flexible tickets.\n\n"
        + "\n".join(TABLE_ROWS)
        + f"\n\n## Contacts\n\n{DESK}\n"
    )
    headings = [h for _, h, _ in chunk_document("guide", text)]
    assert headings == ["", "Fees", "Contacts"]  # the chunker reads the sections


def test_html_main_content_without_navigation_or_footer():
    text = one("refunds.html", HTML)
    assert text.startswith("# Refund policy\n\n") and "\n## Fees\n" in text
    assert f"{REFUND} {DESK}" in text
    assert "\n".join(TABLE_ROWS) in text
    for boilerplate in ("About us", "Timetable", "Login", "Copyright", "Cookies"):
        assert boilerplate not in text


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.md", b"# Title\n\n## Part\n\nBody text.\n", "# Title\n\n## Part\n\nBody text.\n"),
        ("a.txt", "Caf\u00e9 opens at 7.\r\n".encode(), "Caf\u00e9 opens at 7.\n"),
        ("a.txt", "Caf\u00e9 au lait costs 3 EUR.\n".encode("cp1252"), "Caf\u00e9 au lait costs 3"),
        ("a.txt", "\ufeffBOM text.\n".encode("utf-16"), "BOM text.\n"),
        (
            "a.csv",
            b"Item,Price,Days\nAdult ticket,42 EUR,14\nChild ticket,21 EUR,7\n",
            TABLE_ROWS[0],
        ),
        ("a.csv", b"Item;Price\nAdult ticket;42 EUR\n", "Item: Adult ticket; Price: 42 EUR.\n"),
        (
            "a.tsv",
            b"Item\tNote\nFlex\t\nSaver\tNo refund.\n",
            "Item: Flex.\nItem: Saver; Note: No refund.\n",
        ),
    ],
)
def test_markdown_text_and_csv(name, data, expected):
    assert expected in one(name, data)


def test_csv_rows_are_lines():
    text = one("prices.csv", b"Item,Price,Days\nAdult ticket,42 EUR,14\nChild ticket,21 EUR,7\n")
    assert text == "\n".join(TABLE_ROWS) + "\n"


@pytest.mark.parametrize(
    ("stem", "slug"),
    [("Refund Policy 2024", "refund_policy_2024"), ("Ångström—notes", "angstrom_notes"),
     ("../../etc/passwd", "etc_passwd"), ("???", "document"), ("a" * 120, "a" * 80)],
)  # fmt: skip
def test_slug_is_a_safe_document_id(stem, slug):
    assert slugify(stem) == slug


def test_ids_are_unique_and_come_from_the_file_stem(tmp_path):
    (tmp_path / "Refund Policy.md").write_text("# A\n\nOne.\n")
    (tmp_path / "refund_policy.txt").write_text("Two.\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "refund-policy.csv").write_text("a,b\n1,2\n")
    (tmp_path / ".hidden.md").write_text("secret\n")
    result = ingest([tmp_path])
    assert result.problems == ()
    assert [(d.id, d.format) for d in result.docs] == [
        ("refund_policy", "markdown"),
        ("refund_policy_2", "text"),
        ("refund-policy", "csv"),
    ]


def test_zip_archive_members_become_documents():
    data = zip_bytes(
        {"docs/a.md": b"# A\n\nAlpha.\n", "b.html": HTML, "__MACOSX/._a.md": b"junk", "d/": b""}
    )
    result = ingest_files({"bundle.zip": data})
    assert result.problems == ()
    assert [(d.id, d.source) for d in result.docs] == [
        ("b", "bundle.zip:b.html"),
        ("a", "bundle.zip:docs/a.md"),
    ]


def test_progress_counts_files():
    calls = []
    ingest_files({"a.md": b"A.", "b.md": b"B."}, lambda *a: calls.append(a[:3]))
    assert calls == [("import", 0, 2), ("import", 1, 2), ("import", 2, 2)]
