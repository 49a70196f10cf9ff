"""The two speed paths (both cores per product; the lean one-token decoder) against plain transformers.

Greedy decoding through the decoder on a second Llama shape is checked against `generate` in
tests/test_generation.py, next to the same check for GPT-2."""

import threading

import pytest
import torch

from explain import generation, tokens
from explain.engine import fast_decode, two_core_matmul


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


def test_inside_the_block_every_product_of_the_model_is_split_over_both_cores(lm, monkeypatch):
    """What `install` is for, seen from outside: each matrix product of one forward runs as one
    two-halves `torch.bmm` when the site asks for it, and none does otherwise."""
    products = []
    bmm = torch.bmm
    monkeypatch.setattr(torch, "bmm", lambda *args, **kwargs: products.append(args[1].shape) or bmm(*args, **kwargs))
    linears = [m for m in lm.model.modules() if isinstance(m, torch.nn.Linear)]
    with torch.inference_mode():
        lm.model(torch.tensor([[5, 17, 42]]), use_cache=False)
        assert products == []  # a plain call is transformers' own nn.Linear (the tests' reference)
        with two_core_matmul.two_core_matmuls():
            lm.model(torch.tensor([[5, 17, 42]]), use_cache=False)
    assert len(linears) == 30 * 7 + 1 and len(products) == len(linears)
    assert {shape[0] for shape in products} == {2}  # two halves each


@pytest.mark.parametrize("which", ["tiny_llama", "lm"])
def test_batch_sampler_at_near_zero_temperature_is_greedy_for_every_row(which, request):
    model_fixture = request.getfixturevalue(which)
    prompts = [[5, 9, 2, 7, 30, 11], [40, 3], [8, 8, 8, 1]]  # different lengths, no padding
    sampler = fast_decode.LlamaBatchSampler(model_fixture.model)
    eos = generation._eos_ids(model_fixture)
    drawn = sampler.sample(prompts, max_new_tokens=8, temperature=1e-4, top_p=1.0, stop_ids=eos,
                           generator=torch.Generator().manual_seed(0))
    for prompt, new in zip(prompts, drawn):
        greedy, _, stopped = generation.greedy_ids(model_fixture, prompt, max_new_tokens=8)
        assert new == (greedy[:-1] if stopped else greedy)  # the sampler leaves the stop token out


def test_top_p_keeps_the_smallest_set_reaching_p_like_transformers():
    from transformers.generation.logits_process import TopPLogitsWarper

    torch.manual_seed(3)
    logits = torch.randn(4, 50) * 3
    for top_p in (0.5, 0.9, 0.95):
        kept_ref = TopPLogitsWarper(top_p)(None, logits.clone()) > float("-inf")
        counts = torch.zeros(4, 50)
        generator = torch.Generator().manual_seed(0)
        for candidates in (50, 8):  # the whole vocabulary, and the shortlist path (or its fallback)
            for _ in range(400):
                counts[torch.arange(4), fast_decode._sample_top_p(logits, 1.0, top_p, generator, candidates)] += 1
        assert not bool((counts.bool() & ~kept_ref).any())  # never draws a token transformers drops
        assert bool((counts.bool() == kept_ref).float().mean() > 0.9)  # and draws (nearly) all it keeps


def test_one_batched_step_equals_each_rows_own_one_row_step(tiny_llama):
    """Rows of different lengths in one `decode_step` (the length mask) give each row's own logits."""
    model = tiny_llama.model
    prompts = [[5, 9, 2, 7, 30, 11], [40, 3], [8, 8, 8, 1], [17]]
    weights = fast_decode.LlamaWeights(model)
    kv = fast_decode.KVSlots(weights, slots=len(prompts), capacity=12)
    with torch.inference_mode():
        first = fast_decode.prefill(kv, list(range(len(prompts))), prompts)
    singles = [fast_decode.LlamaDecoder(model) for _ in prompts]
    for decoder, ids, logits in zip(singles, prompts, first):
        torch.testing.assert_close(logits, decoder.start(ids, 6), rtol=1e-5, atol=1e-5)
    positions = torch.tensor([len(p) for p in prompts])
    for step in range(5):
        feed = torch.tensor([(3 * step + row) % 96 for row in range(len(prompts))])
        batched = fast_decode.decode_step(kv, feed, positions + step)
        for row, decoder in enumerate(singles):
            torch.testing.assert_close(batched[row], decoder.step(int(feed[row])), rtol=1e-5, atol=1e-5)
    # A slot moved into another keeps its sequence: row 3 continues from slot 0.
    kv.move(3, 0, len(prompts[3]) + 5)
    alone = fast_decode.decode_step(kv, torch.tensor([4]), torch.tensor([len(prompts[3]) + 5]))
    torch.testing.assert_close(alone[0], singles[3].step(4), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("which", ["lm", "tiny_llama"])
def test_keys_and_values_from_an_analysis_equal_the_prefills(which, request):
    """An analysed prompt's keys/values, rebuilt from the hidden states the analysis kept (a
    right-padded batch, as the inference worker runs it), are the prefill's, and its last logits
    the prefill's next-token logits."""
    from explain.engine.analysis import analyze_batch

    model_fixture = request.getfixturevalue(which)
    if which == "lm":
        prompts = [tokens.tokenize_prompt(model_fixture, text).ids
                   for text in ("The", "Le chat est assis sur", "東京は日本の", "I love pizza 🍕 because")]
    else:
        prompts = [[5, 9, 2, 7, 30, 11], [40, 3], [17]]
    weights = fast_decode.LlamaWeights(model_fixture.model)
    prefilled, rebuilt = (fast_decode.KVSlots(weights, slots=len(prompts), capacity=24) for _ in range(2))
    with torch.inference_mode():
        analyses = analyze_batch(model_fixture, prompts)
        logits = fast_decode.prefill(prefilled, list(range(len(prompts))), prompts)
        fast_decode.fill_from_hidden_states(rebuilt, list(reversed(range(len(prompts)))),
                                            [a.hidden_states for a in reversed(analyses)])
    for row, (ids, result) in enumerate(zip(prompts, analyses)):
        torch.testing.assert_close(torch.from_numpy(result.last_logits), logits[row], rtol=1e-5, atol=1e-4)
        for want, got in zip(prefilled.keys + prefilled.values, rebuilt.keys + rebuilt.values):
            torch.testing.assert_close(got[row, :, :len(ids)], want[row, :, :len(ids)], rtol=1e-5, atol=1e-5)
