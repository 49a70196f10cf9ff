"""One whole lesson in real headless Chromium, offline: each step's page, prompt, panel and QR code."""

from __future__ import annotations

import pytest

from explain import lessons
from tests.browser import ARTIFACTS, open_page, wait_until_idle

pytestmark = pytest.mark.browser
LESSON = lessons.load_lessons()[0]  # Words become tokens


@pytest.mark.parametrize("width", [1440, 390])
def test_walk_a_whole_lesson_offline(site, browser, width):
    context, page, blocked = open_page(browser, lessons.step_url(site, LESSON, 0), width=width, height=1600)
    try:
        if width < 700:  # the phone layout keeps the sidebar closed: the banner still names the step
            assert page.get_by_text("step 1 of 5", exact=False).first.is_visible()
            page.screenshot(path=str(ARTIFACTS / f"lesson-step1-{width}.png"), full_page=False)
            page.locator('[data-testid="stExpandSidebarButton"]').click()
            page.wait_for_timeout(800)
        sidebar = page.locator('[data-testid="stSidebar"]')
        for n, step in enumerate(LESSON.steps, 1):
            assert page.locator('[data-testid="stException"]').count() == 0
            assert f"Step {n} of {len(LESSON.steps)}" in sidebar.inner_text()
            assert page.locator("textarea").first.input_value() == step.controls["prompt"]
            assert f"step={n}" in page.url and f"lesson={LESSON.id}" in page.url
            page.locator(f'h2[id="{lessons.anchor(step.section)}"]').wait_for(timeout=60_000)  # the named section
            assert step.answer not in sidebar.inner_text()
            if n == 1:
                page.get_by_role("button", name="Reveal the answer").click()
                wait_until_idle(page)
                assert step.answer in sidebar.inner_text()
                page.screenshot(path=str(ARTIFACTS / f"lesson-revealed-{width}.png"), full_page=False)
                page.get_by_role("button", name="📱 QR code").click()
                dialog = page.locator('[role="dialog"]')
                dialog.locator("code").wait_for()
                image = dialog.locator("img").first
                image.wait_for()
                assert image.evaluate("img => img.complete && img.naturalWidth") >= 300  # the QR code, drawn
                assert lessons.step_url(site, LESSON, 0) in dialog.inner_text()
                page.screenshot(path=str(ARTIFACTS / f"lesson-qr-{width}.png"), full_page=False)
                page.keyboard.press("Escape")
                dialog.wait_for(state="detached")
                wait_until_idle(page)
            if n < len(LESSON.steps):
                sidebar.get_by_role("button", name="Next ▶").last.click()  # a rerun may leave a stale copy
                page.wait_for_timeout(1500)
                wait_until_idle(page)
        assert sidebar.get_by_role("button", name="Next ▶").last.is_disabled()
        page.screenshot(path=str(ARTIFACTS / f"lesson-last-step-{width}.png"), full_page=False)
        assert not [url for url in blocked if "segno" in url or "qr" in url.lower()]
    finally:
        context.close()
