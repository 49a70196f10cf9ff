import numpy as np
import pytest
import torch

from explain import next_token, tokens

PROMPTS = ["The capital of France is", "def add(a, b):\n    return", "今天天气很好"]


@pytest.mark.parametrize("text", PROMPTS)
def test_last_logits_equal_the_models_full_forward(lm, full_logits, text):
    ids = tokens.tokenize_prompt(lm, text).ids
    ours = next_token.last_logits(lm, ids)
    reference = full_logits(ids)[-1].numpy()
    assert ours.shape == (lm.config.vocab_size,)
    np.testing.assert_allclose(ours, reference, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("temperature", [0.05, 0.5, 1.0, 2.0, 3.0])
def test_probabilities_equal_torch_softmax(lm, full_logits, temperature):
    ids = tokens.tokenize_prompt(lm, PROMPTS[0]).ids
    logits = next_token.last_logits(lm, ids)
    dist = next_token.distribution_from_logits(lm, logits, temperature=temperature, top_n=20)
    reference = torch.softmax(full_logits(ids)[-1].double() / temperature, dim=-1)
    top = torch.topk(reference, 20)
    assert dist.token_ids == top.indices.tolist()
    np.testing.assert_allclose(dist.probs, top.values.numpy(), atol=1e-6)
    entropy = torch.distributions.Categorical(probs=reference).entropy().item() / np.log(2)
    assert dist.entropy_bits == pytest.approx(entropy, abs=1e-4)
    assert dist.top_n_mass == pytest.approx(float(top.values.sum()), abs=1e-6)
    assert dist.probs == sorted(dist.probs, reverse=True)


def test_capital_of_france_is_paris(lm):
    ids = tokens.tokenize_prompt(lm, PROMPTS[0]).ids
    dist = next_token.distribution_from_logits(lm, next_token.last_logits(lm, ids), top_n=5)
    assert dist.pieces[0].text == " Paris"
    assert dist.vocab_size == 49152


def test_softmax_sums_to_one_and_low_temperature_tends_to_argmax():
    logits = np.array([1.0, 3.0, 2.0, -5.0], dtype=np.float32)
    assert next_token.softmax(logits).sum() == pytest.approx(1.0)
    assert next_token.softmax(logits, 0.01)[1] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        next_token.softmax(logits, 0)


def test_softmax_and_rank_work_row_by_row_as_the_lessons_use_them():
    """Logit-lens rows and masked attention scores go through the same two functions."""
    rows = np.random.default_rng(3).normal(size=(4, 50)) * 5
    rows[2, 30:] = -np.inf  # a masked row, as in causal attention
    probs = next_token.softmax(rows)
    np.testing.assert_allclose(probs, torch.softmax(torch.from_numpy(rows), dim=-1).numpy(), rtol=1e-12)
    ids = np.array([0, 7, 3, 49])
    by_count = [1 + sum(p > row[i] for p in row) for row, i in zip(probs, ids)]
    assert next_token.rank_of(probs, ids).tolist() == by_count
    assert [next_token.rank_of(row, int(i)) for row, i in zip(probs, ids)] == by_count
    assert next_token.rank_of(probs[0], int(np.argmax(probs[0]))) == 1


def test_empty_ids_are_refused(lm):
    with pytest.raises(ValueError):
        next_token.last_logits(lm, [])
