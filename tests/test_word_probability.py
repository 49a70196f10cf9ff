"""explain.word_probability: a word's probability by the chain rule, against independent references.

References: one plain forward over prompt + the whole word with torch.log_softmax on the model's
own logits, and one forward per token (prompt + the word's first i tokens), each scored separately.
"""

from __future__ import annotations

import math

import pytest
import torch

from explain import next_token, tokens, word_probability as wp
from tests.pages import ForwardCounter

PROMPT = "The capital of France is"
WORDS = [" Parisian", "Parisian", " Paris", " 🍕", " 今天", " <script>alert(1)</script>", " the city of light"]


@pytest.fixture(scope="module")
def prompt_ids(lm):
    return tokens.encode(lm, PROMPT)


@pytest.mark.parametrize("word", WORDS)
def test_chain_rule_equals_log_softmax_of_one_full_forward(lm, full_logits, prompt_ids, word):
    measured = wp.word_tokens(lm, word)
    logits = wp.chain_logits(lm, prompt_ids, measured.ids)
    word_ids = tokens.encode(lm, word)
    rows = torch.arange(len(word_ids)) + len(prompt_ids) - 1  # the positions that predict the word's tokens
    reference_logits = full_logits(prompt_ids + word_ids).double()  # every position, the whole word as input
    for temperature in [1.0, 0.5, 2.0]:
        result = wp.word_probability_from_logits(lm, logits, measured, temperature)
        log_probs = torch.log_softmax(reference_logits / temperature, -1)  # (T, vocab)
        reference = log_probs[rows, torch.tensor(word_ids)]
        assert [f.piece.id for f in result.factors] == word_ids
        assert [f.log_prob for f in result.factors] == pytest.approx(reference.tolist(), abs=2e-4)
        assert result.log_prob == pytest.approx(float(reference.sum()), abs=1e-3)
        assert result.prob == pytest.approx(math.exp(float(reference.sum())), rel=2e-3)
        first = log_probs[len(prompt_ids) - 1]
        assert result.first_token_rank == int((first > first[word_ids[0]]).sum()) + 1
        assert result.temperature == temperature and result.text == word and not result.truncated


@pytest.mark.parametrize("word", [" Parisian", " 🍕", " the city of light"])
def test_chain_rule_equals_sequential_single_token_forwards(lm, prompt_ids, word):
    result = wp.word_probability(lm, prompt_ids, word)
    word_ids = tokens.encode(lm, word)
    sequential = []
    for i, token_id in enumerate(word_ids):
        with torch.inference_mode():
            logits = lm.model(torch.tensor([prompt_ids + word_ids[:i]])).logits[0, -1].double()
        sequential.append(float(torch.log_softmax(logits, -1)[token_id]))
    assert [f.log_prob for f in result.factors] == pytest.approx(sequential, abs=2e-4)
    if word == " 🍕":  # three byte tokens, each only part of the emoji: say which character they form
        assert [f.part_of for f in result.factors] == ["🍕"] * 3 and result.factors[0].piece.is_partial_character
    else:
        assert all(f.part_of == "" for f in result.factors)


def test_parisian_is_two_tokens_and_far_less_likely_than_its_first_token(lm, prompt_ids):
    """The audit's case: ' Paris' is 77 % and rank 1, ' Parisian' as a whole is about 2e-6."""
    result = wp.word_probability(lm, prompt_ids, " Parisian")
    first = next_token.typed_token(lm, next_token.last_logits(lm, prompt_ids), " Parisian")
    assert [f.piece.text for f in result.factors] == [" Paris", "ian"]
    assert result.factors[0].prob == pytest.approx(first.prob, abs=1e-5) and result.first_token_rank == first.rank == 1
    assert 1e-7 < result.prob < 1e-5
    assert result.prob == pytest.approx(result.factors[0].prob * result.factors[1].prob, rel=1e-9)


def test_one_forward_gives_every_factor(lm, prompt_ids):
    with ForwardCounter(lm.model) as counter:
        logits = wp.chain_logits(lm, prompt_ids, tokens.encode(lm, " the city of light"))
    assert counter.calls == 1 and logits.shape == (4, lm.config.vocab_size)


def test_the_measured_tokens_are_the_tokenizers_own_for_prompt_plus_word(lm, prompt_ids):
    """Tokenizing the word on its own gives the tokens the full text would have after the prompt."""
    for word in [" Parisian", " the city of light", " 🍕"]:
        assert tokens.encode(lm, PROMPT + word) == prompt_ids + tokens.encode(lm, word)


def test_a_long_word_is_cut_to_the_cap_and_says_so(lm, prompt_ids):
    text = " supercalifragilisticexpialidocious" * 3
    result = wp.word_probability(lm, prompt_ids, text)
    all_ids = tokens.encode(lm, text)
    assert len(result.factors) == wp.WORD_TOKEN_CAP < len(all_ids) == result.n_tokens_before_cap
    assert result.truncated and result.text == tokens.decode(lm, all_ids[: wp.WORD_TOKEN_CAP])
    assert math.isfinite(result.log_prob) and result.log_prob < -20  # stays exact where the product underflows


def test_tiny_products_do_not_underflow(lm, prompt_ids):
    result = wp.word_probability(lm, prompt_ids, " zebra quantum telescope banana", temperature=0.05)
    assert result.prob == 0.0 and result.log_prob < -745  # beyond float64: the log still holds it
    assert result.log10_prob == pytest.approx(sum(f.log10_prob for f in result.factors))


def test_no_tokens_means_no_measurement(lm, prompt_ids):
    assert wp.word_tokens(lm, "") is None
    assert wp.word_probability(lm, prompt_ids, "") is None


@pytest.mark.parametrize(
    ("prompt", "typed", "spaced"),
    [
        ("The capital of France is", "Parisian", True),
        ("The capital of France is ", "Paris", False),  # the space is already in the prompt
        ("Hello\n", "World", False),
        ("今天天气很好，我们去", "公园", False),  # Chinese is written without spaces
        ("I like", "寿司", False),
        ("def f():", "   ", False),
    ],
)
def test_spaced_by_default(prompt, typed, spaced):
    assert wp.spaced_by_default(prompt, typed) is spaced


def test_next_word_text_trims_and_adds_one_space():
    assert wp.next_word_text("  Paris  ", True) == " Paris"
    assert wp.next_word_text("Paris", False) == "Paris"
    assert wp.next_word_text("   ", True) == ""
    assert wp.next_word_text("a\ud800b", False) == "a\ufffdb"  # a lone surrogate (from a URL) is made encodable


def test_temperature_must_be_positive(lm, prompt_ids):
    word = wp.word_tokens(lm, " Paris")
    with pytest.raises(ValueError):
        wp.word_probability_from_logits(lm, wp.chain_logits(lm, prompt_ids, word.ids), word, 0.0)
