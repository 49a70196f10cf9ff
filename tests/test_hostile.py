"""Hostile input on every page: no traceback ever, HTML stays text, a clear message for nonsense.

Every page listed in app.py's navigation is run (AppTest) with each prompt below, set the way a
URL or the sidebar would set it. Pages added later are picked up automatically.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.pages import HOME, run_page
from ui.i18n import LANGUAGES
from ui.style import page_language_script
from ui.walk import WALK

PAGES = [f"views/{step.stem}.py" for step in WALK]

HOSTILE_PROMPTS = {
    "empty": "",
    "whitespace": "  \n\t  ",
    "one character": "a",
    "10k characters": "The quick brown fox. " * 500,
    "one word 2000 times": "buffalo " * 2000,
    "emoji zwj and flags": "family 👩‍👩‍👧‍👦 flags 🇫🇷🇯🇵 thumbs 👍🏽 ok",
    "cjk": "今天天气很好，我们去公园散步。東京は日本の首都です。",
    "rtl arabic hebrew": "مرحبا بالعالم، كيف حالك؟ שלום עולם מה שלומך",
    "devanagari and combining": "नमस्ते दुनिया — e\u0301 a\u0308 n\u0303",
    "control and nul": "line one\x00\x07\x1b[31m red \r\n line two \x7f",
    "lone surrogate": "broken \ud800 text \udfff end",
    "script and img": "<script>alert(1)</script><img src=x onerror=alert(2)></textarea><a href=\"javascript:alert(3)\">x</a>",
    "markdown": "# Heading **bold** _it_ [click](javascript:alert(1)) ![img](http://evil/x.png) $x^2$ `code`",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "background"}
ALLOWED_TAGS = {"div", "span", "b", "strong", "i", "em", "br", "small", "table", "thead", "tbody", "tr", "td", "th", "code", "p", "style", "sup", "sub", "mark", "ul", "li", "ol", "details", "summary", "h1", "h2", "h3", "h4"}


def tags_in(markup: str) -> set[str]:
    found: set[str] = set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)
            for name, value in attrs:
                assert not name.startswith("on"), f"event handler attribute {name}={value!r}"
                if name in URL_ATTRIBUTES:
                    assert "javascript:" not in (value or "").lower(), f"javascript: URL in {name}"

    Collector().feed(markup)
    return found


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("case", list(HOSTILE_PROMPTS))
def test_page_survives_hostile_prompt(page, case):
    at = run_page(page, HOSTILE_PROMPTS[case])
    assert not at.exception, f"{page} raised on {case}: {at.exception[0].value if at.exception else ''}"
    site_scripts = {page_language_script(lang) for lang in LANGUAGES}  # <html lang>, exactly this text
    for element in at.get("html"):
        if element.proto.body not in site_scripts:
            assert tags_in(element.proto.body) <= ALLOWED_TAGS
    for element in at.markdown:
        assert "javascript:" not in element.value, f"{page} rendered visitor text as Markdown"
    if case in {"empty", "whitespace"}:
        hints = [info.value for info in at.info] + [caption.value for caption in at.caption]
        assert any("Type a prompt" in hint for hint in hints), f"{page} gave no hint for an empty prompt"


def test_page_list_is_found():
    assert "views/home.py" in PAGES


@pytest.mark.parametrize("params", [
    {"model": "../../etc/passwd"},
    {"model": "gpt2\x00"},
    {"prompt": "x" * 20_000},
    {"unknown_parameter": "1", "another": "<script>"},
])
def test_odd_url_parameters_are_harmless(params):
    at = run_page(HOME, query_params=params)
    assert not at.exception


@pytest.mark.parametrize("page, params, expected", [
    ("views/attention.py", {"attn_layer": "7", "attn_head": "3"}, {"attn_layer": 7, "attn_head": 3}),
    ("views/attention.py", {"attn_layer": "999", "attn_head": "-4"}, {"attn_layer": 15, "attn_head": 0}),
    ("views/softmax.py", {"softmax_temperature": "2.5", "softmax_top_n": "500"}, {"softmax_temperature": 2.5, "softmax_top_n": 15}),
    ("views/sampling.py", {"sampling_strategy": "Top-k", "sampling_top_k": "3", "sampling_seed": "7", "sampling_temperature": "nan"},
     {"sampling_strategy": "Top-k", "sampling_top_k": 3, "sampling_seed": 7, "sampling_temperature": 1.0}),
    ("views/sampling.py", {"sampling_strategy": "<script>", "sampling_seed": "-1"}, {"sampling_strategy": "Top-p (nucleus)", "sampling_seed": 42}),
])
def test_controls_come_from_the_url_and_out_of_range_values_are_ignored(page, params, expected):
    """Shared links reproduce the main controls; values beyond a control's range fall back to its default."""
    at = run_page(page, query_params=params)
    assert not at.exception
    assert {key: at.session_state[key] for key in expected} == expected
