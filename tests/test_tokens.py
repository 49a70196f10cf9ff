import pytest

from explain import tokens

TEXTS = [
    "The capital of France is",
    "  leading and trailing spaces  ",
    "café naïve résumé",
    "I love pizza 🍕 and 👩‍👩‍👧 families 🇫🇷",
    "今天天气很好，我们去公园",
    "مرحبا بالعالم שלום עולם",
    "e\u0301 combining accent and नमस्ते",
    "def f(x):\n\treturn x + 1",
    "<script>alert('x')</script>",
]


@pytest.mark.parametrize("text", TEXTS)
def test_ids_are_the_tokenizers_own_and_decode_back_to_the_text(lm, text):
    prompt = tokens.tokenize_prompt(lm, text)
    assert prompt.ids == lm.tokenizer.encode(text, add_special_tokens=False)
    assert [p.id for p in prompt.pieces] == prompt.ids
    assert lm.tokenizer.decode(prompt.ids) == text
    assert not prompt.truncated


@pytest.mark.parametrize("text", [t for t in TEXTS if t.isascii()])
def test_pieces_concatenate_to_the_text_when_no_character_is_split(lm, text):
    prompt = tokens.tokenize_prompt(lm, text)
    assert "".join(p.text for p in prompt.pieces) == text
    assert "".join(p.display for p in prompt.pieces) == text


def test_split_characters_are_shown_by_their_bytes(lm):
    prompt = tokens.tokenize_prompt(lm, "🍕")
    partial = [p for p in prompt.pieces if p.is_partial_character]
    assert partial, "the pizza emoji is several byte tokens in SmolLM2's vocabulary"
    shown = b"".join(bytes.fromhex(p.display.strip("<>")) for p in prompt.pieces)
    assert shown == "🍕".encode()


def test_piece_bytes_reverses_the_byte_level_alphabet():
    assert tokens.piece_bytes("Ġcaf") == b" caf"
    assert tokens.piece_bytes("ĠcafÃ©") == " café".encode()


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n"])
def test_empty_prompt_is_refused_before_the_model(lm, text):
    with pytest.raises(tokens.EmptyPrompt):
        tokens.tokenize_prompt(lm, text)


def test_long_prompt_is_cut_to_the_cap_and_says_so(lm):
    text = "word " * 2000
    prompt = tokens.tokenize_prompt(lm, text)
    assert prompt.truncated
    assert len(prompt.ids) == tokens.PROMPT_TOKEN_CAP
    assert prompt.n_tokens_before_cap == len(lm.tokenizer.encode(text, add_special_tokens=False))
    assert lm.tokenizer.encode(prompt.text, add_special_tokens=False) == prompt.ids


def test_text_beyond_the_character_cap_counts_as_truncated(lm):
    prompt = tokens.tokenize_prompt(lm, "a" * (tokens.PROMPT_CHAR_CAP + 10), max_tokens=10**6)
    assert prompt.truncated


def test_lone_surrogates_and_nul_do_not_crash(lm):
    prompt = tokens.tokenize_prompt(lm, "bad \ud800 text \x00 end")
    assert prompt.ids


@pytest.mark.parametrize("text", ["I love pizza 🍕 and coffee ☕ — 👋🙂", "今天天气很好，我们去公园散步。", "👩‍👩‍👧 🇫🇷", "plain ascii"])
def test_character_groups_are_the_tokens_that_decode_to_whole_characters_together(lm, text):
    prompt = tokens.tokenize_prompt(lm, text)
    groups = tokens.character_groups([p.piece_bytes for p in prompt.pieces])
    grouped = {i for g in groups for i in range(g.start, g.stop)}
    # every token that is only part of a character is in a group, and only those runs are
    assert {p.index for p in prompt.pieces if p.is_partial_character} <= grouped
    for group in groups:
        ids = prompt.ids[group.start:group.stop]
        assert group.stop - group.start >= 2
        assert group.text == lm.tokenizer.decode(ids)  # the tokenizer's own decode of the run
        assert tokens.REPLACEMENT_CHAR not in group.text
        # the run neither starts nor ends inside a character
        assert tokens.REPLACEMENT_CHAR not in lm.tokenizer.decode(prompt.ids[:group.stop])
        assert tokens.REPLACEMENT_CHAR not in lm.tokenizer.decode(prompt.ids[group.start:])
    if text.isascii():
        assert groups == []


def test_character_groups_of_a_cut_off_character_keep_its_bytes():
    groups = tokens.character_groups([b"a", b" \xf0\x9f", b"\x8d"])  # a pizza emoji missing its last byte
    assert groups == [tokens.CharacterGroup(1, 3, " <F0 9F 8D>")]
    assert tokens.character_groups([b"a", None]) == []


@pytest.mark.parametrize("text", ["I love pizza 🍕 😀", "今天天气很好"])
def test_byte_pieces_show_the_character_their_run_forms(lm, text):
    prompt = tokens.tokenize_prompt(lm, text)
    joined = tokens.with_joined_characters(prompt.pieces)
    groups = tokens.character_groups([p.piece_bytes for p in prompt.pieces])
    assert groups  # the prompt has characters cut into byte tokens
    for group in groups:
        char = lm.tokenizer.decode(prompt.ids[group.start:group.stop]).strip()  # the tokenizer's own decode
        for k in range(group.start, group.stop):
            expected = f"{prompt.pieces[k].display} {char} {k - group.start + 1}/{group.stop - group.start}"
            assert joined[k].display == expected
    untouched = {k for g in groups for k in range(g.start, g.stop)}
    assert all(joined[k] == p for k, p in enumerate(prompt.pieces) if k not in untouched)


def test_a_character_cut_off_before_its_last_byte_keeps_its_bytes_alone(lm):
    pieces = tokens.tokenize_prompt(lm, "pizza 🍕").pieces  # the emoji is three byte tokens
    assert [p.display for p in tokens.with_joined_characters(pieces)][-1].endswith("🍕 3/3")
    assert tokens.with_joined_characters(pieces[:-1]) == pieces[:-1]  # its last byte cut off
