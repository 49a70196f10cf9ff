"""The tokenizer's cost of a language, against the tokenizer called directly."""

from __future__ import annotations

import pytest

from explain import language_cost as cost


def test_every_language_has_as_many_sentences_as_english():
    assert {len(sentences) for sentences in cost.PARALLEL_SENTENCES.values()} == {len(cost.PARALLEL_SENTENCES["en"])}


@pytest.mark.parametrize("lang", ["es", "fr", "zh"])
def test_cost_counts_the_tokenizers_own_tokens(lm, lang):
    result = cost.language_cost(lm, lang)
    direct = sum(len(lm.tokenizer(s, add_special_tokens=False)["input_ids"]) for s in cost.PARALLEL_SENTENCES[lang])
    english = sum(len(lm.tokenizer(s, add_special_tokens=False)["input_ids"]) for s in cost.PARALLEL_SENTENCES["en"])
    assert (result.n_tokens, result.n_reference_tokens) == (direct, english)
    assert result.ratio == pytest.approx(direct / english)
    assert result.ratio > 1  # a mostly-English tokenizer: every other language costs more


def test_english_costs_exactly_english_and_unknown_languages_are_refused(lm):
    assert cost.language_cost(lm, "en").ratio == 1.0
    with pytest.raises(ValueError, match="PARALLEL_SENTENCES"):
        cost.language_cost(lm, "de")
