"""Site-level measurements for `python -m explain.bench` (run as a separate process).

These need a real `streamlit run` server, Chromium, a websocket client and AppTest, which the
`explain` library must not import; explain.bench runs this script and merges the JSON it prints:
- cold_start_s: fresh server, converted-model cache present → Home shows predictions in Chromium;
- first_start_s: the same with an empty cache (the GGUF is converted first);
- rss_mb: the server's resident memory after one Chromium visitor has opened every page (which
  also takes Streamlit out of pages-directory mode, so deep links run app.py from then on);
- concurrent_p50_ms / concurrent_p95_ms / concurrent_errors / concurrent_rss_growth_mb:
  BENCH_SESSIONS (30) sessions at once, each opening the Softmax page (Home if absent) with its own
  prompt, right after the visit above. concurrent_client = "websocket": the sessions are not
  browsers but tools/streamlit_session.py, which speaks the frontend's websocket protocol, so the
  figures are the server's cost (connect → end of the run that rendered the page, Plotly chart
  received) without 30 Chromium renderers competing for the same cores. An `exception` element, a
  failed run or the timeout is an error; the RSS growth is the server's, after minus before;
- forwards_per_revisit: model forward calls when every page is opened again with the same prompt
  and model (AppTest, in-process; must be 0).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.streamlit_session import open_page, page_query  # noqa: E402
from ui.walk import WALK  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

PAGES = [step.stem for step in WALK]
PREDICTION_SELECTOR = '[data-testid="stPlotlyChart"] svg text'
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "30"))


def _start_server(env: dict) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, **env, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return process, url, started
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("streamlit exited")
            time.sleep(0.05)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _page_url(url: str, page: str, prompt: str | None = None) -> str:
    path = "" if page == "home" else page
    return f"{url}/{path}" + (f"?prompt={quote(prompt)}" if prompt else "")


async def _wait_idle(page, timeout_ms: int = 600_000) -> None:
    await page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout_ms)
    await page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   return app && app.getAttribute('data-test-script-state') === 'notRunning'
                       && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0; }""",
        timeout=timeout_ms,
    )


async def _start_to_predictions(env: dict) -> float:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        process, url, started = _start_server(env)
        try:
            page = await browser.new_page()
            await page.goto(url, timeout=600_000)
            await page.wait_for_selector(PREDICTION_SELECTOR, timeout=600_000)
            return time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(10)
            await browser.close()


async def _visit_all_then_crowd() -> dict:
    from playwright.async_api import async_playwright

    results: dict = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        process, url, _ = _start_server({})
        try:
            page = await browser.new_page()
            for name in PAGES:
                await page.goto(_page_url(url, name), timeout=600_000)
                await _wait_idle(page)
            await page.close()
            results["rss_mb"] = round(_rss_mb(process.pid))

            crowd_page = "softmax" if "softmax" in PAGES else "home"
            before = _rss_mb(process.pid)
            visits = await asyncio.gather(*(
                open_page(url, "" if crowd_page == "home" else crowd_page,
                          page_query(prompt=f"Student number {i} thinks the answer is"))
                for i in range(SESSIONS)
            ))
            times = sorted(visit.seconds * 1000 for visit in visits)
            errors = sum(not visit.ok for visit in visits)
            for visit in visits:
                if not visit.ok:
                    print(f"concurrent session failed: {visit.error}", file=sys.stderr)
            results["concurrent_page"] = crowd_page
            results["concurrent_p50_ms"] = round(statistics.median(times))
            results["concurrent_p95_ms"] = round(times[int(0.95 * (len(times) - 1))])
            results["concurrent_errors"] = errors
            results["concurrent_rss_growth_mb"] = round(_rss_mb(process.pid) - before)
            results["concurrent_client"] = "websocket"
        finally:
            process.terminate()
            process.wait(10)
            await browser.close()
    return results


def forwards_per_revisit() -> int:
    """Open every page, then open them all again with the same prompt: count forward calls."""
    from streamlit.testing.v1 import AppTest

    from explain import models
    from ui import state

    from explain import fast_decode

    lm = state.get_model(models.EMBEDDED_MODEL)
    calls = 0
    original_forward = lm.model.forward
    original_step = fast_decode.LlamaDecoder.step  # the lean decoder's steps are forwards too

    def counting_forward(*args, **kwargs):
        nonlocal calls
        calls += 1
        return original_forward(*args, **kwargs)

    def counting_step(self, *args, **kwargs):
        nonlocal calls
        calls += 1
        return original_step(self, *args, **kwargs)

    def visit_all() -> None:
        for name in PAGES:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
            at.session_state["prompt"] = "The cat sat on the mat because it was"
            at.switch_page(f"views/{name}.py")
            at.run()

    lm.model.forward = counting_forward
    fast_decode.LlamaDecoder.step = counting_step
    try:
        visit_all()
        calls = 0
        visit_all()
    finally:
        lm.model.forward = original_forward
        fast_decode.LlamaDecoder.step = original_step
    return calls


def main() -> int:
    results: dict = {}
    results["cold_start_s"] = round(asyncio.run(_start_to_predictions({})), 2)
    with tempfile.TemporaryDirectory(prefix="llm-explainer-empty-cache-") as empty:
        results["first_start_s"] = round(asyncio.run(_start_to_predictions({"LLM_EXPLAINER_CACHE": empty})), 2)
    results.update(asyncio.run(_visit_all_then_crowd()))
    results["forwards_per_revisit"] = forwards_per_revisit()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
