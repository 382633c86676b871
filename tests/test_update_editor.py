"""Freshness on the user's documents (issue 18.3): a document edited in the app becomes the
update's new version, the changed question gets its new answer, and an empty edit is refused."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

TINY = Path(__file__).parent / "fixtures" / "tiny_corpus"


def _script(tiny: str):
    import streamlit as st

    from prototype.corpus import load_corpus
    from ui.update_editor import apply_update

    corpus = load_corpus(tiny)
    corpus = corpus.__class__(corpus.name, corpus.root, corpus.docs, corpus.qa)  # no update yet
    key, out = apply_update("tiny", corpus)
    st.session_state["out"] = (key, dict(out.update_docs), dict(out.update_qa))


def _app() -> AppTest:
    at = AppTest.from_function(_script, args=(str(TINY),), default_timeout=30)
    at.run()
    assert not at.exception
    return at


def test_a_document_edited_in_the_app_becomes_the_update():
    at = _app()
    assert at.session_state["out"] == ("tiny", {}, {})  # nothing changed yet
    at.selectbox(key="w.update.edit_doc.tiny").set_value("opening_hours").run()
    box = at.text_area(key="w.update.edit_text.tiny.opening_hours")
    assert "06:15" in box.value
    box.set_value(box.value.replace("06:15", "07:00")).run()
    at.multiselect(key="w.update.changed.tiny").set_value(
        ["What time does Glimmerbrook Bakery open?"]
    ).run()
    at.text_input(key="w.update.answer.tiny.t1").set_value("07:00").run()
    assert not at.exception
    key, docs, qa = at.session_state["out"]
    assert key.startswith("tiny+update:")
    assert list(docs) == ["opening_hours"] and "07:00" in docs["opening_hours"].text
    assert qa["t1"].answer == "07:00"
    assert any("Replaces: opening_hours" in c.value for c in at.caption)


def test_an_emptied_document_is_refused_not_applied():
    at = _app()
    at.selectbox(key="w.update.edit_doc.tiny").set_value("staff").run()
    at.text_area(key="w.update.edit_text.tiny.staff").set_value("   ").run()
    assert at.session_state["out"][1] == {}
    assert any("an empty document is not an update" in w.value for w in at.warning)
