"""The Softmax page in real headless Chromium, offline: live numbers, the slider, screenshots."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser import ARTIFACTS, open_page, wait_until_idle

pytestmark = pytest.mark.browser


def temperature_slider(page):
    return page.locator('[data-testid="stSlider"]').filter(has_text="Temperature")


@pytest.mark.parametrize("width", [1440, 390])
def test_softmax_page_offline(site, browser, width):
    context, page, blocked = open_page(browser, f"{site}/softmax?prompt={quote('The capital of France is')}",
                                       width=width, height=3000)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("Softmax: from scores to probabilities").is_visible()
        assert "77.3%" in page.locator('[data-testid="stMetric"]').all_text_contents()[2]
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 4
        page.screenshot(path=str(ARTIFACTS / f"softmax-{width}.png"), full_page=True)
        if width == 1440:
            # Drag the temperature slider with the keyboard: the top probability changes.
            temperature_slider(page).locator('input[type="range"]').focus()
            for _ in range(10):
                page.keyboard.press("ArrowLeft")
            wait_until_idle(page)
            assert "77.3%" not in page.locator('[data-testid="stMetric"]').all_text_contents()[2]
            assert page.locator('[data-testid="stException"]').count() == 0
        assert not [url for url in blocked if "/_stcore/" in url]
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height", "present"), [(1440, 900, False), (390, 844, False), (1280, 720, True)])
def test_temperature_slider_and_the_chart_it_drives_are_in_view_together(site, browser, width, height, present):
    """Issue 20.5: the slider sits beside (wide) or just above (phone) its probability chart."""
    url = f"{site}/softmax?prompt={quote('The capital of France is')}" + ("&present=true" if present else "")
    context, page, _ = open_page(browser, url, width=width, height=height)
    try:
        header = page.locator('[data-testid="stHeader"]').bounding_box()["height"]
        slider = temperature_slider(page)
        slider.evaluate(f"el => {{ el.style.scrollMarginTop = '{header + 4}px'; el.scrollIntoView({{block: 'start'}}); }}")
        page.wait_for_timeout(300)
        top = slider.bounding_box()
        chart = page.locator('[data-testid="stPlotlyChart"]').nth(2).bounding_box()
        page.screenshot(path=str(ARTIFACTS / f"softmax-temperature-{width}x{height}{'-present' if present else ''}.png"))
        assert top["y"] >= header - 1 and chart["y"] >= header - 1
        assert chart["y"] + chart["height"] <= height, "the chart's bottom is below the screen"
        if width >= 1280:  # side by side: the chart starts level with the slider
            assert abs(chart["y"] - top["y"]) < 20 and chart["x"] > top["x"] + top["width"] - 1
    finally:
        context.close()
