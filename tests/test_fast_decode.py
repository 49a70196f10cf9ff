"""The two speed paths (both cores per product; the lean one-token decoder) against plain transformers."""

import threading

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from explain import fast_decode, generation, tokens, two_core_matmul
from explain.models import LoadedModel


@pytest.fixture(scope="module")
def tiny_llama() -> LoadedModel:
    """A random 3-layer Llama with 4 query heads sharing 2 key/value heads (another GQA shape)."""
    torch.manual_seed(1)
    config = LlamaConfig(
        vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        tie_word_embeddings=False, attn_implementation="eager",
    )
    model = two_core_matmul.install(LlamaForCausalLM(config).eval())
    return LoadedModel(name="tiny-llama", model=model, tokenizer=None, source="random init", load_seconds=0.0)


def _decoder_vs_model(model, ids, steps):
    """Largest |logit difference| between the decoder and the model's own full forward, per step."""
    decoder = fast_decode.LlamaDecoder(model)
    logits = decoder.start(ids, steps)
    sequence, worst = list(ids), 0.0
    with torch.inference_mode():
        for _ in range(steps):
            reference = model(torch.tensor([sequence])).logits[0, -1]
            worst = max(worst, float((reference - logits).abs().max()))
            token = int(reference.argmax())
            sequence.append(token)
            logits = decoder.step(token)
    return worst


def test_decoder_logits_equal_the_models_own_at_every_step(lm):
    ids = tokens.tokenize_prompt(lm, "The capital of France is").ids
    assert fast_decode.supports(lm.model)
    assert _decoder_vs_model(lm.model, ids, steps=6) < 1e-3  # fp32; logits are O(10)


def test_decoder_handles_another_grouped_query_shape(tiny_llama):
    assert fast_decode.supports(tiny_llama.model)
    assert _decoder_vs_model(tiny_llama.model, [3, 14, 15, 92, 65], steps=10) < 1e-4


def test_greedy_on_the_decoder_equals_generate_on_another_llama(tiny_llama):
    ids = [7, 1, 8, 2, 8]
    new_ids, probs, _ = generation.greedy_ids(tiny_llama, ids, max_new_tokens=15)
    with torch.inference_mode():
        reference = tiny_llama.model.generate(
            torch.tensor([ids]), do_sample=False, max_new_tokens=15, eos_token_id=None, pad_token_id=0
        )[0, len(ids):].tolist()
    assert new_ids == reference
    assert all(0 < p <= 1 for p in probs)


def test_decoder_refuses_what_it_does_not_reproduce(tiny_gpt2, tiny_llama):
    assert not fast_decode.supports(tiny_gpt2.model)
    with pytest.raises(ValueError):
        fast_decode.LlamaDecoder(tiny_gpt2.model)
    decoder = fast_decode.LlamaDecoder(tiny_llama.model)
    decoder.start([1, 2], max_new_tokens=1)
    decoder.step(3)
    with pytest.raises(RuntimeError, match="buffer is full"):
        decoder.step(4)


def test_two_core_products_equal_nn_linear_and_are_opt_in_per_thread(lm):
    layer = lm.model.model.layers[0].mlp.gate_proj
    assert isinstance(layer, two_core_matmul.TwoCoreLinear)
    for rows in (1, 7, 32):
        x = torch.randn(1, rows, layer.in_features)
        with torch.inference_mode():
            plain = torch.nn.functional.linear(x, layer.weight)
            with two_core_matmul.two_core_matmuls():
                split = layer(x)
        assert split.shape == plain.shape
        torch.testing.assert_close(split, plain, rtol=1e-5, atol=1e-5)

    seen_in_other_thread = []
    with two_core_matmul.two_core_matmuls():
        assert two_core_matmul.enabled()
        worker = threading.Thread(target=lambda: seen_in_other_thread.append(two_core_matmul.enabled()))
        worker.start()
        worker.join()
    assert seen_in_other_thread == [False]
    assert not two_core_matmul.enabled()


def test_install_keeps_weights_tied_and_counts_unchanged(lm):
    assert lm.model.lm_head.weight is lm.model.model.embed_tokens.weight
    assert sum(p.numel() for p in lm.model.parameters()) == 134_515_008
    assert not any(type(m) is torch.nn.Linear for m in lm.model.modules())
