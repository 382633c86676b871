"""The live demo in a real browser (headless Chromium against `streamlit run`), issue 19:
- the Prototype page's default run (quick, recommended strategy) on the demo corpus streams
  answers before its full table appears; the times go to test-artifacts/screenshots/
  demo_timings.json and the README (timings are recorded, never asserted: the guide keeps
  them out of asserts, and a shared CI core would make them flaky);
- two browser sessions start a job at once: each gets its own results, one waits its turn;
- the Report page's PDF button delivers a real PDF.

Uses Debian's /usr/bin/chromium (never `playwright install`); skipped when it is missing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from e2e_app import (
    CHROMIUM,
    ROOT,
    SHOTS,
    goto,
    idle,
    open_page,
    open_sessions,
    pick,
    serve_app,
    shot,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
RUN_TIMEOUT_MS = 600_000  # a generous ceiling for a shared, busy CI core; not a target


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e_demo")
    env = {"FTRAG_CORPORA_DIRS": str(ROOT / "tests" / "fixtures")}
    with serve_app(tmp, env) as url:
        yield {"url": url, "db": tmp / "ftrag.sqlite"}


def _pick(page, corpus: str) -> None:
    pick(page, "Demo corpus", corpus)
    idle(page)


def test_default_run_streams_answers_then_the_full_table(server):
    with open_page(server["url"]) as page:
        goto(page, "Prototype")
        _pick(page, "aurora_handbook")
        # the recommended strategy (RAG for the default profile) and the quick run are preset
        page.get_by_text("54 questions per row").wait_for()
        page.get_by_text("Expected run time").wait_for()
        t0 = time.perf_counter()
        page.get_by_role("button", name="Run prototype").click()
        page.get_by_text("answers so far").first.wait_for(timeout=RUN_TIMEOUT_MS)
        first = time.perf_counter() - t0
        shot(page, "demo_streaming")
        page.get_by_text("Results on").wait_for(timeout=RUN_TIMEOUT_MS)
        table = time.perf_counter() - t0
        idle(page)
        shot(page, "demo_results")
        assert first < table  # answers were on screen before the run finished
        assert page.get_by_text("RAG, extractive span search").first.is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = {"first_answers_s": round(first, 1), "full_table_s": round(table, 1)}
    (SHOTS / "demo_timings.json").write_text(json.dumps(out, indent=2))
    print("demo timings", out)


def test_two_sessions_run_jobs_at_once(server):
    with open_sessions(server["url"], 2) as (a, b):
        for page in (a, b):
            goto(page, "Prototype")
            _pick(page, "tiny_corpus")
            page.get_by_text("3 documents").wait_for()
        a.get_by_role("button", name="Run prototype").click()
        b.get_by_role("button", name="Run prototype").click()
        for page in (a, b):
            page.get_by_text("Results on tiny_corpus").wait_for(timeout=RUN_TIMEOUT_MS)
            idle(page)
        # each session saw its own job, and both runs were saved
        ids = {p.get_by_text("Job ").first.inner_text() for p in (a, b)}
        assert len(ids) == 2
    from pipeline.store import Store

    assert len(Store(server["db"]).list_runs()) >= 2


def test_report_pdf_button_delivers_a_pdf(server):
    with open_page(server["url"]) as page:
        goto(page, "Report")
        page.get_by_role("heading", name="Preview").wait_for(timeout=120_000)
        page.get_by_role("button", name="Prepare PDF").click()
        button = page.get_by_role("button", name="Download PDF")
        button.wait_for(timeout=120_000)
        with page.expect_download() as dl:
            button.click()
        data = Path(dl.value.path()).read_bytes()
        assert dl.value.suggested_filename.endswith(".pdf")
        assert data[:5] == b"%PDF-" and len(data) > 5_000
