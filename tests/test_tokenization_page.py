"""The Tokenization page: AppTest with presets, bad input and widgets driven; then real Chromium."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from streamlit.testing.v1 import AppTest

from tests.browser import ARTIFACTS, open_page, wait_until_idle
from tests import pages
from tests.markup import tags_in
from tests.pages import chart, markdown_text, plotly_array
from ui.tokenization import PAGE_PRESETS

PAGE = "views/tokenization.py"


def run_page(prompt: str | None = None) -> AppTest:
    return pages.run_page(PAGE, prompt, timeout=180)


def html_bodies(at: AppTest) -> list[str]:
    return [element.proto.body for element in at.get("html")]


def trained_merges(at: AppTest):
    """The trainer's merge table (AppTest's dataframes carry no key: find it by its columns)."""
    return next(df.value for df in at.dataframe if "new token" in df.value.columns)


@pytest.mark.parametrize("preset", list(PAGE_PRESETS))
def test_each_preset_shows_its_tokens_and_counts(lm, preset):
    text = PAGE_PRESETS[preset]
    at = run_page(text)
    assert not at.exception
    n_tokens = len(lm.tokenizer.encode(text, add_special_tokens=False))
    bodies = html_bodies(at)
    assert f">{n_tokens:,}</div>" in bodies[0]  # the Tokens card
    assert f">{len(text):,}</div>" in bodies[0]  # the Characters card
    table = at.dataframe[0].value  # the token table
    assert list(table["id"]) == lm.tokenizer.encode(text, add_special_tokens=False)
    assert "WordPiece" in markdown_text(at) and "Unigram (SentencePiece)" in markdown_text(at)
    assert n_tokens in plotly_array(chart(at, "compare_bars")["data"][0]["x"])  # the live model's bar


def test_pill_preset_replaces_the_prompt():
    at = run_page()
    at.pills(key="tok_preset").set_value("Chinese").run()
    assert not at.exception
    assert at.session_state["prompt"] == PAGE_PRESETS["Chinese"]
    assert at.session_state["tok_preset"] is None
    assert "dashed" in html_bodies(at)[1]  # Chinese characters split into byte tokens


@pytest.mark.parametrize("prompt", ["", "   \n\t "])
def test_empty_prompt_gets_a_hint(prompt):
    at = run_page(prompt)
    assert not at.exception
    assert any("Type a prompt" in info.value for info in at.info)
    assert not at.dataframe


def test_a_5000_character_prompt_is_cut_with_a_notice():
    at = run_page(("Tokenization splits unbelievable words into pieces. 🍕 " * 100)[:5000])
    assert not at.exception
    assert any("first 256 tokens" in w.value for w in at.warning)
    assert len(at.dataframe[0].value) == 256


def test_script_and_img_text_stays_text():
    at = run_page("<script>alert(1)</script><img src=x onerror=alert(2)> café 今天 مرحبا")
    assert not at.exception
    for body in html_bodies(at):
        if not body.lstrip().startswith("<style"):  # the site's own stylesheet is no visitor text
            assert tags_in(body) <= {"div", "span"}
    assert any("&lt;script&gt;" in body or "&lt;script" in body for body in html_bodies(at))


def test_bpe_stepper_and_prompt_word_picker(lm):
    at = run_page("Tokenization splits unbelievable words into pieces.")
    slider = at.slider(key="bpe_step::unbelievable")
    assert slider.value == 0
    assert "12 bytes" in markdown_text(at)
    slider.set_value(slider.max).run()
    assert not at.exception
    ids = lm.tokenizer.encode("unbelievable", add_special_tokens=False)
    assert any(str(ids) in s.value for s in at.success)
    at.slider(key="bpe_step::unbelievable").set_value(1).run()
    assert "**Step 1 of" in markdown_text(at)

    at.selectbox(key="bpe_pick").set_value("unbelievable").run()  # mid-sentence: with its space
    assert at.session_state["bpe_space"] is True
    slider = at.slider(key="bpe_step:: unbelievable")
    slider.set_value(slider.max).run()
    ids = lm.tokenizer.encode(" unbelievable", add_special_tokens=False)
    assert any(str(ids) in s.value for s in at.success)

    at.text_input(key="bpe_word").set_value("2024").run()  # digits: no merge applies
    at.checkbox(key="bpe_space").uncheck().run()
    assert not at.exception
    assert any("No merge applies" in info.value for info in at.info)


def test_trainer_follows_the_corpus_and_the_vocabulary_slider():
    at = run_page()
    merges = trained_merges(at)
    assert list(merges["new token"])[:2] == ["es", "est"]
    slider = at.slider(key="bpe_vocab")
    slider.set_value(slider.min + 3).run()
    assert not at.exception
    assert len(trained_merges(at)) == 3
    at.text_area(key="bpe_corpus").set_value("ab ab ab abc abc").run()
    assert not at.exception
    assert list(trained_merges(at)["new token"])[0] == "ab"
    at.text_area(key="bpe_corpus").set_value("   ").run()
    assert not at.exception
    assert any("Type a few words" in info.value for info in at.info)


# ---------------------------------------------------------------------------------------------
# Real Chromium


@pytest.mark.browser
@pytest.mark.parametrize("width", [1440, 390])
def test_page_renders_tokens_and_comparison_offline(site, browser, width):
    prompt = "Tokenization splits unbelievable words into pieces. 🍕 今天"
    context, page, blocked = open_page(browser, f"{site}/tokenization?prompt={quote(prompt)}", width=width,
                                       height=4600 if width > 600 else 7_000)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        main = page.locator('[data-testid="stMain"]')
        assert main.get_by_text("Your prompt as tokens").is_visible()
        html = main.locator('[data-testid="stHtml"]')
        assert "unbelie" in html.nth(1).text_content()  # the coloured prompt tokens
        assert "<F0 9F>" in html.nth(1).text_content()  # the emoji shown by its bytes
        chart = main.locator('[data-testid="stPlotlyChart"]').first.locator("svg").first.text_content()
        assert "WordPiece" in chart and "Unigram" in chart and "Character" in chart
        page.screenshot(path=str(ARTIFACTS / f"tokenization-{width}.png"), full_page=True)
        if width == 1440:
            thumb = main.locator('[data-testid="stSlider"] input[type="range"]').first  # the BPE stepper
            thumb.focus()
            thumb.press("End")
            page.wait_for_timeout(500)
            wait_until_idle(page)
            assert main.get_by_text("exactly what the tokenizer itself returns").is_visible()
        assert not [url for url in blocked if "/_stcore/" in url]
    finally:
        context.close()


def test_chinese_and_emoji_tokens_show_the_character_they_form():
    for preset, characters in (("Chinese", "今天"), ("Emoji", "🍕👋🙂")):
        at = run_page(PAGE_PRESETS[preset])
        assert not at.exception
        chips = html_bodies(at)[1]
        assert "together form" in chips and "\ufffd" not in chips
        assert all(char in chips for char in characters)


def test_tokenizer_list_and_sample_table_read_cleanly():
    at = run_page("Tokenization splits unbelievable words into pieces.")
    text = markdown_text(at)
    assert "wheel" not in text and "Whitespace** — Whitespace" not in text
    assert "SentencePiece BPE with byte fallback" in text and "Llama 3" in text
    from ui.tokenization import SAMPLE_TEXTS

    assert SAMPLE_TEXTS["English"] in text and SAMPLE_TEXTS["Chinese"] in text  # the sentences counted
    assert "#444" not in html_bodies(at)[0] and "#555" not in html_bodies(at)[0]  # theme-aware cards


def test_replay_shows_the_digit_split_and_says_where_it_changes_tokens():
    at = run_page("In 2024 we met.")
    at.text_input(key="bpe_word").set_value("2024").run()
    at.checkbox(key="bpe_space").check().run()
    assert not at.exception
    assert "'2', '0', '2', '4'" in markdown_text(at)
    assert any("Every digit is its own pre-token" in c.value for c in at.caption)
    at.text_input(key="bpe_word").set_value("١٢٣").run()  # Arabic-Indic digits: no merge applies
    assert not at.exception
    assert any("digit split changes the result" in w.value for w in at.warning)


def test_page_ends_with_the_next_step_of_the_walk():
    at = run_page()
    links = at.get("page_link")
    assert links and "Embeddings" in links[-1].proto.label


def test_bpe_replay_of_an_emoji_frames_its_bytes_under_it():
    at = run_page("pizza")
    at.text_input(key="bpe_word").set_value("🍕").run()
    assert not at.exception
    replay_chips = next(body for body in html_bodies(at) if "<F0>" in body.replace("&lt;", "<").replace("&gt;", ">"))
    assert "🍕" in replay_chips and "together form" in replay_chips


@pytest.mark.browser
def test_count_cards_and_character_groups_read_in_dark_mode_on_a_phone(site, browser):
    from tests.browser import block_the_internet

    warm, _, _ = open_page(browser, f"{site}/?prompt=%20", width=390, height=600)
    warm.close()
    context = browser.new_context(viewport={"width": 390, "height": 3000}, color_scheme="dark")
    block_the_internet(context)
    page = context.new_page()
    try:
        page.goto(f"{site}/tokenization?prompt={quote(PAGE_PRESETS['Emoji'])}")
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        html = page.locator('[data-testid="stMain"] [data-testid="stHtml"]')
        # the card labels take the theme's (light) text colour, not a fixed dark grey
        label_rgb = html.nth(0).locator("div div div").first.evaluate("e => getComputedStyle(e).color")
        assert sum(int(c) for c in label_rgb[label_rgb.index("(") + 1:label_rgb.index(")")].split(",")[:3]) > 450
        groups = html.nth(1).locator('span[title*="together form"]')
        assert groups.count() >= 3 and "🍕" in groups.first.text_content()
        box = groups.first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # a group fits on the phone
    finally:
        context.close()
