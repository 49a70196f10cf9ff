"""One whole lesson in real headless Chromium, offline: each step's page, prompt, panel and QR code."""

from __future__ import annotations

import re

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
                assert lessons.step_url(site, LESSON, 0, lang="en") in dialog.inner_text()  # the projector's language
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


# ---------------------------------------------------------------------------------------------
# A whole lesson in another language: translated steps, section anchors, the exit ticket


def words(text: str) -> str:
    """Text with every run of whitespace as one space (the browser may turn U+202F into a space)."""
    return " ".join(text.split())


def translate(lang: str, text: str) -> str:
    from ui.i18n import translations

    return translations(lang).gettext(text)


@pytest.mark.parametrize(("lang", "width"), [("zh", 1440), ("fr", 390)])
def test_walk_a_translated_lesson_to_its_exit_ticket(site, browser, lang, width):
    lesson = lessons.load_lessons()[4]  # Why it makes things up: every section on a translated page
    url = lessons.step_url(site, lesson, 0, lang=lang, section=translate(lang, lesson.steps[0].section))
    context, page, _blocked = open_page(browser, url, width=width, height=1600)
    try:
        if width < 700:
            page.locator('[data-testid="stExpandSidebarButton"]').click()
            page.wait_for_timeout(800)
        sidebar = page.locator('[data-testid="stSidebar"]')
        next_label = translate(lang, "Next ▶")
        for n, step in enumerate(lesson.steps, 1):
            assert page.locator('[data-testid="stException"]').count() == 0
            assert words(translate(lang, step.question)) in words(sidebar.inner_text())
            header = translate(lang, step.section)
            assert header != step.section  # the page's header is translated, and the anchor follows it
            page.locator(f'h2[id="{lessons.anchor(header)}"]').wait_for(timeout=60_000)
            if n == 1:
                page.screenshot(path=str(ARTIFACTS / f"lesson-{lang}-{width}.png"), full_page=False)
            if n < len(lesson.steps):
                sidebar.get_by_role("button", name=next_label).last.click()
                page.wait_for_timeout(1500)
                wait_until_idle(page)
        assert f"lang={lang}" in page.url or translate(lang, "🎓 Lessons") in sidebar.inner_text()
        with page.expect_download() as download:
            sidebar.get_by_role("button", name=translate(lang, "📝 Exit ticket (your prompt, printable)")).click()
        ticket = (ARTIFACTS / f"exit-ticket-{lang}.html")
        download.value.save_as(ticket)
        text = ticket.read_text(encoding="utf-8")
        assert f"<html lang='{lang}'>" in text and translate(lang, "Exit ticket") in text
        assert lesson.steps[-1].controls["prompt"] in text  # the student's own prompt
        viewer = context.new_page()
        viewer.set_content(text)  # offline: the ticket needs nothing but itself
        viewer.emulate_media(media="print")
        viewer.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        viewer.screenshot(path=str(ARTIFACTS / f"exit-ticket-{lang}.png"), full_page=True)
        pdf = viewer.pdf(format="A4")
        assert re.search(rb"/Count (\d+)", pdf).group(1) == b"1"  # one printed page
        viewer.close()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "es", "fr", "zh"])
@pytest.mark.parametrize("width", [1440, 390])
def test_hallucinations_page_and_lesson_panel_have_no_axe_violations(site, browser, lang, width):
    from tests.accessibility import axe_violations

    lesson = lessons.load_lessons()[4]
    url = lessons.step_url(site, lesson, 1, lang=lang)
    context, page, _blocked = open_page(browser, url, width=width, height=1600)
    try:
        if width < 700:
            page.locator('[data-testid="stExpandSidebarButton"]').click()
            page.wait_for_timeout(800)
        page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]').first.wait_for()
        violations = axe_violations(page)  # the page with the lesson panel open
        if width < 700:  # and the phone's page itself, the sidebar folded away
            page.locator('[data-testid="stSidebarCollapseButton"]').first.click()
            page.wait_for_timeout(800)
            violations += axe_violations(page)
            page.screenshot(path=str(ARTIFACTS / f"hallucinations-{lang}-{width}.png"), full_page=False)
        assert violations == [], "\n".join(violations)
    finally:
        context.close()


def test_a_lesson_step_works_with_the_keyboard_alone(site, browser):
    lesson = lessons.load_lessons()[4]
    context, page, _blocked = open_page(browser, lessons.step_url(site, lesson, 0), width=1440, height=1600)
    try:
        def tab_to(name: str) -> None:
            for _ in range(80):
                page.keyboard.press("Tab")
                if page.evaluate("() => document.activeElement && document.activeElement.innerText") == name:
                    return
            raise AssertionError(f"Tab never reached {name!r}")

        tab_to("Reveal the answer")
        page.keyboard.press("Enter")
        wait_until_idle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert words(lesson.steps[0].answer) in words(sidebar.inner_text())
        tab_to("Next ▶")
        page.keyboard.press("Space")
        page.wait_for_timeout(1500)
        wait_until_idle(page)
        assert "step=2" in page.url and words(lesson.steps[1].question) in words(sidebar.inner_text())
    finally:
        context.close()
