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


def test_one_slider_change_over_the_websocket_reruns_the_page_with_the_new_value(site):
    from tools.streamlit_session import Session

    async def move_temperature():
        async with Session(site, timeout=120) as session:
            opened = await session.open("softmax", page_query(prompt=PROMPTS["cat"]))
            changed = await session.change_widget("Temperature", 2.5)
            missing = await session.change_widget("No such slider", 1.0)
            return opened, changed, missing

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        opened, changed, missing = pool.submit(asyncio.run, move_temperature()).result()
    assert opened.ok, opened.error
    assert "Temperature" in opened.sliders and opened.sliders["Temperature"].id
    assert changed.ok, changed.error
    assert changed.texts != opened.texts  # the entropy metric and sentences follow the new temperature
    assert not missing.ok and "No such slider" in missing.error


def test_a_button_click_over_the_websocket_runs_what_the_button_asks(site):
    from tools.streamlit_session import Session

    async def next_token():
        async with Session(site, timeout=300) as session:
            opened = await session.open("sampling", page_query(prompt=PROMPTS["dog"]))
            clicked = await session.click("Next token ▶")
            missing = await session.click("No such button")
            return opened, clicked, missing

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        opened, clicked, missing = pool.submit(asyncio.run, next_token()).result()
    assert opened.ok, opened.error
    assert clicked.ok, clicked.error
    hint = "Click **Next token**"  # shown until a token has been chosen
    assert any(hint in text for text in opened.texts) and not any(hint in text for text in clicked.texts)
    assert 0 < opened.first_seen["plotly_chart"] <= opened.seconds  # when the first chart arrived
    assert all(times == sorted(times) for times in clicked.updates.values())
    assert not missing.ok and "No such button" in missing.error


def test_the_attention_bench_prompt_is_80_tokens(lm):
    from explain import tokens
    from tools.site_bench import ATTENTION_80_PROMPT

    assert len(tokens.encode(lm, ATTENTION_80_PROMPT)) == 80
