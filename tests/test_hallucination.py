"""Why it makes things up: answer matching, the calibration maths, and the shipped results recomputed."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from explain import generation, hallucination as hal, tokens


def test_first_phrase_and_answer_key():
    assert hal.first_phrase(" Sydney, which is the largest city") == "Sydney"
    assert hal.first_phrase(" the capital of the Swiss Confederation.") == "the capital of the Swiss Confederation"
    assert hal.answer_key("The Nile") == hal.answer_key("nile river") == "nile"
    assert hal.answer_key("") == ""


def test_is_correct_needs_a_whole_word():
    assert hal.is_correct("Canberra", ["Canberra"])
    assert hal.is_correct("Leonardo da Vinci", ["da Vinci"])
    assert not hal.is_correct("Bernese", ["Bern"])
    assert not hal.is_correct("Sydney", ["Canberra"])


def test_auroc_matches_counting_every_pair():
    rng = np.random.default_rng(0)
    signal = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0], size=30)
    correct = rng.random(30) < 0.5
    pairs = list(itertools.product(signal[correct], signal[~correct]))
    reference = sum(1.0 if r > w else 0.5 if r == w else 0.0 for r, w in pairs) / len(pairs)
    assert hal.auroc(signal, correct) == pytest.approx(reference)
    assert np.isnan(hal.auroc(signal, np.ones(30, dtype=bool)))


def _answered(signal: float, correct: bool) -> hal.AnsweredQuestion:
    return hal.AnsweredQuestion(prompt="p", answers=["a"], greedy_text="", greedy_answer="", correct=correct,
                                top_prob=signal, rerolls=[], agreement=signal)


def test_calibration_bins_brier_and_ece_by_hand():
    answered = [_answered(0.1, False), _answered(0.2, True), _answered(0.9, True), _answered(1.0, True)]
    cal = hal.calibration(answered, edges=(0.0, 0.5, 1.0))
    assert cal.n_questions == 4 and cal.accuracy == 0.75
    agreement = cal.signals[0]
    assert [b.n for b in agreement.bins] == [2, 2]  # 1.0 falls in the last bin
    assert agreement.bins[0].accuracy == 0.5 and agreement.bins[0].mean_signal == pytest.approx(0.15)
    assert agreement.brier == pytest.approx(np.mean([0.01, 0.64, 0.01, 0.0]))
    assert agreement.ece == pytest.approx(0.5 * abs(0.5 - 0.15) + 0.5 * abs(1.0 - 0.95))
    assert agreement.auroc == pytest.approx(2 / 3 + 1 / 3)  # every right answer beats the one wrong one
    with pytest.raises(ValueError):
        hal.calibration([])


def test_questions_file_loads_and_rejects_an_entry_without_answers(tmp_path):
    assert len(hal.load_questions()) >= 10
    bad = tmp_path / "q.toml"
    bad.write_text('[[questions]]\nprompt = "The capital of Mars is"\nanswers = []\n', encoding="utf-8")
    with pytest.raises(ValueError, match="question 1"):
        hal.load_questions(bad)


def test_shipped_results_cover_the_questions_and_include_real_mistakes():
    payload = json.loads(hal.RESULTS_FILE.read_text(encoding="utf-8"))
    assert payload["n_rerolls"] == hal.N_REROLLS and payload["seed"] == hal.SEED
    answered = hal.load_results()
    assert [a.prompt for a in answered] == [q.prompt for q in hal.load_questions()]
    wrong = [a for a in answered if not a.correct]
    assert len(wrong) >= 3 and len(wrong) < len(answered)
    assert all(a.correct == hal.is_correct(a.greedy_answer, a.answers) for a in answered)


@pytest.mark.parametrize("prompt", ["The capital of Australia is", "The capital of France is"])
def test_a_sample_of_the_shipped_results_recomputes_on_the_live_model(lm, prompt):
    stored = next(a for a in hal.load_results() if a.prompt == prompt)
    question = next(q for q in hal.load_questions() if q.prompt == prompt)
    fresh = hal.answer_question(lm, question)
    assert fresh.greedy_answer == stored.greedy_answer and fresh.correct == stored.correct
    assert fresh.rerolls == stored.rerolls and fresh.agreement == stored.agreement
    assert fresh.top_prob == pytest.approx(stored.top_prob, abs=1e-4)


def test_top_prob_is_the_models_own_probability_of_its_first_token(lm, full_logits):
    import torch

    ids = tokens.encode(lm, "The capital of Australia is")
    greedy = generation.greedy_continuation(lm, ids, 1)
    probs = torch.softmax(full_logits(ids)[-1].double(), -1)
    assert greedy.probs[0] == pytest.approx(float(probs.max()), abs=1e-5)
    assert hal.reroll(lm, ids, n_rerolls=4, seed=3).answers == hal.reroll(lm, ids, n_rerolls=4, seed=3).answers


def test_distinct_n_by_hand():
    assert hal.distinct_n([[1, 2, 1, 2]], 2) == pytest.approx(2 / 3)  # (1,2) (2,1) (1,2)
    assert hal.distinct_n([[1, 2], [1, 2]], 2) == 0.5
    assert np.isnan(hal.distinct_n([[1]], 2))


def test_temperature_sweep_perplexity_is_the_models_own(lm, full_logits):
    import torch

    ids = tokens.encode(lm, "Once upon a time")
    point = hal.temperature_sweep(lm, ids, temperatures=(1.5,), n_samples=2, max_new_tokens=6)[0]
    samples = generation.sample_continuations(lm, ids, hal.SamplingSettings(strategy=hal.SAMPLE, temperature=1.5),
                                              2, 6, hal.SEED)
    perplexities = []
    for row in samples.new_ids:  # score each sample with one plain forward pass (no end token here)
        logp = torch.log_softmax(full_logits(ids + row).double(), -1)
        token_logp = [float(logp[len(ids) - 1 + i, t]) for i, t in enumerate(row)]
        perplexities.append(np.exp(-np.mean(token_logp)))
    assert point.perplexity == pytest.approx(np.mean(perplexities), rel=1e-3)


# ---------------------------------------------------------------------------------------------
# The page in AppTest, in English and in Spanish


def hallucinations_page(lang: str | None = None, prompt: str = "The capital of Australia is"):
    from streamlit.testing.v1 import AppTest

    from tests.pages import APP

    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["prompt"] = prompt
    if lang:
        at.query_params["lang"] = lang
    at.switch_page("views/hallucinations.py")
    return at.run()


def page_text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    return "\n".join(parts + [h.value for h in at.header] + [h.value for h in at.subheader])


def test_page_states_the_top5_chart_as_a_sentence_and_a_table(lm):
    from explain.engine import analysis
    from explain.next_token import distribution_from_logits
    from ui.html import visible_text

    at = hallucinations_page()
    assert not at.exception
    assert [h.value for h in at.header][:1] == ["1 · Ask it a question"]
    dist = distribution_from_logits(lm, analysis.analyze_prompt(lm, tokens.encode(lm, "The capital of Australia is"))
                                    .last_logits, top_n=5)
    text = page_text(at)
    assert f"The top one, '·Sydney', has {dist.probs[0]:.1%}; the next four share {sum(dist.probs[1:]):.1%}." in text
    table = next(df.value for df in at.dataframe if "token" in df.value.columns and "rank" in df.value.columns)
    assert list(table["token"]) == [visible_text(p.display) for p in dist.pieces]
    assert "wrong ❌" in text  # the model's Sydney, checked against the shipped answer
    assert "stay in English" not in text
    # Issue 20.10: the saved PNG says what it shows (title, prompt, model) and is named by page, chart, prompt.
    from tests.pages import chart, chart_config

    title = chart(at, "top5_chart")["layout"]["title"]
    assert title["text"] == "The five most likely next tokens"
    assert "The capital of Australia is" in title["subtitle"]["text"] and lm.name in title["subtitle"]["text"]
    assert chart_config(at, "top5_chart")["toImageButtonOptions"]["filename"] == \
        "hallucinations-top5-the-capital-of-australia-is"
    assert "random and unfiltered" in text  # issue 20.8: the re-rolls are sampled


def test_page_in_spanish_keeps_the_questions_in_english_and_says_so(lm):
    from unittest import mock

    from ui import i18n

    at = hallucinations_page("es")
    assert not at.exception
    headers = [h.value for h in at.header]
    assert headers == ["1 · Hazle una pregunta", "2 · Repite la misma pregunta", "3 · ¿Sabe cuándo se equivoca?",
                       "4 · Qué ayuda en la práctica"]
    text = page_text(at)
    assert "Estas preguntas se quedan en inglés" in text and "**Mito:**" in text
    assert "The capital of" in " ".join(b.label for b in at.button if b.key and b.key.startswith("hall_q_"))
    assert "incorrecta ❌" in text
    top = next(a for a in hal.load_results() if a.prompt == "The capital of Australia is")  # shipped: Sydney
    with mock.patch.object(i18n, "current_language", return_value="es"):
        assert f"tiene {i18n.format_percent(top.top_prob)}" in text  # Spanish decimals: "36,2 %"
    assert any("probabilidad" in df.value.columns for df in at.dataframe)
