"""Shared by the browser tests: serve the app with `streamlit run` on a free port, and open it
in Debian's headless chromium (never `playwright install`)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"
# Without the background-networking flags chromium keeps dialling out on a closed network.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.contextmanager
def serve_app(tmp: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """The app's URL while a `streamlit run` process serves it (its log in tmp)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    full_env = {**os.environ, "FTRAG_DB": str(tmp / "ftrag.sqlite"), "HF_HUB_OFFLINE": "1"}
    full_env.update(env or {})
    log_path = tmp / "streamlit.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py")]
            + ["--server.headless", "true", "--server.port", str(port)]
            + ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
            + ["--server.fileWatcherType", "none"],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log_path.read_text()
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                        break
                except OSError:
                    assert time.monotonic() < deadline, "streamlit did not become healthy"
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def open_sessions(url: str, n: int = 1, navigate: bool = True, timeout_ms: int = 30_000):
    """`n` playwright pages on the app, each its own browser context (its own Streamlit
    session), once each first page has rendered (or blank pages when `navigate` is False, for
    a test that times the first render itself)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        contexts = [
            browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            for _ in range(n)
        ]
        pages = [c.new_page() for c in contexts]
        for page in pages:
            page.set_default_timeout(timeout_ms)
            if navigate:
                page.goto(url)
                page.get_by_role("heading", name="Use-case profile").wait_for()
        try:
            yield pages
        finally:
            for c in contexts:
                c.close()
            browser.close()


@contextlib.contextmanager
def open_page(url: str, navigate: bool = True, timeout_ms: int = 30_000):
    """One page on the app (see `open_sessions`)."""
    with open_sessions(url, 1, navigate, timeout_ms) as pages:
        yield pages[0]


def idle(page) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def pick(page, box_label: str, option: str, tries: int = 5) -> None:
    """Choose `option` in the selectbox labelled `box_label`. A script rerun that lands while
    the list is open closes it again (seen once in CI, two browsers on 2 busy cores), so the
    list is reopened until the option shows, and the last try fails with playwright's message."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=box_label)
    item = page.get_by_role("option", name=option, exact=True)
    for _ in range(tries - 1):
        idle(page)
        box.click()
        try:
            item.click(timeout=5_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    idle(page)
    box.click()
    item.click()


def goto(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    idle(page)


def full_page_shot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main container, so the viewport is
    stretched to the content's height for the shot, then restored."""
    page.wait_for_timeout(500)  # let plotly finish its transitions
    size = page.viewport_size
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
        " return m ? m.scrollHeight + 120 : 0; }"
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    full_page_shot(page, SHOTS / f"{name}.png")
