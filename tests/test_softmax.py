"""The Softmax page: typed-token rank, the chain rule on the page, the game, and the page itself (AppTest)."""

from __future__ import annotations

import html

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explain import next_token, tokens
from explain.word_probability import WORD_TOKEN_CAP
from tests import pages
from tests.pages import APP, ForwardCounter, chart, run_page
from ui.html import markdown_escape, visible_text
from ui.softmax import one_in, probability_text



@pytest.mark.parametrize(("word", "temperature"), [(" Paris", 1.0), (" London", 0.5), ("banana", 2.0), (" 🍕", 1.0)])
def test_typed_token_probability_and_rank_equal_sorting(lm, word, temperature):
    ids = tokens.encode(lm, "The capital of France is")
    logits = next_token.last_logits(lm, ids)
    result = next_token.typed_token(lm, logits, word, temperature)
    first = tokens.encode(lm, word)[0]
    probs = torch.softmax(torch.from_numpy(logits).double() / temperature, -1)
    order = torch.argsort(probs, descending=True, stable=True)
    assert result.token_id == first
    assert result.rank == int((order == first).nonzero()) + 1
    assert result.prob == pytest.approx(float(probs[first]), abs=1e-9)
    assert [p.id for p in result.pieces] == tokens.encode(lm, word)
    if word == " Paris":
        assert result.rank == 1


def test_typed_token_empty_is_none(lm):
    assert next_token.typed_token(lm, np.zeros(49152, dtype=np.float32), "") is None


def test_rank_of_counts_strictly_more_likely_tokens():
    probs = np.array([0.1, 0.4, 0.4, 0.1])
    assert next_token.rank_of(probs, 1) == 1 and next_token.rank_of(probs, 0) == 3


def softmax_page(prompt: str) -> AppTest:
    return run_page("views/softmax.py", prompt, timeout=180)


def test_softmax_page_numbers_and_instant_temperature(lm):
    at = softmax_page("The capital of France is")
    assert not at.exception
    assert any(m.label.startswith("Top token") and m.value == "77.3%" for m in at.metric)
    entropy = float(next(m.value for m in at.metric if m.label == "Entropy").split()[0])
    logits = next_token.last_logits(lm, tokens.encode(lm, "The capital of France is"))
    reference = torch.distributions.Categorical(logits=torch.from_numpy(logits).double()).entropy() / np.log(2)
    assert entropy == pytest.approx(float(reference), abs=0.006)
    assert any(m.label == "Rank of its first token" and m.value == "3 of 49,152" for m in at.metric)  # ' London'
    from ui.state import get_model

    with ForwardCounter(get_model("SmolLM2-135M-Instruct (embedded)").model) as counter:
        at.slider(key="softmax_temperature").set_value(0.3).run()
        at.slider(key="softmax_top_n").set_value(25).run()
        at.text_input(key="softmax_word").set_value("Rome").run()
    assert not at.exception
    assert counter.calls == 0  # temperature, top-N and a one-token word re-derive from stored logits
    with ForwardCounter(get_model("SmolLM2-135M-Instruct (embedded)").model) as counter:
        at.session_state["prompt"] = "A prompt this test has never used before"
        at.run()
    assert counter.calls >= 1  # the counter does see forwards: a new prompt needs one
    at.session_state["prompt"] = "The capital of France is"
    at.run()
    probs = chart(at, "probs")["data"][0]["x"]
    reference = torch.softmax(torch.from_numpy(logits).double() / 0.3, -1)
    np.testing.assert_allclose(probs, torch.topk(reference, 25).values.numpy(), atol=1e-6)
    lens = chart(at, "lens")["data"][0]["y"]
    assert lens[-1] == pytest.approx(float(torch.softmax(torch.from_numpy(logits).double(), -1).max()), abs=1e-5)


def test_predict_then_reveal_hides_the_answer_until_revealed(lm):
    """The classroom game: no probabilities before Reveal, then the guess's true rank and probability."""
    from explain.engine.analysis import analyze_prompt
    from explain.next_token import softmax
    from explain.tokens import encode, tokenize_prompt

    at = run_page("views/softmax.py", "The capital of France is", query_params={"softmax_game": "true"})
    assert not at.exception
    assert not at.get("plotly_chart"), "nothing may be revealed before the guess"
    at.text_input(key="softmax_guess").set_value("London").run()
    assert not at.get("plotly_chart")
    at.button(key="softmax_reveal").click().run()
    assert not at.exception and at.get("plotly_chart")
    probs = softmax(analyze_prompt(lm, tokenize_prompt(lm, "The capital of France is").ids).last_logits)
    guess_id = encode(lm, " London")[0]
    rank = int((probs > probs[guess_id]).sum()) + 1
    message = at.success[0].value
    assert f"**{probability_text(np.log10(probs[guess_id]))}**" in message  # ' London' is one token
    assert f"Rank of its **first token**: **{rank:,}**" in message and "temperature 1" in message


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def chain_reference(lm, prompt: str, word: str, temperature: float) -> float:
    """log10 P(word | prompt) from one plain forward over prompt + word, torch.log_softmax on its logits."""
    prompt_ids, word_ids = tokens.encode(lm, prompt), tokens.encode(lm, word)
    with torch.inference_mode():
        logits = lm.model(torch.tensor([prompt_ids + word_ids])).logits[0].double()
    log_probs = torch.log_softmax(logits / temperature, -1)[len(prompt_ids) - 1 : -1]
    return float(log_probs[torch.arange(len(word_ids)), torch.tensor(word_ids)].sum()) / np.log(10)


def test_type_a_word_shows_the_chain_rule_at_the_page_temperature(lm):
    """'Parisian' is the product of ' Paris' and 'ian', not ' Paris' alone; one forward per new word."""
    from ui.state import get_model

    at = softmax_page("The capital of France is")
    with ForwardCounter(get_model("SmolLM2-135M-Instruct (embedded)").model) as counter:
        at.text_input(key="softmax_word").set_value("Parisian").run()
    assert not at.exception and counter.calls == 1  # prompt + ' Paris': one causal forward gives both factors
    assert metric(at, "Whole-word probability") == probability_text(
        chain_reference(lm, "The capital of France is", " Parisian", 1.0))
    assert metric(at, "Whole-word probability").endswith("10⁻⁶")
    assert metric(at, "Rank of its first token") == "1 of 49,152" and metric(at, "Tokens in the word") == "2"
    chain = next(h.proto.body for h in at.get("html") if "P('" in h.proto.body)
    assert "·Paris" in chain and "ian" in chain and "77.3%" in chain
    with ForwardCounter(get_model("SmolLM2-135M-Instruct (embedded)").model) as counter:
        at.slider(key="softmax_temperature").set_value(2.0).run()
    assert counter.calls == 0  # the temperature re-derives the chain from its stored logits
    assert metric(at, "Whole-word probability") == probability_text(
        chain_reference(lm, "The capital of France is", " Parisian", 2.0))
    assert any("temperature 2.00" in c.value for c in at.caption)
    at.checkbox(key="softmax_space").uncheck().run()
    assert metric(at, "Whole-word probability") == probability_text(
        chain_reference(lm, "The capital of France is", "Parisian", 2.0))


@pytest.mark.parametrize("word", ["", "   ", "🍕☕", "今天天气很好", "<script>alert(1)</script>", "🍕" * 20])
def test_type_a_word_survives_hostile_words(lm, word):
    at = softmax_page("The capital of France is")
    at.text_input(key="softmax_word").set_value(word).run()
    assert not at.exception
    if not word.strip():
        assert any("Type a word" in info.value for info in at.info)
        return
    for body in pages.page_html(at):
        assert "<script" not in body
    if word == "🍕" * 20:  # 60 byte tokens: measured over the first WORD_TOKEN_CAP, and the page says so
        assert len(tokens.encode(lm, " " + word)) > WORD_TOKEN_CAP
        assert any(f"only the first {WORD_TOKEN_CAP}" in w.value for w in at.warning)


def test_the_guess_is_cleared_when_the_prompt_changes():
    """Issue 20.11: a guess belongs to the prompt it was made for."""
    at = run_page("views/softmax.py", "The capital of France is", query_params={"softmax_game": "true"})
    at.text_input(key="softmax_guess").set_value("Parisian").run()
    at.button(key="softmax_reveal").click().run()
    assert at.success and "10⁻⁶" in at.success[0].value and not at.exception
    at.session_state["prompt"] = "The capital of Italy is"
    at.run()
    assert at.text_input(key="softmax_guess").value == ""
    assert not at.success and not at.get("plotly_chart")
    assert any("stay hidden" in info.value for info in at.info)


def test_probability_text_and_markdown_escaping():
    assert probability_text(np.log10(0.773)) == "77.3%"
    assert probability_text(np.log10(0.0052)) == "0.52%" and probability_text(np.log10(0.0105)) == "1.0%"
    assert probability_text(np.log10(0.09999)) == "10%"
    assert probability_text(np.log10(1.78e-6)) == "1.8 × 10⁻⁶"
    assert probability_text(np.log10(9.96e-7)) == "1.0 × 10⁻⁶"
    assert probability_text(-800.0) == "1.0 × 10⁻⁸⁰⁰"
    assert one_in(np.log10(1.78e-6)) == "1 in 560,000" and one_in(-26.7) == "1 in 5.0 × 10²⁶"
    assert markdown_escape("**b** [x](y) $a$") == r"\*\*b\*\* \[x\]\(y\) \$a\$"


def test_softmax_page_in_french_with_locale_numbers_and_chart_tables(lm):
    """Issue 18: the page in French — its header, labels and numbers (decimal comma), and every chart
    has a computed sentence and a 'show as table' holding its data."""
    from explain.next_token import distribution_from_logits

    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["prompt"] = "The capital of France is"
    at.query_params["lang"] = "fr"
    at.switch_page("views/softmax.py")
    at.run()
    assert not at.exception
    assert at.title[0].value == "🌡️ Softmax\u202f: des scores aux probabilités"
    assert [h.value for h in at.header][0] == "1 · Logits\u202f: un score pour chaque token"
    assert any(m.label == "Token en tête '·Paris'" and m.value == "77,3\u00a0%" for m in at.metric)
    assert any(m.label == "Rang de son premier token" and m.value == "3 sur 49\u202f152" for m in at.metric)
    tables = [e for e in at.expander if e.label == "Afficher sous forme de tableau"]
    assert len(tables) == 4  # logits, histogram, probabilities, logit lens
    dist = distribution_from_logits(lm, next_token.last_logits(lm, tokens.encode(lm, "The capital of France is")), 1.0, 15)
    sentence = ("Le token en tête est '·Paris' avec 77,3\u00a0% ; les quatre suivants se partagent "
                f"{i18n_percent_fr(sum(dist.probs[1:5]))}")
    assert any(c.value.startswith(sentence.replace(" ;", "\u202f;")) for c in at.caption)
    tables = [h.proto.body for h in at.get("html") if 'role="region"' in h.proto.body]
    probability_table = tables[2]  # the probability chart's table: its bars, in order, in a focusable region
    assert 'tabindex="0"' in probability_table and '<th scope="col"' in probability_table
    cells = [html.escape(repr(visible_text(p.display))) for p in dist.pieces]
    positions = [probability_table.index(f">{cell}</td>") for cell in cells]
    assert positions == sorted(positions)


def i18n_percent_fr(fraction: float) -> str:
    from unittest import mock

    from ui import i18n

    with mock.patch.object(i18n, "current_language", return_value="fr"):
        return i18n.format_percent(fraction)


BYTE_NOTE = "is not a word: it holds part of a character"


def test_byte_pieces_are_named_and_framed_under_their_character(lm):
    """Issue 20.8 on Softmax and Sampling: after a Chinese prompt most candidates are byte pieces
    (`<E6>`), and the chart's sentence says what they are (not after an English prompt); the
    surprise chips frame a character's byte tokens under that character, as the prompt's chips do."""
    from explain import sampling
    from explain.sampling import SamplingSettings
    from ui.sampling import filter_sentence

    at = softmax_page("今天天气")
    assert not at.exception
    sentence = next(c.value for c in at.caption if c.value.startswith("The top token is"))
    assert "'\\<" in sentence and BYTE_NOTE in sentence  # Markdown-escaped bytes, then the note
    surprise = next(h.proto.body for h in at.get("html") if "expected (≥" in h.proto.body)
    for char in "今天气":
        assert f"together form {char}" in surprise
    english = softmax_page("The capital of France is")
    assert BYTE_NOTE not in next(c.value for c in english.caption if c.value.startswith("The top token is"))
    settings = SamplingSettings(top_p=0.9)
    chinese_view = sampling.filter_view(lm, next_token.last_logits(lm, tokens.encode(lm, "今天天气")), settings)
    english_view = sampling.filter_view(lm, next_token.last_logits(lm, tokens.encode(lm, "The capital of France is")),
                                        settings)
    assert BYTE_NOTE in filter_sentence(chinese_view) and BYTE_NOTE not in filter_sentence(english_view)
