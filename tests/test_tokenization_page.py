"""The Tokenization page: AppTest with presets, bad input and widgets driven; then real Chromium."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest
from streamlit.testing.v1 import AppTest

from tests.browser import ARTIFACTS, open_page, wait_until_idle
from tests import pages
from tests.markup import tags_in
from tests.pages import chart, markdown_text, plotly_array
from ui.tokenization import PAGE_PRESETS

PAGE = "views/tokenization.py"
TABLE_TAGS = {"table", "thead", "tbody", "tr", "th", "td"}  # the myth card's own table


def run_page(prompt: str | None = None) -> AppTest:
    return pages.run_page(PAGE, prompt, timeout=180)


def html_bodies(at: AppTest) -> list[str]:
    return pages.page_html(at)


def token_table(at: AppTest) -> str:
    """The HTML of section 1's table of every token."""
    return next(body for body in html_bodies(at) if 'aria-label="Table: every token' in body)


def table_column(table: str, column: int) -> list[str]:
    """The cells of one column of a table_html table (0: the row headers), unescaped."""
    rows = re.findall(r"<tr>(.*?)</tr>", table)[1:]  # after the header row
    return [html.unescape(re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)[column]) for row in rows]


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
    ids = table_column(token_table(at), 3)
    assert [int(i) for i in ids] == lm.tokenizer.encode(text, add_special_tokens=False)
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
    assert len(table_column(token_table(at), 0)) == 256


def test_script_and_img_text_stays_text():
    at = run_page("<script>alert(1)</script><img src=x onerror=alert(2)> café 今天 مرحبا")
    assert not at.exception
    for body in html_bodies(at):
        if not body.lstrip().startswith("<style"):  # the site's own stylesheet is no visitor text
            assert tags_in(body) <= {"div", "span"} | TABLE_TAGS
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


def test_replay_splits_digits_like_the_tokenizer_and_ends_with_its_ids():
    at = run_page("In 2024 we met.")
    at.text_input(key="bpe_word").set_value("2024").run()
    at.checkbox(key="bpe_space").check().run()
    assert not at.exception
    assert "'2', '0', '2', '4'" in markdown_text(at)
    at.text_input(key="bpe_word").set_value("١٢٣").run()  # Arabic-Indic digits: each its own pre-token
    assert not at.exception and not at.warning
    assert "'١', '٢', '٣')." in markdown_text(at)  # the pre-tokenizer's split, one digit each
    assert any("exactly what the tokenizer itself returns" in s.value for s in at.success)


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


def test_guess_the_token_count_hides_the_tokens_until_reveal_and_clears_on_a_new_prompt(lm):
    text = "Tokenization splits unbelievable words into pieces."
    n_tokens = len(lm.tokenizer.encode(text, add_special_tokens=False))
    at = AppTest.from_file(pages.APP, default_timeout=180)
    at.session_state["prompt"] = text
    at.session_state["tok_game"] = True
    at.switch_page(PAGE).run()

    def hidden() -> bool:
        return (not any("display:inline-block" in body for body in html_bodies(at))
                and not at.dataframe and not at.get("plotly_chart") and "Myth" not in "".join(i.value for i in at.info))

    assert not at.exception and hidden()
    at.text_input(key="tok_guess").set_value("7").run()
    assert hidden()  # typing is not revealing
    at.button(key="tok_reveal").click().run()
    assert not at.exception and not hidden()
    assert f"You guessed 7; the tokenizer used **{n_tokens}** tokens: {n_tokens - 7} more than you guessed." in markdown_text(at)
    assert f">{n_tokens}</div>" in html_bodies(at)[0]

    at.session_state["prompt"] = "low lower lowest"
    at.run()
    assert at.text_input(key="tok_guess").value == "" and hidden()  # the old guess belongs to the old prompt


def test_myth_card_counts_words_and_tokens_and_the_same_sentence_in_six_languages(lm):
    from ui.tokenization import SAME_SENTENCE

    text = "Tokenization splits unbelievable words into pieces."
    at = run_page(text)
    n_tokens = len(lm.tokenizer.encode(text, add_special_tokens=False))
    myth = next(i.value for i in at.info if i.value.startswith("**Myth:**"))
    assert f"**6 words** and **{n_tokens} tokens**" in myth
    table = next(body for body in html_bodies(at) if "The same sentence in six languages" in body)
    for label, sentence in SAME_SENTENCE.items():
        assert f">{html.escape(sentence)}</td>" in table
        count = len(lm.tokenizer.encode(sentence, add_special_tokens=False))
        assert f">{count}</td>" in table
    assert '<td dir="auto"' in table  # Arabic and Hebrew cells read right to left
    assert any("Petrov et al." in c.value for c in at.caption)


def test_an_arabic_prompt_is_drawn_right_to_left():
    at = run_page(PAGE_PRESETS["Arabic"])
    assert not at.exception
    chips = html_bodies(at)[1]
    assert chips.startswith('<div dir="rtl"') and 'dir="auto"' in chips
    table = token_table(at)  # the token table too: every cell in its own direction (a data grid has none)
    assert table.count('<td dir="auto"') == 5 * len(table_column(table, 0))
    assert table_column(table, 1)[0] == "ال"  # the first token, as the tokenizer decodes it


def test_the_page_reads_in_chinese_with_byte_chips_and_character_groups():
    at = AppTest.from_file(pages.APP, default_timeout=180)
    at.query_params["lang"] = "zh"
    at.session_state["prompt"] = PAGE_PRESETS["Chinese"]
    at.switch_page(PAGE).run()
    assert not at.exception
    headers = [h.value for h in at.header]
    assert "1 · 你的提示词变成词元" in headers and "2 · 同一段文本，不同的分词器" in headers
    assert "词元" in html_bodies(at)[0]  # the count cards
    chips = html_bodies(at)[1]
    assert "&lt;E" in chips and "今" in chips  # byte pieces as <E4 BB>, the joined character
    assert any(i.value.startswith("**误区**：") for i in at.info)


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_the_page_reads_in_spanish_and_french(lang):
    at = AppTest.from_file(pages.APP, default_timeout=180)
    at.query_params["lang"] = lang
    at.switch_page(PAGE).run()
    assert not at.exception
    expected = {"es": "1 · Tu prompt en tokens", "fr": "1 · Ton prompt en tokens"}[lang]
    assert expected in [h.value for h in at.header]


@pytest.mark.browser
def test_an_arabic_prompt_reads_right_to_left_in_the_browser(site, browser, lm):
    text = PAGE_PRESETS["Arabic"]
    context, page, _ = open_page(browser, f"{site}/tokenization?prompt={quote(text)}", width=390, height=3000)
    try:
        row = page.locator('[data-testid="stMain"] [data-testid="stHtml"]').nth(1).locator("div[dir]").first
        assert row.get_attribute("dir") == "rtl"
        chips = row.locator('span[dir="auto"][style*="inline-block"]').all()  # every token, in DOM order
        ids = lm.tokenizer.encode(text, add_special_tokens=False)
        assert len(chips) == len(ids)
        boxes = [chip.bounding_box() for chip in chips]
        first_line = [b for b in boxes if abs(b["y"] - boxes[0]["y"]) < 4]
        assert len(first_line) > 1
        assert [b["x"] for b in first_line] == sorted((b["x"] for b in first_line), reverse=True)  # right to left
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes)
        # whole tokens by their text, byte tokens by the character their frame shows: the tokenizer's own text
        shown = row.evaluate("""r => [...r.children].map(c => c.title.includes('together form')
                                 ? c.firstElementChild.textContent : c.firstChild.textContent).join('')""")
        assert shown.replace("·", " ") == lm.tokenizer.decode(ids)
        # the token table: Arabic cells run right to left, and the table fits the phone (no sideways scroll)
        page.locator('[data-testid="stMain"] [data-testid="stExpander"] summary', has_text="Table: every token").click()
        region = page.locator('[aria-label="Table: every token with its id and bytes"][role="region"]')
        region.wait_for()
        cells = region.evaluate("r => [...r.querySelectorAll('tbody tr')].map(tr => [tr.cells[1].textContent, "
                                "getComputedStyle(tr.cells[1]).direction])")
        arabic = [direction for text, direction in cells if any("\u0600" <= char <= "\u06ff" for char in text)]
        assert len(cells) == len(ids) and len(arabic) > 3 and set(arabic) == {"rtl"}  # byte pieces like <D8> stay ltr
        assert region.evaluate("r => r.scrollWidth <= r.clientWidth")
        region.screenshot(path=str(ARTIFACTS / "tokenization-arabic-table-390.png"))
    finally:
        context.close()
