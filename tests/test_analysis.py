import numpy as np
import pytest
import torch

from explain.engine.analysis import analyze_prompt
from explain.tokens import tokenize_prompt


@pytest.fixture(scope="module")
def analysis(lm):
    return analyze_prompt(lm, tokenize_prompt(lm, "The cat sat on the mat because it was warm.").ids)


def test_everything_equals_the_models_own_outputs(lm, analysis):
    with torch.inference_mode():
        out = lm.model(torch.tensor([analysis.ids]), output_attentions=True, output_hidden_states=True)
    np.testing.assert_allclose(analysis.attentions, torch.stack(out.attentions)[:, 0].numpy(), atol=1e-6)
    np.testing.assert_allclose(analysis.hidden_states, torch.stack(out.hidden_states)[:, 0].numpy(), atol=1e-5)
    np.testing.assert_allclose(analysis.last_logits, out.logits[0, -1].numpy(), atol=1e-4)


def test_attention_is_causal_and_rows_sum_to_one(lm, analysis):
    T = len(analysis.ids)
    assert analysis.attentions.shape == (30, 9, T, T)
    assert analysis.hidden_states.shape == (31, T, 576)
    np.testing.assert_allclose(analysis.attentions.sum(-1), 1.0, atol=1e-5)
    upper = np.triu(np.ones((T, T), dtype=bool), k=1)
    assert np.all(analysis.attentions[..., upper] == 0)


def test_first_hidden_state_is_the_embedding_lookup(lm, analysis):
    table = lm.model.get_input_embeddings().weight.detach().numpy()
    np.testing.assert_allclose(analysis.hidden_states[0], table[analysis.ids], atol=1e-6)
