"""The logit lens and per-position predictions against the model's own outputs."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from explain import logit_lens, tokens
from explain.engine import analysis


@pytest.fixture(scope="module")
def france(lm):
    ids = tokens.encode(lm, "The capital of France is")
    return ids, analysis.analyze_prompt(lm, ids)


def test_lens_at_the_last_layer_equals_the_models_real_output(lm, france):
    ids, result = france
    lens = logit_lens.logit_lens(lm, result.hidden_states, top_k=5)
    real = torch.softmax(torch.from_numpy(result.last_logits).double(), -1)
    top = torch.topk(real, 5)
    assert [p.id for p in lens.top_pieces[-1]] == top.indices.tolist()
    np.testing.assert_allclose(lens.top_probs[-1], top.values.numpy(), atol=1e-5)
    assert lens.final_token.text == " Paris"
    assert lens.layers == list(range(lm.config.num_hidden_layers + 1))
    assert lens.position == len(ids) - 1


def test_lens_at_an_earlier_layer_is_norm_then_head(lm, france):
    """Independent reference: run the model's own norm and head on layer 10's residual in torch."""
    _, result = france
    lens = logit_lens.logit_lens(lm, result.hidden_states, top_k=3)
    with torch.inference_mode():
        state = torch.from_numpy(result.hidden_states[10, -1])
        logits = lm.model.lm_head(lm.model.model.norm(state))
    probs = torch.softmax(logits.double(), -1)
    top = torch.topk(probs, 3)
    assert [p.id for p in lens.top_pieces[10]] == top.indices.tolist()
    np.testing.assert_allclose(lens.top_probs[10], top.values.numpy(), atol=1e-5)
    paris = lens.final_token.id
    assert lens.final_token_probs[10] == pytest.approx(float(probs[paris]), abs=1e-5)


def test_lens_on_gpt2_applies_ln_f_to_earlier_layers_only(tiny_gpt2):
    ids = [5, 17, 42, 8]
    with torch.inference_mode():
        out = tiny_gpt2.model(torch.tensor([ids]), output_hidden_states=True)
    hidden = torch.stack(out.hidden_states)[:, 0].numpy()
    last = logit_lens.head_logits(tiny_gpt2, hidden[-1], already_normed=True)
    np.testing.assert_allclose(last, out.logits[0].numpy(), atol=1e-5)
    with torch.inference_mode():
        manual = tiny_gpt2.model.lm_head(tiny_gpt2.model.transformer.ln_f(out.hidden_states[1][0]))
    np.testing.assert_allclose(logit_lens.head_logits(tiny_gpt2, hidden[1], already_normed=False), manual.numpy(), atol=1e-5)


def test_position_predictions_equal_the_full_forward(lm, full_logits):
    ids = tokens.encode(lm, "The cat sat on the mat because it was warm.")
    result = analysis.analyze_prompt(lm, ids)
    preds = logit_lens.position_predictions(lm, ids, result.hidden_states)
    log_probs = torch.log_softmax(full_logits(ids).double(), -1)[:-1]  # (T-1, vocab)
    targets = torch.tensor(ids[1:])
    actual = log_probs[torch.arange(len(targets)), targets]
    np.testing.assert_allclose(preds.actual_probs, actual.exp().numpy(), atol=1e-5)
    assert [p.id for p in preds.guesses] == log_probs.argmax(-1).tolist()
    assert [p.id for p in preds.actual] == ids[1:]
    ranks = [int((torch.argsort(row, descending=True) == t).nonzero()) + 1 for row, t in zip(log_probs, targets)]
    assert preds.actual_ranks == ranks
    np.testing.assert_allclose(preds.surprisal_bits, (-actual / np.log(2)).numpy(), atol=1e-4)
    # Perplexity as transformers computes it: exp of the mean cross-entropy loss of the shifted labels.
    with torch.inference_mode():
        loss = lm.model(torch.tensor([ids]), labels=torch.tensor([ids])).loss
    assert preds.perplexity == pytest.approx(float(loss.exp()), rel=1e-4)


def test_one_token_prompt_has_no_positions(lm):
    ids = tokens.encode(lm, "Hello")[:1]
    result = analysis.analyze_prompt(lm, ids)
    preds = logit_lens.position_predictions(lm, ids, result.hidden_states)
    assert preds.actual == [] and np.isnan(preds.perplexity)


def test_first_layer_on_top_is_where_the_final_answer_starts_to_lead_for_good(lm, france):
    """Read straight off the table: the earliest layer from which every later layer's top-1 is the answer."""
    _, result = france
    lens = logit_lens.logit_lens(lm, result.hidden_states, top_k=1)
    tops = [pieces[0].id for pieces in lens.top_pieces]
    final = lens.final_token.id
    expected = min(layer for layer in lens.layers if all(t == final for t in tops[layer:]))
    assert lens.first_layer_on_top == expected
    assert tops[-1] == final and (expected == 0 or tops[expected - 1] != final)


def test_top_indices_equal_a_full_stable_sort_ties_included():
    from explain.next_token import top_indices

    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(7, 300)).astype(np.float64)  # many ties at every rank
    scores[3] = 1.0  # a row of one value
    for k in (1, 3, 10, 300, 400):
        np.testing.assert_array_equal(top_indices(scores, k), np.argsort(-scores, axis=-1, kind="stable")[:, :k])
    vector = rng.normal(size=49_152)
    np.testing.assert_array_equal(top_indices(vector, 20), np.argsort(-vector, kind="stable")[:20])


def test_the_output_head_runs_on_the_inference_worker_not_in_the_callers_thread(lm, france, monkeypatch):
    """Thirty sessions projecting hidden states in their own threads would share two cores at once."""
    _, result = france
    head, threads = lm.model.get_output_embeddings(), []

    def recording_head(states):
        threads.append(threading.current_thread().name)
        return head(states)

    monkeypatch.setattr(lm.model, "get_output_embeddings", lambda: recording_head)
    lens = logit_lens.logit_lens(lm, result.hidden_states, top_k=3)
    assert threads and set(threads) == {"inference-worker"}
    assert lens.final_token.text == " Paris"
