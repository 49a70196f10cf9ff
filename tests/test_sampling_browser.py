"""The Sampling and Home pages in real headless Chromium, offline: filter chart, next-token button,
beam tree on its button, tokens streamed as they are chosen, a new prompt stopping the old run."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from tests.browser import ARTIFACTS, block_the_internet, click_and_wait, open_page, wait_until_idle

pytestmark = pytest.mark.browser

OUTLINE = "2px solid #D55E00"  # how token_spans outlines a generated token
# Logs, on every DOM change, the script state and the first strip with generated (outlined) tokens:
# how many it shows and its text. Entries are kept only when one of those changes.
RECORDER = """() => {
    window.__strips = [];
    const record = () => {
        const app = document.querySelector('[data-testid="stApp"]');
        const strip = [...document.querySelectorAll('[data-testid="stHtml"]')]
            .find(h => h.innerHTML.includes('%s'));
        const entry = {
            state: app ? app.getAttribute('data-test-script-state') : null,
            n: strip ? strip.innerHTML.split('%s').length - 1 : 0,
            text: strip ? strip.innerText : '',
            t: Math.round(performance.now()),
        };
        const last = window.__strips[window.__strips.length - 1];
        if (!last || last.state !== entry.state || last.n !== entry.n || last.text !== entry.text) {
            window.__strips.push(entry);
        }
    };
    new MutationObserver(record).observe(document,
        {subtree: true, childList: true, attributes: true, characterData: true});
    record();
}""" % (OUTLINE, OUTLINE)


@pytest.mark.parametrize("width, prompt", [(1440, "The capital of France is"), (390, "The capital of Italy is")])
def test_sampling_page_offline(site, browser, width, prompt):
    # One prompt per width: a beam tree someone already drew for a prompt is shown at once.
    context, page, _ = open_page(browser, f"{site}/sampling?prompt={quote(prompt)}",
                                 width=width, height=4200)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("Sampling: choosing the next token").is_visible()
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 1  # filters; the beam tree waits
        for clicks in (1, 2):
            click_and_wait(page, "Next token ▶")
            text = page.locator('[data-testid="stHtml"]:not(:has([role="region"]))').first.inner_html()  # the strip, not a table
            assert text.count(OUTLINE) == clicks  # new tokens are outlined
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stDataFrame"]').count() == 1  # the trace table
        click_and_wait(page, "Run beam search ▶")
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 2  # filters + beam tree
        page.screenshot(path=str(ARTIFACTS / f"sampling-{width}.png"), full_page=True)
    finally:
        context.close()


def test_generate_ten_shows_each_token_while_it_runs(site, browser):
    context, page, _ = open_page(browser, f"{site}/sampling?prompt={quote('My favourite animal is')}",
                                 height=2400)
    try:
        page.evaluate(RECORDER)
        click_and_wait(page, "Generate 10 ⏩")
        log = page.evaluate("window.__strips")
        final = log[-1]["n"]
        assert final >= 2 and page.locator('[data-testid="stException"]').count() == 0
        # Tokens appeared one by one while the script was still running, not all at the end.
        shown_while_running = {e["n"] for e in log if e["state"] == "running" and 0 < e["n"] < final}
        assert shown_while_running, log
    finally:
        context.close()


def test_a_new_prompt_stops_the_old_continuation_on_home(site, browser):
    old, new = f"A long walk on day {time.time_ns()} began", "Twinkle twinkle little"
    context = browser.new_context(viewport={"width": 1440, "height": 2400})
    block_the_internet(context)
    context.add_init_script(f"({RECORDER})()")  # recording from the first paint on
    page = context.new_page()
    try:
        page.goto(f"{site}/?prompt={quote(old)}")
        # Type the new prompt while the old one is still being read; submit it at the first token.
        box = page.locator('[data-testid="stSidebar"] textarea')
        box.fill(new)
        page.wait_for_function("() => window.__strips.some(e => e.n > 0)", polling=20, timeout=180_000)
        box.press("Control+Enter")
        submitted = page.evaluate("performance.now()")
        before = [e["n"] for e in page.evaluate("window.__strips") if e["t"] <= submitted]
        if max(before) >= 19:
            pytest.skip("the old continuation finished before the new prompt reached the server")
        page.wait_for_timeout(1000)
        wait_until_idle(page)
        log = page.evaluate("window.__strips")
        first_new = next(i for i, e in enumerate(log) if "Twinkle" in e["text"])
        assert log[-1]["n"] > 0 and "Twinkle" in log[-1]["text"]
        assert not any("walk" in e["text"] for e in log[first_new:])  # never beside the new prompt
        old_counts = [e["n"] for e in log if "walk" in e["text"]]
        assert max(old_counts) < 20  # the old run stopped: its continuation was never finished
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("width", [1440, 390])
@pytest.mark.parametrize("lang", ["en", "es", "fr", "zh"])
def test_sampling_page_has_no_axe_violations(site, browser, lang, width):
    """Issue 18: WCAG 2.1 AA on the whole page after every button (trace, comparison, beam tree) and
    with every "show as table" open, in every language. The same prompt and seed throughout, so
    only the first run writes the comparison and the beam tree; the others find them stored."""
    from tests.accessibility import violations_with_every_table_open

    buttons = {"en": ("Generate 10 ⏩", "Compare strategies ▶", "Run beam search ▶"),
               "es": ("Generar 10 ⏩", "Comparar estrategias ▶", "Ejecutar búsqueda en haz ▶"),
               "fr": ("En générer 10 ⏩", "Comparer les stratégies ▶", "Lancer la recherche en faisceau ▶"),
               "zh": ("生成 10 个 ⏩", "比较策略 ▶", "运行束搜索 ▶")}[lang]
    context, page, _ = open_page(browser, f"{site}/sampling?prompt={quote('Once upon a time')}&lang={lang}",
                                 width=width, height=9000)
    try:
        for name in buttons:
            click_and_wait(page, name)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 2  # filters + beam tree
        assert violations_with_every_table_open(page) == []
        if lang != "en":
            page.screenshot(path=str(ARTIFACTS / f"sampling-{lang}-{width}-run.png"))
    finally:
        context.close()


def test_guess_the_strategy_in_the_browser_shows_only_the_mystery_until_reveal(site, browser):
    """Issue 17: with the game on, the comparison's four columns stay hidden until Reveal."""
    context, page, _ = open_page(browser, f"{site}/sampling?prompt={quote('Once upon a time')}&sampling_game=true",
                                 height=4200)
    try:
        click_and_wait(page, "Compare strategies ▶")
        codes = page.locator('[data-testid="stMain"] [data-testid="stCode"]')
        assert codes.count() == 1  # the mystery text only
        assert page.get_by_role("button", name="Reveal the strategy").is_disabled()
        page.get_by_text("High temperature (T = 1.6)").first.click()  # a pick, by keyboard-reachable radio
        page.wait_for_timeout(800)
        wait_until_idle(page)
        page.get_by_role("button", name="Reveal the strategy").click()
        page.wait_for_timeout(800)
        wait_until_idle(page)
        assert codes.count() == 11  # revealed: greedy once + 3 strategies × 3 samples
        assert page.locator('[data-testid="stAlert"]').filter(has_text="wrote this text").count() == 1
        page.screenshot(path=str(ARTIFACTS / "sampling-game-revealed-1440.png"), full_page=True)
    finally:
        context.close()
