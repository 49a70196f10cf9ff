"""The keyboard alone, in real Chromium, offline: Tab and Shift+Tab reach the sidebar's main
controls and a page's slider, Enter, Space and the arrows operate them, and the focused control
always shows a visible focus ring (ui/style.py). No mouse event is sent."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser import block_the_internet, wait_until_idle
from ui.i18n import LANGUAGES

pytestmark = pytest.mark.browser

MAX_TABS = 80
# The focused element or the frame around it (a picker's box) draws an outline of ≥ 2 px.
FOCUS_RING = """() => {
    for (let e = document.activeElement, i = 0; e && i < 4; e = e.parentElement, i++) {
        const s = getComputedStyle(e);
        if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) return true;
    }
    return false;
}"""
FOCUS_IN = "selector => !!document.activeElement && !!document.activeElement.closest(selector)"


def tab_to(page, selector: str, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until the focus is inside `selector`; fail after MAX_TABS presses."""
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if page.evaluate(FOCUS_IN, selector):
            assert page.evaluate(FOCUS_RING), f"no visible focus on {selector}"
            return
    raise AssertionError(f"{key} never reached {selector}")


def choose(page, option: str) -> None:
    """In the focused picker: ↓ opens its list, ↓ moves to `option`, Enter chooses it."""
    page.keyboard.press("ArrowDown")
    page.wait_for_selector('[role="option"]')
    for _ in range(MAX_TABS):
        active = page.evaluate("() => { const id = document.activeElement.getAttribute('aria-activedescendant');"
                               " const e = id && document.getElementById(id); return e ? e.innerText : null; }")
        if active == option:
            page.keyboard.press("Enter")
            wait_until_idle(page)
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"↓ never reached {option!r}")


def query(page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(page.url).query).items()}


@pytest.fixture
def keyboard_page(site, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1400})
    block_the_internet(context)
    page = context.new_page()
    yield page
    context.close()


def test_sidebar_with_the_keyboard_alone(site, keyboard_page):
    page = keyboard_page
    page.goto(f"{site}/?lang=en")
    wait_until_idle(page)

    tab_to(page, ".st-key-lang input")  # the language picker
    choose(page, LANGUAGES["fr"])
    assert query(page).get("lang") == LANGUAGES["fr"]  # the picker writes the language's name
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.locator('[data-testid="stSidebar"]').get_by_text("Mode présentation").is_visible()

    tab_to(page, ".st-key-preset input")  # the examples: the language's own come first
    choose(page, "Compter en français")
    assert query(page).get("prompt") == "Un, deux, trois, quatre,"

    tab_to(page, ".st-key-present input")  # presenter mode: a switch, toggled with Space
    page.keyboard.press("Space")
    wait_until_idle(page)
    assert query(page).get("present") == "true"

    tab_to(page, ".st-key-lang input", key="Shift+Tab")  # and back up again
    assert query(page).get("lang") == LANGUAGES["fr"]


def test_a_page_slider_with_the_keyboard_alone(site, keyboard_page):
    page = keyboard_page
    page.goto(f"{site}/softmax?lang=es")
    wait_until_idle(page)
    tab_to(page, ".st-key-softmax_temperature input")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    wait_until_idle(page)
    assert float(query(page)["softmax_temperature"]) == pytest.approx(1.2)
    assert page.locator('[data-testid="stException"]').count() == 0
