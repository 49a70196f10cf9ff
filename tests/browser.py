"""Helpers for real-browser tests: serve the app with `streamlit run`, drive Debian's Chromium.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium; every request
that leaves localhost is aborted, which proves the page works with no internet.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(timeout: float = 120):
    """Start `streamlit run app.py` headless on a free port; yield its base URL."""
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / f"streamlit-{port}.log", "w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def block_the_internet(context) -> list[str]:
    """Abort every request that leaves localhost; return the list of blocked URLs."""
    blocked: list[str] = []

    def route(route):
        host = urlparse(route.request.url).hostname or ""
        if host in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return blocked


def wait_until_idle(page, timeout_ms: int = 180_000) -> None:
    """Wait until Streamlit is connected, its script has finished and no skeleton is left."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout_ms
    )
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0;
        }""",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(500)  # let Plotly finish drawing


def click_and_wait(page, button: str) -> None:
    """Press the button named `button` and wait for the rerun it starts to end."""
    page.get_by_role("button", name=button).click()
    page.wait_for_timeout(1000)  # let the rerun start before waiting for it to end
    wait_until_idle(page)


def open_page(browser, url: str, width: int = 1440, height: int = 2400):
    """A new offline browser context at `url`, waited until idle: (context, page, blocked URLs).

    Close the context when done. Page URLs: `{site}/tokenization?prompt=…` (st.Page url paths).
    """
    context = browser.new_context(viewport={"width": width, "height": height})
    blocked = block_the_internet(context)
    page = context.new_page()
    page.goto(url)
    wait_until_idle(page)
    return context, page, blocked


CLIPPED_TEXTS = """selector => [...document.querySelectorAll(selector)].flatMap(text => {
    const box = text.getBoundingClientRect();
    if (!box.width || !text.textContent.trim()) return [];
    for (let e = text.parentElement; e && e.getAttribute('data-testid') !== 'stMain'; e = e.parentElement) {
        if (getComputedStyle(e).overflow === 'visible') continue;
        const frame = e.getBoundingClientRect();
        if (box.left < frame.left - 1 || box.right > frame.right + 1 || box.top < frame.top - 1 || box.bottom > frame.bottom + 1)
            return [text.textContent];
    }
    return [];
})"""


def clipped_texts(page, selector: str) -> list[str]:
    """The texts matching `selector` that some box around them (an SVG, a chart's element) cuts:
    each must lie inside every ancestor that clips its overflow, up to the page's scroll area."""
    return page.evaluate(CLIPPED_TEXTS, selector)
