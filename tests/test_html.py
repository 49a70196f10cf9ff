import re
from html.parser import HTMLParser

import pytest

from explain.tokens import TokenPiece
from ui.html import token_spans, visible_text


def _piece(i, text):
    return TokenPiece(index=i, id=i, text=text, display=text, is_partial_character=False)


def test_token_text_is_escaped():
    markup = token_spans([_piece(0, "<script>alert(1)</script>"), _piece(1, '" onmouseover="x')])
    assert "<script" not in markup
    assert "&lt;script&gt;" in markup
    assert '" onmouseover' not in markup


def test_whitespace_and_control_characters_are_visible():
    assert visible_text(" a\n\tb\x00") == "·a↵⇥b\\x00"


def test_byte_tokens_are_framed_under_the_character_they_form(lm):
    from explain import tokens

    prompt = tokens.tokenize_prompt(lm, "pizza 🍕 今天")
    markup = token_spans(prompt.pieces)
    assert "🍕" in markup and "今" in markup
    assert tokens.REPLACEMENT_CHAR not in markup  # never a bare "�"
    assert markup.count("together form") == len(tokens.character_groups([p.piece_bytes for p in prompt.pieces]))


class _Chips(HTMLParser):
    """Each chip's label (its first text) in document order, the rows' dir, and the group frames."""

    def __init__(self):
        super().__init__()
        self.labels, self.row_dirs, self.groups, self.chip_dirs = [], [], [], []
        self._in_label = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        style = attrs.get("style") or ""
        if tag == "div" and "dir" in attrs:
            self.row_dirs.append(attrs["dir"])
        if tag == "span" and "display:inline-block" in style:
            self.chip_dirs.append(attrs.get("dir"))
            self.labels.append("")
            self._in_label = True
        elif tag == "span" and "together form" in (attrs.get("title") or ""):
            self.groups.append(attrs["title"])
        else:
            self._in_label = False

    def handle_data(self, data):
        if self._in_label:
            self.labels[-1] += data

    def handle_endtag(self, tag):
        self._in_label = False


def chips_of(markup: str) -> _Chips:
    parser = _Chips()
    parser.feed(markup)
    return parser


PROMPTS = {
    "arabic": "القطة تنام على الأريكة لأن الجو بارد.",
    "hebrew": "מזג האוויר נעים היום, אז אנחנו הולכים לפארק.",
    "chinese": "今天天气很好，我们去公园散步。",
    "emoji": "I love pizza 🍕 and 👩‍👩‍👧 families 🇫🇷",
}


@pytest.mark.parametrize("name", list(PROMPTS))
def test_chips_follow_the_tokenizer_in_reading_order_with_bytes_and_characters(lm, name):
    """Every language: one chip per token in token order, whole pieces shown as the tokenizer's own
    decode, byte pieces as <E4 BB> (never a bare "�"), and each group titled with what the
    tokenizer decodes its pieces to together."""
    from explain import tokens

    prompt = tokens.tokenize_prompt(lm, PROMPTS[name])
    markup = token_spans(prompt.pieces)
    found = chips_of(markup)
    assert tokens.REPLACEMENT_CHAR not in markup
    assert found.row_dirs == ["rtl" if name in ("arabic", "hebrew") else "ltr"]
    assert found.chip_dirs == ["auto"] * len(prompt.ids)  # each chip isolated: its own text runs its own way
    assert len(found.labels) == len(prompt.ids)
    for label, token_id in zip(found.labels, prompt.ids):
        decoded = lm.tokenizer.decode([token_id])
        if "\ufffd" in decoded:  # part of a character: its bytes, e.g. <E4 BB>
            assert re.fullmatch(r"[^<]*(<[0-9A-F]{2}( [0-9A-F]{2})*>[^<]*)+", label), label
        else:
            assert label == visible_text(decoded)
    groups = tokens.character_groups([p.piece_bytes for p in prompt.pieces])
    assert len(found.groups) == len(groups)
    for group, title in zip(groups, found.groups):
        together = lm.tokenizer.decode(prompt.ids[group.start:group.stop])
        assert "\ufffd" not in together and title.endswith(visible_text(together))
    if name in ("chinese", "emoji"):
        assert groups, "SmolLM2 splits some of these characters into byte tokens"


def test_a_right_to_left_prompt_is_one_rtl_row_even_after_a_neutral_start(lm):
    from explain import tokens

    prompt = tokens.tokenize_prompt(lm, "  123 שלום עולם")
    assert chips_of(token_spans(prompt.pieces)).row_dirs == ["rtl"]
    mixed = tokens.tokenize_prompt(lm, "Hello مرحبا")
    assert chips_of(token_spans(mixed.pieces)).row_dirs == ["ltr"]
