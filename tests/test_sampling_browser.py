"""The Sampling page in real headless Chromium, offline: filter chart, next-token button, beam tree."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser import ARTIFACTS, open_page, wait_until_idle

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1440, 390])
def test_sampling_page_offline(site, browser, width):
    context, page, _ = open_page(browser, f"{site}/sampling?prompt={quote('The capital of France is')}",
                                 width=width, height=4200)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("Sampling: choosing the next token").is_visible()
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 2  # filters + beam tree
        for clicks in (1, 2):
            page.get_by_role("button", name="Next token ▶").click()
            page.wait_for_timeout(1000)  # let the rerun start before waiting for it to end
            wait_until_idle(page)
            text = page.locator('[data-testid="stHtml"]').first.inner_html()
            assert text.count("2px solid #D55E00") == clicks  # new tokens are outlined
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stDataFrame"]').count() == 1  # the trace table
        page.screenshot(path=str(ARTIFACTS / f"sampling-{width}.png"), full_page=True)
    finally:
        context.close()
