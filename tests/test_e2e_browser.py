"""The real flow in headless Chromium against `streamlit run`: load an example profile, get a
recommendation, see plotly charts render, run the RAG prototype on the tiny corpus, ask it a
live question, download a report. A screenshot of each page lands in
test-artifacts/screenshots/ (gitignored).

Uses Debian's /usr/bin/chromium (never `playwright install`); skipped only when it is missing.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from e2e_app import CHROMIUM, ROOT, SHOTS, open_page, pick, serve_app, shot

RAG_TIMEOUT_S = (
    1200  # model load + index + ~18 answers of a 135M model on a shared, busy 2-core CPU
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    env = {"FTRAG_CORPORA_DIRS": str(ROOT / "tests" / "fixtures"), "TRANSFORMERS_OFFLINE": "1"}
    with serve_app(tmp, env) as url:
        yield {"url": url, "db": tmp / "ftrag.sqlite", "log": tmp / "streamlit.log"}


@pytest.fixture(scope="module")
def page(server):
    with open_page(server["url"], navigate=False, timeout_ms=60_000) as pg:
        yield pg


def _shot(page, name: str) -> None:
    shot(page, name)


def _goto(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    page.wait_for_load_state("networkidle")


def _wait_running_done(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )


def test_full_flow(server, page):
    from playwright.sync_api import expect

    timings = {}
    t0 = time.perf_counter()
    page.goto(server["url"])
    page.get_by_role("heading", name="Use-case profile").wait_for()
    timings["first_render_s"] = round(time.perf_counter() - t0, 2)

    # 1. Enter submits the form; the URL then reproduces the profile in a fresh session
    name = page.get_by_label("Name", exact=True)
    name.fill("Keyboard bot")
    name.press("Enter")
    page.get_by_text("applied").wait_for()
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.get_by_label("Name", exact=True)).to_have_value("Keyboard bot")
    other.close()

    # 2. a bad profile file names its bad field; then an example profile, one click away
    page.get_by_text("Upload or download a profile file").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[
            {
                "name": "bad.yaml",
                "mimeType": "application/x-yaml",
                "buffer": b"name: x\ntask: poetry\n",
            }
        ]
    )
    page.get_by_text("bad.yaml is not a valid profile").wait_for()
    assert page.get_by_text("bad.yaml: task").count() == 1
    _shot(page, "0_profile_bad_upload")
    page.get_by_role("button", name="Remove bad.yaml").click()
    page.get_by_text("bad.yaml is not a valid profile").wait_for(state="detached")
    page.get_by_role("button", name="internal wiki qa").click()
    page.get_by_text("Loaded example").wait_for()
    expect(page.get_by_label("Name", exact=True)).to_have_value(re.compile("wiki", re.I))
    _wait_running_done(page)
    _shot(page, "1_profile")

    # 3. the recommendation, with its plotly charts drawn
    _goto(page, "Recommendation")
    page.get_by_text("Recommended strategy").wait_for()
    page.locator(".js-plotly-plot").nth(1).wait_for()
    assert page.locator(".js-plotly-plot .plot-container").count() >= 2
    _wait_running_done(page)
    _shot(page, "2_recommendation")

    # 4. cost & freshness
    _goto(page, "Cost & freshness")
    page.get_by_text("Break-even").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    _wait_running_done(page)
    _shot(page, "3_cost")

    # 5. the RAG prototype on the tiny corpus, run in the background
    _goto(page, "Prototype")
    page.get_by_text("Demo corpus").first.wait_for()
    pick(page, "Demo corpus", "tiny_corpus")
    page.get_by_text("3 documents").wait_for()
    t1 = time.perf_counter()
    page.get_by_role("button", name="Run prototype").click()
    page.get_by_text("Job ").first.wait_for()
    page.get_by_text("running").first.wait_for()
    _shot(page, "4a_prototype_running")  # the polled progress panel; the page stays usable
    page.get_by_text("Results on").wait_for(timeout=RAG_TIMEOUT_S * 1000)
    timings["rag_run_s"] = round(time.perf_counter() - t1, 1)
    page.locator('[data-testid="stMetric"]').filter(has_text="RAG").first.wait_for()
    page.locator(".js-plotly-plot").nth(1).wait_for()
    _wait_running_done(page)
    _shot(page, "4_prototype")

    # 5b. a live question: the extractive reader answers with its cited source
    question = page.get_by_label("Question", exact=True)
    question.fill("What time does Glimmerbrook Bakery open?")
    question.press("Enter")  # the form submits on Enter
    answer = page.locator('[data-testid="stAlert"]').filter(has_text="source")
    answer.wait_for(timeout=120_000)
    assert "06:15" in answer.inner_text() and "opening_hours" in answer.inner_text()
    assert "confidence" in answer.inner_text()  # the reader says how sure it is
    page.get_by_text("What the model was shown").click()
    page.get_by_text("opens at 06:15").first.wait_for()
    _shot(page, "4b_ask")

    # 5c. an off-topic question is not dressed up as an answer from the documents
    question.fill("What is the capital of France?")
    question.press("Enter")
    page.locator('[data-testid="stAlert"]').filter(has_text="Not in the documents").wait_for()
    # the earlier answer stays on screen, greyed, until the rerun ends; then it must be gone
    sourced = page.locator('[data-testid="stAlert"]').filter(has_text="source")
    expect(sourced).to_have_count(0, timeout=60_000)

    # 5d. the review plan under the answers, carried to the cost simulation
    page.get_by_role("button", name="Cost it over time").click()
    page.get_by_text("From the Prototype page:").wait_for(timeout=120_000)
    page.get_by_role("button", name="Stop costing this plan").wait_for()
    _wait_running_done(page)
    _shot(page, "3b_cost_review")

    # 6. the report, downloaded
    _goto(page, "Report")
    page.get_by_role("heading", name="Preview").wait_for(timeout=120_000)
    _wait_running_done(page)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download MD").click()
    path = dl.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert dl.value.suggested_filename.endswith(".md")
    assert "wiki" in text.lower()
    assert "review_share" in text  # the Cost page's review plan reached the report
    _shot(page, "5_report")

    # 7. history shows the saved run
    _goto(page, "History")
    page.get_by_role("tab", name="Prototype runs").click()
    page.get_by_role("button", name="Open run").wait_for()  # shown only when runs exist
    _shot(page, "6_history")

    (SHOTS / "timings.json").write_text(json.dumps(timings, indent=2))
    print("timings", timings)
