"""The site in a real headless Chromium, offline: it starts, shows live predictions, no errors."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser import ARTIFACTS, open_page, serve_app

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1440, 390])
def test_home_shows_live_top5_predictions_offline(site, browser, width):
    context, page, blocked = open_page(browser, site, width=width)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        chart = page.locator('[data-testid="stPlotlyChart"]').first
        chart_text = chart.locator("svg").first.text_content() or ""
        for rank, token in enumerate(["Paris", "the", "London"], start=1):
            assert f"{rank}. '·{token}'" in chart_text  # · marks the leading space
        assert "77" in chart_text  # Paris's probability, e.g. "77.3%"
        assert page.get_by_text("How a language model picks its next word").is_visible()
        page.screenshot(path=str(ARTIFACTS / f"home-{width}.png"), full_page=True)
        assert not [url for url in blocked if "/_stcore/" in url]
    finally:
        context.close()


def test_prompt_in_the_url_is_shared_and_script_text_stays_text(site, browser):
    dialogs: list[str] = []
    prompt = "<script>alert(1)</script><img src=x onerror=alert(2)> The cat"
    context, page, _ = open_page(browser, f"{site}/?prompt={quote(prompt)}")
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator("textarea").first.input_value() == prompt
        assert page.locator('[data-testid="stMain"] img[src="x"]').count() == 0
        assert "script" in page.locator('[data-testid="stHtml"]').first.text_content()
        page.wait_for_timeout(500)
        assert dialogs == []
    finally:
        context.close()


def test_deep_link_to_a_page_on_a_fresh_server_gets_the_sidebar_and_the_prompt(browser):
    """A shared link opened before anyone visited `/` must still run through app.py."""
    with serve_app() as fresh_site:
        context, page, _ = open_page(browser, f"{fresh_site}/tokenization?prompt={quote('Deep link works')}")
        try:
            assert page.locator("textarea").first.input_value() == "Deep link works"
            assert page.get_by_text("Presenter mode", exact=True).count() == 1
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            context.close()
