"""The Inside-a-layer page in real headless Chromium, offline: every section draws, the write button
records attention, a slider in one section leaves the others alone, screenshots at 1440 and 390 px;
on a phone no axis title is cut and no table is wider than the page."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.accessibility import OPEN_EVERY_EXPANDER
from tests.browser import ARTIFACTS, clipped_texts, open_page, wait_until_idle

pytestmark = pytest.mark.browser

CAT = "The cat sat on the mat because it was warm."


@pytest.mark.parametrize("width", [1440, 390])
def test_inside_layer_page_offline(site, browser, width):
    context, page, blocked = open_page(browser, f"{site}/inside_layer?prompt={quote(CAT)}",
                                       width=width, height=9000 if width > 800 else 16000)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("Inside a layer: the parts of a modern decoder").is_visible()
        assert page.get_by_text("9 query heads").first.is_visible()
        charts_before = page.locator('[data-testid="stPlotlyChart"]').count()
        assert charts_before >= 13
        page.get_by_role("button", name="Write greedily and record attention").click()
        page.wait_for_timeout(1000)
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("Writing token 1,").first.is_visible()
        assert page.locator('[data-testid="stPlotlyChart"]').count() == charts_before + 1
        page.screenshot(path=str(ARTIFACTS / f"inside-layer-{width}.png"), full_page=True)
        if width == 1440:
            # The norm's layer slider reruns its own section only: the written tokens stay on the page.
            page.locator('[data-testid="stSlider"] input[type="range"], [data-testid="stSlider"] [role="slider"]').first.focus()
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            wait_until_idle(page)
            assert page.get_by_text("entering layer 3").first.is_visible()
            assert page.get_by_text("Writing token 1,").first.is_visible()
            assert page.locator('[data-testid="stException"]').count() == 0
        assert not blocked, blocked
    finally:
        context.close()


def test_no_axis_title_is_cut_on_a_phone(site, browser):
    """Issue 20.2: every chart's axis titles lie inside the chart's SVG and its element at 390 px."""
    context, page, _ = open_page(browser, f"{site}/inside_layer?prompt={quote(CAT)}", width=390, height=16000)
    try:
        assert page.locator('[data-testid="stPlotlyChart"] text.xtitle').count() >= 10
        assert clipped_texts(page, '[data-testid="stPlotlyChart"] :is(text.xtitle, text.ytitle)') == []
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_no_table_is_wider_than_its_box_on_a_phone(site, browser, lang):
    """Issue 20.2: st.table's cells wrap (inside a word if need be) instead of scrolling sideways."""
    context, page, _ = open_page(browser, f"{site}/inside_layer?lang={lang}&prompt={quote(CAT)}", width=390, height=16000)
    try:
        page.evaluate(OPEN_EVERY_EXPANDER)
        page.wait_for_timeout(1500)
        widths = page.locator('[data-testid="stTable"]').evaluate_all(
            "tables => tables.map(t => { const box = t.querySelector('table').parentElement;"
            " return [box.scrollWidth, box.clientWidth]; })")
        assert len(widths) >= 8
        assert [w for w in widths if w[0] > w[1] + 1] == []
    finally:
        context.close()


def test_the_shared_key_heads_are_readable_on_a_projector(site, browser):
    """Issue 20.6: in presenter mode at 1280×720 the three heads' maps are stacked, so their large
    colour-bar and axis titles are not cut."""
    url = f"{site}/inside_layer?prompt={quote(CAT)}&present=true"
    context, page, _ = open_page(browser, url, width=1280, height=720)
    try:
        maps = ", ".join(f'.st-key-layer_gqa_head_{head} :is(text.xtitle, text.ytitle, .colorbar text)' for head in range(3))
        assert page.locator(maps).count() >= 9
        assert clipped_texts(page, maps) == []
    finally:
        context.close()
