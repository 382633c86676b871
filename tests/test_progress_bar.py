"""Ingestion and indexing in the app show one bar with an ETA (issue 18.4), and the memo that
replaced st.cache_resource for them builds each key once and keeps at most `size` entries."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _bar_script():
    import time

    import streamlit as st

    from ui.progress_bar import StageBar

    bar = StageBar("Indexing the documents")
    bar("index: embed", 0, 0)  # no total yet: nothing drawn
    bar("index: embed", 0, 100, {"cached": 40})
    time.sleep(0.05)
    bar("index: embed", 50, 100, {"cached": 40})
    st.session_state["shown"] = True


def test_stage_bar_shows_counts_reuse_and_an_eta():
    at = AppTest.from_function(_bar_script, default_timeout=10)
    at.run()
    assert not at.exception
    [bar] = at.get("progress")
    assert bar.proto.value == 50
    text = bar.proto.text
    assert "50 of 100" in text and "40 reused from disk" in text and "s left" in text


def _memo_script():
    import streamlit as st

    from ui.services import _Memo

    memo = st.session_state.setdefault("memo", _Memo(2))
    calls = st.session_state.setdefault("calls", [])

    def build(key):
        def run(bar):
            calls.append(key)
            bar("import", 1, 2)
            return key.upper()

        return run

    st.session_state["got"] = [memo.get(k, build(k), "x") for k in ("a", "b", "a", "c", "a")]


def test_memo_builds_each_key_once_and_evicts_the_oldest():
    at = AppTest.from_function(_memo_script, default_timeout=10)
    at.run()
    assert not at.exception
    assert at.session_state["got"] == ["A", "B", "A", "C", "A"]
    # "a" was used again before "c" arrived, so "b" is the one evicted
    assert at.session_state["calls"] == ["a", "b", "c"]
    assert list(at.session_state["memo"].items) == ["c", "a"]
    assert not at.get("progress")  # each build's bar is cleared when it ends
