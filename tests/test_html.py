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
