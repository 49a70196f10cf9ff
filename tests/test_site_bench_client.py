"""The websocket client behind site_bench's concurrency figures, against the real `streamlit run` server.

Two sessions open the Softmax page at once, each with its own prompt in the URL, as
tools/site_bench.py does with 30: both must end with the page rendered for their own prompt.
"""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from tools.streamlit_session import open_page, page_query

pytestmark = pytest.mark.browser  # no Chromium, but it serves the site like the browser tests

# One distinctive, single-token word each, so the page's token strip shows it whole.
PROMPTS = {"cat": "The cat sat on the mat because it was", "dog": "The dog ran to the park because it was"}


def test_two_websocket_sessions_each_render_the_softmax_page_for_their_prompt(site):
    async def crowd():
        # Open the page once first, as site_bench's Chromium visit does. In a fresh server that
        # takes two visits: Streamlit is still in pages-directory mode, so the first deep link only
        # switches that off and asks the browser to reload. The rendered visit also does the
        # first-use imports (pandas for st.dataframe), which can fail when two threads race.
        if not (await open_page(site, "softmax", timeout=120)).rendered:
            await open_page(site, "softmax", timeout=120)
        sessions = [open_page(site, "softmax", page_query(prompt=p), timeout=120) for p in PROMPTS.values()]
        return await asyncio.gather(*sessions)

    # A thread of its own: the session's Playwright browser keeps an event loop running here.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        visits = pool.submit(asyncio.run, crowd()).result()
    for visit, word, other in zip(visits, PROMPTS, reversed(PROMPTS)):
        assert visit.ok, visit.error
        assert visit.elements["plotly_chart"] >= 1
        page_html = " ".join(visit.texts)
        assert word in page_html and other not in page_html, f"{word!r} session got: {page_html[:2000]}"
