"""The Embeddings page in a real headless Chromium, offline: it renders, reacts, and stays safe."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser import ARTIFACTS, open_page, wait_until_idle

pytestmark = pytest.mark.browser


def open_embeddings(browser, site: str, width: int, height: int = 6400, query: str = ""):
    """Reach the page through the sidebar, as a visitor does, then return (context, page, blocked)."""
    # A blank prompt makes Home stop at once (its hint), so this first stop costs no model call.
    context, page, blocked = open_page(browser, f"{site}/?prompt=%20", width=width, height=height)
    if width < 700:  # the sidebar is collapsed on a phone: follow a shared link instead
        page.goto(f"{site}/embeddings{query}")
    else:
        page.locator('[data-testid="stSidebarNav"] a', has_text="Embeddings").click()
        page.wait_for_url("**/embeddings**")
    page.get_by_text("Embeddings: words as vectors").wait_for(timeout=120_000)
    page.locator("h2", has_text="7 ·").wait_for(timeout=180_000)
    wait_until_idle(page)
    return context, page, blocked


def assert_page_renders_every_part(page, blocked, width: int) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Embeddings: words as vectors").is_visible()
    for number in range(1, 8):
        assert page.locator("h2", has_text=f"{number} ·").count() == 1
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 5
    assert "·king" in page.locator('[data-testid="stHtml"]').first.text_content()
    word_map = page.locator('[data-testid="stPlotlyChart"]', has_text="of the variance")
    assert word_map.count() == 1
    for word in ("queen", "banana", "London"):
        assert word in word_map.text_content()
    page.screenshot(path=str(ARTIFACTS / f"embeddings-{width}.png"), full_page=True)
    assert not [url for url in blocked if "/_stcore/" in url]


def test_embeddings_page_renders_every_part_offline_on_a_projector(site, browser):
    context, page, blocked = open_embeddings(browser, site, 1440)
    try:
        assert_page_renders_every_part(page, blocked, 1440)
    finally:
        context.close()


def test_phone_width_typing_a_word_and_script_text_stays_text(site, browser):
    dialogs: list[str] = []
    context, page, blocked = open_embeddings(browser, site, 390, height=11_000, query=f"?prompt={quote('<b>hi</b>')}")
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        assert_page_renders_every_part(page, blocked, 390)
        box = page.get_by_label("A word")
        box.fill("<img src=x onerror=alert(1)>")
        box.press("Enter")
        page.locator('[data-testid="stHtml"]', has_text="mean of their").first.wait_for(timeout=60_000)
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stMain"] img[src="x"]').count() == 0
        assert "onerror" in page.locator('[data-testid="stHtml"]').first.text_content()  # shown as text
        box.fill("Paris")
        box.press("Enter")
        page.locator('[data-testid="stHtml"]', has_text="·Paris").first.wait_for(timeout=60_000)
        wait_until_idle(page)
        assert "one token" in page.locator('[data-testid="stHtml"]').first.text_content()
        assert dialogs == []
    finally:
        context.close()


def test_a_shared_link_restores_the_words_and_every_table_fits_a_phone(site, browser):
    """Issue 20.7: the word ("school" came back as "king") and the controls come back from the link;
    issue 20.2: at 390 px no table column is cut off (each grid fits its box without scrolling)."""
    query = "?emb_word=school&emb_k=12&emb_a=Paris&emb_b=France&emb_c=Italy&emb_target=Rome&emb_vector_table=true"
    context, page, blocked = open_embeddings(browser, site, width=390, height=9000, query=query)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0 and not blocked
        assert page.get_by_label("A word").input_value() == "school"
        assert page.get_by_label("+ c").input_value() == "Italy"
        assert page.locator('[data-testid="stSlider"]', has_text="Neighbours").locator('[data-testid="stSliderThumbValue"]').text_content() == "12"
        assert "·school" in page.locator('[data-testid="stHtml"]').first.text_content()
        grids = page.locator('[data-testid="stDataFrame"]')
        assert grids.count() >= 3  # neighbours, analogy and the vector as a table
        for i in range(grids.count()):
            grid = grids.nth(i)
            grid.scroll_into_view_if_needed()
            widths = grid.evaluate("""e => { const s = e.querySelector('.dvn-scroller');
                return s ? [s.scrollWidth, s.clientWidth] : [0, 0]; }""")
            assert widths[0] <= widths[1] + 1, (i, widths)
        page.screenshot(path=str(ARTIFACTS / "embeddings-link-390.png"), full_page=True)
    finally:
        context.close()
