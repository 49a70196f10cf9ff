"""ui.state's cached wrappers: keyed by the model's name, computed with the model they are given."""

from __future__ import annotations

import numpy as np

from explain import generation
from ui import state


def count_lookups(monkeypatch, model) -> list[str]:
    """Every name `state.get_model` is asked for from now on (it answers with `model`)."""
    asked: list[str] = []
    monkeypatch.setattr(state, "get_model", lambda name: asked.append(name) or model)
    return asked


def test_the_shared_forward_uses_the_model_it_is_given(tiny_llama, monkeypatch):
    asked = count_lookups(monkeypatch, tiny_llama)
    ids = (5, 17, 42, 8)
    first = state.cached_analysis(tiny_llama, ids)
    assert asked == [] and first.ids == list(ids)
    # a wrapper that keeps only the name finds the same entry (one entry per name, not per spelling)
    assert state.cached_analysis(tiny_llama.name, ids) is first and asked == [tiny_llama.name]


def test_tokens_and_continuations_use_the_model_they_are_given(lm, monkeypatch):
    asked = count_lookups(monkeypatch, lm)
    prompt = state.cached_prompt_tokens(lm, "The capital of France is")
    continuation = state.cached_greedy_continuation(lm, tuple(prompt.ids), 3)
    assert asked == [] and prompt.ids and len(continuation.new_ids) == 3
    assert state.cached_greedy_continuation(lm.name, tuple(prompt.ids), 3) == continuation
    assert asked == [lm.name]


def test_page_wrappers_key_a_model_by_its_name(tiny_llama, tiny_gpt2, monkeypatch):
    """`state.BY_MODEL_NAME`: the same model is one entry, two models never share one, and the
    model itself is handed to the function (never looked up again by name)."""
    import streamlit as st

    asked = count_lookups(monkeypatch, tiny_llama)
    computed: list[str] = []

    @st.cache_data(hash_funcs=state.BY_MODEL_NAME, show_spinner=False)
    def name_and_width(lm, n: int) -> tuple[str, int]:
        computed.append(lm.name)
        return lm.name, lm.config.hidden_size + n

    assert name_and_width(tiny_llama, 1) == (tiny_llama.name, 65) == name_and_width(tiny_llama, 1)
    assert name_and_width(tiny_gpt2, 1)[0] == tiny_gpt2.name != tiny_llama.name
    assert computed == [tiny_llama.name, tiny_gpt2.name] and asked == []


def test_a_cached_continuation_is_greedy_decoding_from_the_shared_analysis(lm, monkeypatch):
    """Why it makes things up's greedy answer: the tokens and probabilities of plain greedy decoding,
    with no model forward of its own once the prompt's shared analysis exists."""
    ids = tuple(state.cached_prompt_tokens(lm, "The tallest mountain in Africa is").ids)
    state.cached_analysis(lm, ids)
    calls, original = [], lm.model.forward

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(lm.model, "forward", counted)
    continuation = state.cached_greedy_continuation(lm, ids, 6)
    assert calls == []
    monkeypatch.undo()
    reference = generation.greedy_continuation(lm, list(ids), 6)
    assert continuation.new_ids == reference.new_ids and continuation.text == reference.text
    np.testing.assert_allclose(continuation.probs, reference.probs, atol=1e-5)
