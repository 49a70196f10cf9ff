"""WCAG 2.1 AA in real Chromium, offline: axe-core on every page of the walk, at 1440 and 390 px,
in every language, must find nothing; and the token colours stay apart for a deuteranope.

One server and one browser for the whole file: each language opens every page at once, one tab
each (the pages share the server's cached forward pass), then axe runs on each at both widths.
Each page opens with the prompt its own tests stress it with (`PROMPTS`: emoji, CJK, Arabic, a
small-models preset); on the pages in `TABLE_PAGES` every "show as table" is then opened and axe
runs again at both widths. These are the only axe scans of those pages: a page's own test file
used to load it eight more times for the same check. Each page's findings are reported by their
own test, so a failure names the page at fault.

The same visits check the layout a screenshot would show (`layout_problems`), at both widths: no
chart text or table cell is cut by a box around it, no chart's title sits on its legend, its plot or
its tick labels (the figures are the same for every screen, so a long title must wrap), and no table
is wider than its box. Closed expanders holding a table or a chart are opened for it first (and their
opening animation waited out).
"""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from PIL import Image

from tests.accessibility import OPEN_EVERY_EXPANDER, axe_violations, violations_with_every_table_open
from tests.browser import ARTIFACTS, block_the_internet, clipped_texts, wait_until_idle
from ui.i18n import LANGUAGES
from ui.rnn_vs_transformer import PRESETS as SMALL_MODEL_PRESETS
from ui.walk import WALK

pytestmark = pytest.mark.browser

WIDTHS = (1440, 390)
MAX_HEIGHT = 24_000  # tall enough for the longest page (Inside a layer at 390 px), so axe sees it all
# The prompt each page is checked with (the default prompt elsewhere).
PROMPTS = {
    "home": "I love pizza 🍕 because",
    "tokenization": "Tokenization splits unbelievable words 🍕 今天 مرحبا",
    "inside_layer": "The cat sat on the mat because it was warm.",
    "rnn_vs_transformer": SMALL_MODEL_PRESETS["The shiny key"],
    "softmax": "The capital of France is",
}
TABLE_PAGES = ("softmax",)  # pages scanned a second time with every "show as table" open
# How many charts a complete page draws for its prompt (fewer means a section failed to draw).
CHARTS = {"inside_layer": range(13, 100), "rnn_vs_transformer": range(8, 9)}
# |ΔR| + |ΔG| + |ΔB| between next-door chips as simulated: ui.palette.TINTS keep ≥ 60 apart
# (Machado et al.'s deuteranopia matrix), two of the older pastel chips only 15.
MIN_CHIP_DIFFERENCE = 40
MAIN_HEIGHT = "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
# Texts that must not be cut: every chart's, and every st.table cell.
CUTTABLE = '[data-testid="stPlotlyChart"] svg text, [data-testid="stMain"] [data-testid="stTable"] :is(th, td)'
# Opens the closed expanders that hold an st.table or a chart (their content is laid out only once
# open; a chart hidden in a closed one keeps the width it had when the window was wider): how many it opened.
OPEN_TABLE_EXPANDERS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stExpander"] details:not([open])')]
    .filter(d => d.querySelector('[data-testid="stTable"], [data-testid="stPlotlyChart"]')).map(d => d.querySelector('summary').click()).length"""
# Resolves once every finite animation and transition (an expander opening) has ended: waits a frame
# for the click to start them, and again for any started while waiting (an expander cancels its
# first animation and starts another once its content is measured).
MOTION_ENDED = """async () => {
    const running = () => document.getAnimations().filter(a => a.playState === 'running' && a.effect
        && a.effect.getComputedTiming().endTime !== Infinity);
    await new Promise(frame => requestAnimationFrame(() => requestAnimationFrame(frame)));
    for (let left = running(); left.length; left = running())
        await Promise.all(left.map(a => a.finished.catch(() => null)));
    return true;
}"""
# A chart's title (and prompt line) on its legend, its plot area or a tick label; a table wider than its box.
OVERLAPS = """() => {
    const boxes = (root, selector) => [...root.querySelectorAll(selector)].map(e => e.getBoundingClientRect())
        .filter(r => r.width > 0 && r.height > 0);
    const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].flatMap(chart => {
        const titles = boxes(chart, 'text.gtitle, text.gtitle-subtitle');
        const below = boxes(chart, 'g.legend > rect.bg, .draglayer .nsewdrag, g[class$="tick"] > text, text.xtitle');
        const name = (chart.querySelector('text.gtitle') || {textContent: 'an untitled chart'}).textContent;
        return titles.some(t => below.some(b => meet(t, b))) ? [`title on its legend, plot or ticks: ${name}`] : [];
    });
    const tables = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stTable"] table')].flatMap(table => {
        const box = table.parentElement;
        return box.clientWidth && box.scrollWidth > box.clientWidth + 1
            ? [`table ${box.scrollWidth} px wide in ${box.clientWidth} px: ${table.querySelector('th, td').textContent}`] : [];
    });
    return charts.concat(tables);
}"""


def page_url(site: str, stem: str, lang: str) -> str:
    query = f"lang={lang}" + (f"&prompt={quote(PROMPTS[stem])}" if stem in PROMPTS else "")
    return f"{site}/{'' if stem == WALK[0].stem else stem}?{query}"


def full_height(page, width: int) -> None:
    """Resize to `width`, then make the window as tall as the page, so axe sees all of it."""
    page.set_viewport_size({"width": width, "height": 1200})
    wait_until_idle(page)
    page.set_viewport_size({"width": width, "height": min(MAX_HEIGHT, page.evaluate(MAIN_HEIGHT))})
    wait_until_idle(page)


def problems_now(page, lang: str) -> list[str]:
    """axe's violations, a wrong `<html lang>` and any Python exception shown on the page."""
    found = axe_violations(page)
    if page.evaluate("document.documentElement.lang") != lang:
        found.append(f"html-lang: <html lang> is not {lang!r}")
    return found + [f"exception: {text[:200]}" for text in
                    page.locator('[data-testid="stException"]').all_inner_texts()]


def layout_problems(page) -> list[str]:
    """What a screenshot of the page would show as broken: texts cut (`CUTTABLE`), then `OVERLAPS`."""
    return [f"cut: {text[:80]}" for text in dict.fromkeys(clipped_texts(page, CUTTABLE))] + page.evaluate(OVERLAPS)


@pytest.fixture(scope="module")
def scans(site, browser) -> dict:
    """Every page in every language, computed once:
    (language, width, page stem) -> problems_now, (…, stem, "tables") -> the same with every table
    open (`TABLE_PAGES` only), (…, stem, "layout") -> layout_problems (with every table open),
    (language, stem, "charts") -> charts drawn, stem -> blocked URLs.

    One tab per page, loaded in every language in turn; each load is checked at 1440 px (sidebar
    open), then narrowed to 390 px (Streamlit folds the sidebar away, as on a phone).
    """
    contexts = {step.stem: browser.new_context(viewport={"width": WIDTHS[0], "height": 1200}) for step in WALK}
    try:
        pages, found = {}, {}
        for stem, context in contexts.items():
            found[stem] = block_the_internet(context)
            pages[stem] = context.new_page()
        for lang in LANGUAGES:
            for stem, page in pages.items():  # all at once: the server renders them side by side
                page.set_viewport_size({"width": WIDTHS[0], "height": 1200})
                page.goto(page_url(site, stem, lang), wait_until="commit", timeout=180_000)
            for stem, page in pages.items():
                for width in WIDTHS:
                    full_height(page, width)
                    found[(lang, width, stem)] = problems_now(page, lang)
                    if page.evaluate(OPEN_TABLE_EXPANDERS):
                        page.evaluate(MOTION_ENDED)
                    found[(lang, width, stem, "layout")] = layout_problems(page)
                found[(lang, stem, "charts")] = page.locator('[data-testid="stPlotlyChart"]').count()
                if stem in TABLE_PAGES:
                    page.evaluate(OPEN_EVERY_EXPANDER)
                    wait_until_idle(page)
                    for width in WIDTHS:
                        full_height(page, width)
                        found[(lang, width, stem, "tables")] = violations_with_every_table_open(page)
                        page.screenshot(path=str(ARTIFACTS / f"{stem}-{lang}-{width}-tables.png"))
        return found
    finally:
        for context in contexts.values():
            context.close()


@pytest.mark.parametrize("stem", [step.stem for step in WALK])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_axe_finds_no_wcag_violation(scans, lang, width, stem):
    found = scans[(lang, width, stem)]
    assert found == [], f"{stem} in {lang} at {width} px:\n" + "\n".join(found)


@pytest.mark.parametrize("stem", [step.stem for step in WALK])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_nothing_is_cut_or_overlapping(scans, lang, width, stem):
    found = scans[(lang, width, stem, "layout")]
    assert found == [], f"{stem} in {lang} at {width} px:\n" + "\n".join(found)


@pytest.mark.parametrize("stem", TABLE_PAGES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_axe_finds_no_wcag_violation_with_every_table_open(scans, lang, width, stem):
    found = scans[(lang, width, stem, "tables")]
    assert found == [], f"{stem} in {lang} at {width} px, every table open:\n" + "\n".join(found)


@pytest.mark.parametrize("stem", list(CHARTS))
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_chart_of_the_page_is_drawn(scans, lang, stem):
    assert scans[(lang, stem, "charts")] in CHARTS[stem]


def test_no_page_asks_the_internet_for_anything(scans):
    assert {step.stem: scans[step.stem] for step in WALK} == {step.stem: [] for step in WALK}


def test_token_colours_stay_apart_with_deuteranopia(site, browser):
    """Home's token chips, seen as a deuteranope sees them (Chromium's own simulation): next-door
    chips still differ in colour (their ids and borders separate them too)."""
    context = browser.new_context(viewport={"width": 1440, "height": 1600})
    block_the_internet(context)
    page = context.new_page()
    try:
        page.goto(f"{site}/?prompt={quote('The capital of France is Paris')}")
        wait_until_idle(page)
        page.context.new_cdp_session(page).send("Emulation.setEmulatedVisionDeficiency", {"type": "deuteranopia"})
        page.wait_for_timeout(300)
        png = page.screenshot(path=str(ARTIFACTS / "deuteranopia-home-1440.png"))
        image = Image.open(io.BytesIO(png)).convert("RGB")
        row = page.locator('[data-testid="stMain"] div[dir]:has(> span[title^="token #"])').first  # the prompt's
        chips = row.locator(':scope > span[title^="token #"]')
        assert chips.count() >= 5
        seen = []
        for index in range(chips.count()):
            box = chips.nth(index).bounding_box()
            seen.append(image.getpixel((int(box["x"] + 2), int(box["y"] + box["height"] / 2))))  # left padding
        for left, right in zip(seen, seen[1:]):
            assert sum(abs(a - b) for a, b in zip(left, right)) >= MIN_CHIP_DIFFERENCE, (left, right)
    finally:
        context.close()


# The longest transition or animation on the page, in seconds (computed styles of every element).
LONGEST_MOTION = """() => Math.max(...[...document.querySelectorAll('*')].flatMap(e => {
    const s = getComputedStyle(e);
    return [s.transitionDuration, s.animationDuration].flatMap(d => d.split(',').map(parseFloat));
}))"""


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_nothing_moves_for_visitors_who_ask_for_reduced_motion(site, browser, motion):
    context = browser.new_context(viewport={"width": 1440, "height": 1200}, reduced_motion=motion)
    block_the_internet(context)
    page = context.new_page()
    try:
        page.goto(f"{site}/sampling")
        wait_until_idle(page)
        longest = page.evaluate(LONGEST_MOTION)
        if motion == "reduce":
            assert longest <= 0.001
        else:
            assert longest >= 0.1  # Streamlit's own widgets do animate otherwise
    finally:
        context.close()
