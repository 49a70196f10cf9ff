"""The Inside-a-layer page in real headless Chromium, offline: every section draws, the write button
records attention, a slider in one section leaves the others alone, screenshots at 1440 and 390 px."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser import ARTIFACTS, open_page, wait_until_idle

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
