"""The Softmax page in real headless Chromium, offline: live numbers, the slider, screenshots."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser import ARTIFACTS, open_page, wait_until_idle

pytestmark = pytest.mark.browser


def warm_up(browser, site) -> None:
    """A fresh server must serve "/" once before a page URL (else Streamlit runs pages/ directly)."""
    context, _, _ = open_page(browser, site, width=800, height=600)
    context.close()


@pytest.mark.parametrize("width", [1440, 390])
def test_softmax_page_offline(site, browser, width):
    warm_up(browser, site)
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
            page.locator('[data-testid="stSlider"] input[type="range"]').first.focus()
            for _ in range(10):
                page.keyboard.press("ArrowLeft")
            wait_until_idle(page)
            assert "77.3%" not in page.locator('[data-testid="stMetric"]').all_text_contents()[2]
            assert page.locator('[data-testid="stException"]').count() == 0
        assert not [url for url in blocked if "/_stcore/" in url]
    finally:
        context.close()
