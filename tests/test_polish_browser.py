"""Classroom polish in real headless Chromium, offline: a phone (390 px, touch), a projector
(1280×720, presenter mode) and a desktop (1440 px). Screenshots go to tests/artifacts/."""

from __future__ import annotations

from urllib.parse import quote, unquote_plus

import pytest

from tests.browser import ARTIFACTS, block_the_internet, clipped_texts, wait_until_idle
from ui.walk import WALK

pytestmark = pytest.mark.browser

PROMPT = "The capital of France is"


def open_view(browser, url: str, width: int, height: int):
    """(context, page) at `url`; narrow views are a touch phone, as a student's is."""
    phone = width < 600
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone)
    block_the_internet(context)
    page = context.new_page()
    page.goto(url)
    wait_until_idle(page)
    return context, page


def overlaps(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] \
        and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


CHART_BOXES = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map(chart => {
    const box = e => e.getBoundingClientRect().toJSON();
    const button = chart.querySelector('.modebar-btn[data-title="Download plot as a PNG"]');
    const container = chart.closest('[data-testid="stElementContainer"]');
    const next = container && container.nextElementSibling;
    return {
        modebar: box(chart.querySelector('.modebar')),
        png: button ? box(button) : null,
        texts: [...chart.querySelectorAll('svg text')].map(box).filter(r => r.width > 0 && r.height > 0),
        plot: box(chart.querySelector('.js-plotly-plot')),
        next: next ? box(next) : null,
    };
})"""


@pytest.mark.parametrize("path", ["/", "/sampling"])
def test_mode_bar_covers_no_chart_text_on_a_phone(site, browser, path):
    context, page = open_view(browser, f"{site}{path}?prompt={quote(PROMPT)}", 390, 4200)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        charts = page.evaluate(CHART_BOXES)
        assert charts
        for chart in charts:
            assert chart["png"] is not None and chart["png"]["width"] > 0  # PNG export one tap away
            covered = [text for text in chart["texts"] if overlaps(chart["modebar"], text)]
            assert covered == []  # no title, legend or label under the mode bar
            if chart["next"]:
                assert chart["plot"]["y"] + chart["plot"]["height"] <= chart["next"]["y"] + 1
        page.screenshot(path=str(ARTIFACTS / f"polish-modebar-{path.strip('/') or 'home'}-390.png"))
    finally:
        context.close()


def test_prompt_is_editable_on_a_phone_without_opening_the_sidebar(site, browser):
    context, page = open_view(browser, f"{site}/sampling?prompt={quote(PROMPT)}", 390, 1400)
    try:
        bar = page.locator(".st-key-prompt_bar")
        assert bar.is_visible()
        assert f"Prompt: {PROMPT}" in bar.inner_text()
        sidebar_box = page.locator('[data-testid="stSidebar"] textarea').bounding_box()
        assert sidebar_box is None or sidebar_box["x"] + sidebar_box["width"] <= 0  # folded away
        bar.get_by_text("Prompt:").click()
        box = bar.locator("textarea")
        assert box.input_value() == PROMPT
        box.fill("Once upon a time")
        box.press("Control+Enter")
        page.wait_for_timeout(1000)
        wait_until_idle(page)
        assert page.locator('[data-testid="stSidebar"] textarea').input_value() == "Once upon a time"
        assert "prompt=Once+upon+a+time" in page.url or "prompt=Once%20upon%20a%20time" in page.url
        assert "Prompt: Once upon a time" in page.locator(".st-key-prompt_bar").inner_text()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "polish-prompt-bar-390.png"))
    finally:
        context.close()


def test_wide_screens_keep_the_prompt_in_the_sidebar_only(site, browser):
    context, page = open_view(browser, f"{site}/sampling?prompt={quote(PROMPT)}", 1440, 2600)
    try:
        assert not page.locator(".st-key-prompt_bar").is_visible()
        assert page.locator('[data-testid="stSidebar"] textarea').is_visible()
        page.screenshot(path=str(ARTIFACTS / "polish-sampling-1440.png"))
    finally:
        context.close()


def test_the_menu_offers_the_dark_theme(site, browser):
    context, page = open_view(browser, f"{site}/sampling?prompt={quote(PROMPT)}", 1440, 2600)
    try:
        page.locator('[data-testid="stMainMenu"]').click()
        page.locator('[data-testid="stMainMenuItem-theme-Dark"]').click()
        page.wait_for_timeout(1000)
        background = page.evaluate(
            "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor")
        red, green, blue = (int(v) for v in background[background.index("(") + 1:].rstrip(")").split(",")[:3])
        assert red + green + blue < 150  # a dark page
        page.screenshot(path=str(ARTIFACTS / "polish-sampling-dark-1440.png"))
    finally:
        context.close()


def test_share_popover_lists_exactly_what_the_link_keeps(site, browser):
    query = f"prompt={quote('The cat sat')}&sampling_strategy=Top-k&sampling_top_k=3"
    context, page = open_view(browser, f"{site}/sampling?{query}", 1440, 1600)
    try:
        page.get_by_text("Share this view").click()
        page.wait_for_timeout(500)
        text = page.locator('[data-testid="stPopoverBody"]').inner_text()
        for line in ("prompt: “The cat sat”", "strategy: “Top-k”", "k: “3”", "Not in the link"):
            assert line in text
        link = page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]').inner_text()
        assert "sampling_top_k=3" in link and "sampling_strategy=Top-k" in link
    finally:
        context.close()


def test_share_link_follows_a_control_that_reran_only_its_section(site, browser):
    """Issue 20.7: "Token to follow" lives in a section that reruns alone (st.fragment), which
    changes the URL but not the sidebar; opening the popover redraws its link from the controls as
    they are then (it showed the page's bare address before)."""
    context, page = open_view(browser, f"{site}/attention?prompt={quote('The capital of France is')}", 1440, 2400)
    try:
        follow = page.get_by_label("Token to follow")
        follow.fill("")
        follow.type("France")
        follow.press("Enter")
        wait_until_idle(page)
        assert "France" in follow.input_value()
        page.get_by_role("button", name="Share this view").first.click()
        wait_until_idle(page)
        link = page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]').inner_text()
        assert "attn_follow=" in link and "France" in unquote_plus(link)
    finally:
        context.close()


def test_counter_leaves_a_long_prompt_readable(site, browser):
    long_prompt = "The cat sat on the mat because it was warm. " * 12
    context, page = open_view(browser, f"{site}/?prompt={quote(long_prompt)}", 1440, 1200)
    try:
        area = page.locator('[data-testid="stSidebar"] [data-testid="stTextArea"]')
        area.locator("textarea").focus()  # the counter shows while typing
        counter = area.get_by_text(f"{len(long_prompt)}/4000")
        padding = area.locator("textarea").evaluate("e => parseFloat(getComputedStyle(e).paddingBottom)")
        assert counter.bounding_box()["height"] <= padding
    finally:
        context.close()


def test_presenter_mode_on_a_projector(site, browser):
    context, page = open_view(browser, f"{site}/sampling?prompt={quote(PROMPT)}&present=true", 1280, 720)
    try:
        chart = page.locator('[data-testid="stPlotlyChart"]').first
        chart.scroll_into_view_if_needed()
        sizes = chart.evaluate("c => [...c.querySelectorAll('g.textpoint text, text.bartext')]"
                               ".map(t => parseFloat(getComputedStyle(t).fontSize))")
        assert sizes and min(sizes) >= 18  # the bar labels are projector-size
        page.screenshot(path=str(ARTIFACTS / "polish-sampling-present-1280x720.png"))
    finally:
        context.close()


PRESENTER_MIN_PX = 16  # the smallest text a class must read off a projector (the body's is 21 px)
# Every text on the main area (a chart's too) drawn smaller than `min` px, as "size px: text". Text
# in an iframe (bertviz) is scaled by the frame's own zoom, so it is measured in the frame. Not text:
# KaTeX's zero-width struts (a 1 px "\u200b") and its MathML copy for screen readers (clipped away).
SMALL_TEXTS = """min => [...document.querySelectorAll('body *')].flatMap(e => {
    const own = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.replace(/\\u200b/g, '')).join('');
    if (!own.trim() || e.closest('[data-testid="stSidebar"], [data-testid="stHeader"], .modebar, .hoverlayer, '
                                 + '.katex-mathml, style, script')) return [];
    const box = e.getBoundingClientRect();
    const zoom = parseFloat(getComputedStyle(document.body).zoom) || 1;
    const size = parseFloat(getComputedStyle(e).fontSize) * zoom;
    return box.width > 0 && size < min ? [`${size.toFixed(1)} px: ${own.trim().slice(0, 60)}`] : [];
})"""
PRESENTER_CUTTABLE = ('[data-testid="stPlotlyChart"] svg text, [data-testid="stTable"] :is(th, td), '
                      '[data-testid="stMain"] :is(h1, h2, h3, p, li)')


def test_presenter_mode_shows_every_page_large_and_whole(site, browser):
    """Issue 20.6: at 1280×720 in presenter mode, on every page of the walk and a lesson step, all
    that a class reads (page text, chart text, tables, bertviz's head view, captions) is at least
    PRESENTER_MIN_PX and nothing is cut by its box. No data grid shows: it draws its cells on a
    canvas at 14 px, which the font check cannot see (ui.presenter.show_table draws st.table instead). One tab, page after page."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    block_the_internet(context)
    page = context.new_page()
    found = {}
    try:
        urls = {step.stem: f"{site}/{'' if step is WALK[0] else step.stem}?present=true" for step in WALK}
        urls["lesson"] = f"{site}/attention?present=true&lesson=3-where-it-looks&step=1"
        for name, url in urls.items():
            page.goto(url, timeout=180_000)
            wait_until_idle(page)
            small = [line for frame in page.frames for line in frame.evaluate(SMALL_TEXTS, PRESENTER_MIN_PX)]
            cut = [f"cut: {text[:60]}" for text in clipped_texts(page, PRESENTER_CUTTABLE)]
            errors = page.locator('[data-testid="stException"]').all_inner_texts()
            grids = ["data grid (14 px canvas text)" for grid in page.locator('[data-testid="stDataFrame"]').all()
                     if grid.is_visible()]
            found[name] = list(dict.fromkeys(small + cut + errors + grids))
            page.screenshot(path=str(ARTIFACTS / f"presenter-{name}-1280x720.png"), full_page=True)
    finally:
        context.close()
    assert found == {name: [] for name in found}


TITLE_BOXES = """chart => [...chart.querySelectorAll('text.gtitle, text.gtitle-subtitle, text.xtitle, text.ytitle')]
    .filter(t => t.getBoundingClientRect().width > 0)
    .map(t => ({name: t.textContent, ...t.getBoundingClientRect().toJSON()}))"""


def test_no_chart_title_sits_on_an_axis_title_on_a_phone(site, browser):
    """Issue 20.2: the follow chart's top axis title (above upright token labels) stays clear of
    the export title and prompt line."""
    context, page = open_view(browser, f"{site}/attention?prompt={quote('The cat sat on the mat because it was warm.')}",
                              390, 9500)
    try:
        for chart in page.locator('[data-testid="stPlotlyChart"]').all()[:3]:  # heatmap, gallery, follow
            boxes = chart.evaluate(TITLE_BOXES)
            assert [(a["name"], b["name"]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if overlaps(a, b)] == []
    finally:
        context.close()


@pytest.mark.parametrize("path", ["inside_layer", "attention", "softmax"])
def test_each_chart_s_prompt_and_model_lines_fit_a_phone(site, browser, path):
    """Issue 20.2/20.10: the export title's prompt line (cut at figures.EXPORT_PROMPT_COLUMNS) and the
    model's name, each on its own line, fit a 390 px chart: no box around them cuts them."""
    from tests.browser import clipped_texts

    prompt = "The history of the printing press begins in the fifteenth century"  # past the cut
    context, page = open_view(browser, f"{site}/{path}?prompt={quote(prompt)}", 390, 16000)
    try:
        subtitles = '[data-testid="stPlotlyChart"] text.gtitle-subtitle'
        assert page.locator(subtitles).count() >= 4
        assert clipped_texts(page, subtitles) == []
        page.screenshot(path=str(ARTIFACTS / f"subtitles-{path}-390.png"), clip={"x": 0, "y": 0, "width": 390, "height": 2400})
    finally:
        context.close()
