"""Inside a layer: every number checked against the model's own modules, hidden states and generate()."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explain import encoder_decoder, layer_parts, residual, rope, tokens, writing_attention
from explain.engine import analysis
from explain.logit_lens import final_norm

CAT = "The cat sat on the mat because it was warm."


@pytest.fixture(scope="module")
def cat(lm):
    ids = tokens.encode(lm, CAT)
    return ids, analysis.analyze_prompt(lm, ids), residual.trace_residual(lm, ids)


def hidden_states(model_lm, ids):
    with torch.inference_mode():
        out = model_lm.model(torch.tensor([ids]), output_hidden_states=True)
    return torch.stack(out.hidden_states)[:, 0].numpy(), out


# ---------------------------------------------------------------------------------------------
# 1 · The residual stream


@pytest.mark.parametrize("fixture", ["lm", "tiny_llama", "tiny_gpt2"])
def test_stream_after_every_block_is_the_models_hidden_state(fixture, request):
    model_lm = request.getfixturevalue(fixture)
    ids = [5, 17, 42, 8, 3, 60] if fixture != "lm" else tokens.encode(model_lm, CAT)
    trace = residual.trace_residual(model_lm, ids)
    reference, out = hidden_states(model_lm, ids)  # independent: a plain forward
    n_layer = trace.n_layer
    assert n_layer == model_lm.config.num_hidden_layers
    np.testing.assert_allclose(trace.embedding, reference[0, -1], atol=1e-5)
    for layer in range(n_layer - 1):  # transformers' last entry is after the final norm
        np.testing.assert_allclose(trace.stream_entering(layer + 1), reference[layer + 1, -1], atol=2e-3, rtol=1e-4)
    # embedding + Σ (attention + feed-forward) is the stream the final norm reads
    with torch.inference_mode():
        normed = final_norm(model_lm.model)(torch.from_numpy(trace.stream_entering(n_layer).astype(np.float32)))
        logits = model_lm.model.get_output_embeddings()(normed)
    np.testing.assert_allclose(normed.numpy(), reference[-1, -1], atol=2e-3, rtol=1e-3)
    np.testing.assert_allclose(trace.final_normed, reference[-1, -1], atol=1e-5)
    np.testing.assert_allclose(logits.numpy(), out.logits[0, -1].numpy(), atol=5e-3, rtol=1e-3)


def test_a_trace_records_only_its_own_forward_while_another_session_runs_one(tiny_llama):
    """The model is shared: another thread's forward (another visitor) must not enter the trace."""
    import threading

    ids, other = [5, 17, 42, 8, 3, 60], [9, 2, 33, 71, 4, 4, 12, 50, 7]
    alone = residual.trace_residual(tiny_llama, ids)
    stop = threading.Event()

    def other_visitor():
        while not stop.is_set():
            with torch.inference_mode():
                tiny_llama.model(torch.tensor([other]))

    visitor = threading.Thread(target=other_visitor)
    visitor.start()
    try:
        traces = [residual.trace_residual(tiny_llama, ids) for _ in range(20)]
    finally:
        stop.set()
        visitor.join()
    for trace in traces:
        assert trace.attn_writes.shape == alone.attn_writes.shape
        np.testing.assert_allclose(trace.attn_writes, alone.attn_writes, atol=1e-6)
        np.testing.assert_allclose(trace.ffn_hidden, alone.ffn_hidden, atol=1e-6)


def test_block_writes_and_readout(lm, cat):
    ids, ref, trace = cat
    writes = residual.block_writes(trace)
    np.testing.assert_allclose(writes.stream_norm[:-1], np.linalg.norm(ref.hidden_states[:-1, -1], axis=-1), rtol=1e-3)
    layer = 5
    a, s = trace.attn_writes[layer], ref.hidden_states[layer, -1]
    assert writes.attn_cosine[layer] == pytest.approx(a @ s / np.linalg.norm(a) / np.linalg.norm(s), abs=1e-4)
    f, mid = trace.ffn_writes[layer], ref.hidden_states[layer, -1] + a
    assert writes.ffn_cosine[layer] == pytest.approx(f @ mid / np.linalg.norm(f) / np.linalg.norm(mid), abs=1e-4)
    readout = residual.read_stream(lm, trace, top_k=3)
    assert len(readout.steps) == 2 * trace.n_layer + 1
    real = torch.softmax(torch.from_numpy(ref.last_logits).double(), -1)
    assert readout.top_pieces[-1][0].id == int(real.argmax())  # after the last block: the real answer
    assert readout.top_probs[-1][0] == pytest.approx(float(real.max()), abs=2e-4)
    tops = [p[0].id for p in readout.top_pieces]
    assert all(tops[s] != tops[s - 1] for s in readout.changes())
    assert len(set(readout.changes())) == sum(a != b for a, b in zip(tops, tops[1:]))


# ---------------------------------------------------------------------------------------------
# 2 · RMSNorm / LayerNorm


@pytest.mark.parametrize("fixture", ["lm", "tiny_gpt2"])
def test_norm_step_equals_the_models_norm(fixture, request):
    model_lm = request.getfixturevalue(fixture)
    vector = np.random.default_rng(0).normal(2.0, 3.0, model_lm.config.hidden_size).astype(np.float32)
    module = layer_parts.norm_module(model_lm, 1)
    step = layer_parts.apply_norm(module, vector)
    with torch.inference_mode():
        expected = module(torch.from_numpy(vector)).numpy()
    np.testing.assert_allclose(step.after, expected, atol=1e-4, rtol=1e-4)
    assert step.largest_after(3) == np.argsort(-np.abs(expected))[:3].tolist()
    if fixture == "lm":
        assert step.kind == "RMSNorm" and step.mean == 0.0 and not step.bias.any()
        assert step.divisor == pytest.approx(float(np.sqrt((vector.astype(np.float64) ** 2).mean())), rel=1e-5)
    else:
        assert step.kind == "LayerNorm" and step.mean == pytest.approx(float(vector.mean()), rel=1e-6)
        assert step.divisor == pytest.approx(float(vector.astype(np.float64).std()), rel=1e-4)


# ---------------------------------------------------------------------------------------------
# 3 · Grouped-query attention


def test_layout_from_config_and_weights(lm, tiny_llama, tiny_gpt2):
    layout = layer_parts.grouped_query_layout(lm)
    assert (layout.n_head, layout.n_kv_head, layout.head_dim) == (9, 3, 64)
    assert layout.n_kv_head == lm.config.num_key_value_heads
    assert layout.kv_of_query == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    k_rows = lm.model.model.layers[0].self_attn.k_proj.weight.shape[0]
    assert layout.kv_numbers_per_token == lm.config.num_hidden_layers * 2 * k_rows == 11_520
    assert layout.kv_numbers_one_per_head == 3 * layout.kv_numbers_per_token
    assert layer_parts.grouped_query_layout(tiny_llama).kv_of_query == [0, 0, 1, 1]
    gpt2 = layer_parts.grouped_query_layout(tiny_gpt2)
    assert gpt2.n_kv_head == gpt2.n_head and gpt2.kv_of_query == list(range(gpt2.n_head))


def test_heads_in_a_group_really_read_the_same_keys(lm, cat):
    """Recompute each query head's weights from the k_proj rows of its group: they equal the
    model's attention; the rows of another group do not."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    ids, ref, _ = cat
    layout = layer_parts.grouped_query_layout(lm)
    layer, d = 4, layout.head_dim
    block = lm.model.model.layers[layer]
    with torch.inference_mode():
        x = block.input_layernorm(torch.from_numpy(ref.hidden_states[layer])[None])
        cos, sin = lm.model.model.rotary_emb(x, torch.arange(len(ids))[None])
        q = block.self_attn.q_proj(x).view(1, len(ids), -1, d).transpose(1, 2)
        k = block.self_attn.k_proj(x).view(1, len(ids), -1, d).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
    mask = torch.triu(torch.full((len(ids), len(ids)), float("-inf")), 1)

    def weights(h, g):
        return torch.softmax(q[0, h] @ k[0, g].T / d**0.5 + mask, -1).numpy()

    for h in range(layout.n_head):
        np.testing.assert_allclose(weights(h, layout.kv_of_query[h]), ref.attentions[layer, h], atol=2e-5)
        wrong = (layout.kv_of_query[h] + 1) % layout.n_kv_head
        assert np.abs(weights(h, wrong) - ref.attentions[layer, h]).max() > 0.05
    shared = layer_parts.shared_key_heads(ref.attentions, layout, layer, 1)
    assert shared.heads == [3, 4, 5]
    assert np.allclose(np.diag(shared.distance), 0) and shared.distance[0, 1] > 0.01  # they still differ


# ---------------------------------------------------------------------------------------------
# 4 · RoPE


def test_rotation_equals_the_models_rotary_module(lm):
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    d, theta = 64, 100_000.0
    vector = np.random.default_rng(1).normal(size=d)
    positions = torch.tensor([[0, 3, 17, 250]])
    x = torch.from_numpy(vector).float().view(1, 1, 1, d).expand(1, 1, 4, d)
    cos, sin = lm.model.model.rotary_emb(x, positions)
    expected, _ = apply_rotary_pos_emb(x, x, cos, sin)
    for index, position in enumerate(positions[0].tolist()):
        np.testing.assert_allclose(rope.rotate(vector, position, theta), expected[0, 0, index].numpy(), atol=1e-4)


def test_score_depends_only_on_the_offset(lm, cat):
    ids, ref, _ = cat
    from explain.attention import attention_scores

    layer, head, i, j = 6, 4, 7, 2
    demo = rope.rope_demo(lm, ref.hidden_states[layer], layer, head, i, j, shifts=list(range(0, 40, 5)))
    assert demo.kv_head == 1 and demo.theta == 100_000.0
    model_score = attention_scores(lm, ref.hidden_states[layer], layer).scores[head, i, j]
    assert demo.score_both_moved[0] == pytest.approx(float(model_score), abs=1e-3)
    np.testing.assert_allclose(demo.score_both_moved, demo.score_both_moved[0], atol=1e-9)  # invariance
    assert np.ptp(demo.score_query_moved) > 0.1  # moving one position changes it
    path = demo.pair_path(0, np.arange(8))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(path[0]), rtol=1e-12)  # a turn, no stretch
    assert demo.radians_per_position(0) == 1.0
    pair, d = 6, demo.head_dim
    rotated_key = rope.rotate(demo.key, j, demo.theta)
    np.testing.assert_allclose(demo.key_pair(pair), [rotated_key[pair], rotated_key[pair + d // 2]])
    start = np.arctan2(demo.query[pair + d // 2], demo.query[pair]) - np.arctan2(demo.key[pair + d // 2], demo.key[pair])
    expected = np.degrees(np.angle(np.exp(1j * (start + (i - j) * demo.radians_per_position(pair)))))
    assert demo.pair_angle_deg(pair) == pytest.approx(float(expected), abs=1e-9)


def test_rope_refuses_gpt2(tiny_gpt2):
    hidden = np.zeros((3, tiny_gpt2.config.hidden_size), dtype=np.float32)
    with pytest.raises(rope.RopeUnavailable):
        rope.rope_demo(tiny_gpt2, hidden, 0, 0, 1, 0, [0, 1])


# ---------------------------------------------------------------------------------------------
# 5 · The feed-forward


@pytest.mark.parametrize("fixture", ["lm", "tiny_gpt2"])
def test_hidden_units_equal_the_hooked_forward(fixture, request):
    model_lm = request.getfixturevalue(fixture)
    ids = [5, 17, 42, 8] if fixture != "lm" else tokens.encode(model_lm, CAT)
    trace = residual.trace_residual(model_lm, ids)
    units = layer_parts.feed_forward_units(model_lm, trace, 1, top_n=5)
    np.testing.assert_allclose(units.all_values, trace.ffn_hidden[1], atol=1e-4, rtol=1e-4)
    down = residual.block_parts(model_lm.model)[1].down
    with torch.inference_mode():
        written = down(torch.from_numpy(units.all_values.astype(np.float32))[None])[0]
    np.testing.assert_allclose(written.numpy(), trace.ffn_writes[1], atol=1e-3, rtol=1e-3)
    assert np.abs(units.value).tolist() == sorted(np.abs(units.value).tolist(), reverse=True)
    if fixture == "lm":
        assert (units.kind, units.d_model, units.d_ff) == ("SwiGLU", 576, 1536)
        silu = np.array(units.gate) / (1 + np.exp(-np.array(units.gate)))
        np.testing.assert_allclose(silu * np.array(units.up), units.value, rtol=1e-5, atol=1e-6)
    else:
        assert units.kind == "GELU" and units.d_ff == 4 * model_lm.config.n_embd


def test_feed_forward_share(lm):
    shares = layer_parts.parameter_shares(lm)
    mlp = sum(p.numel() for l in lm.model.model.layers for p in l.mlp.parameters())
    attn = sum(p.numel() for l in lm.model.model.layers for p in l.self_attn.parameters())
    assert shares.feed_forward == mlp == 30 * 3 * 576 * 1536
    assert shares.attention == attn
    total = sum(p.numel() for p in lm.model.parameters())
    assert shares.non_embedding == total - lm.model.model.embed_tokens.weight.numel()
    assert 0.6 < shares.feed_forward_share < 0.8


# ---------------------------------------------------------------------------------------------
# 6 · Encoder vs decoder


def test_encoder_sees_both_ways_decoder_only_back(cat):
    _, ref, _ = cat
    encoder = encoder_decoder.load_encoder()
    enc = encoder_decoder.encoder_attention(encoder, CAT)
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    assert enc.tokens[1:-1] == encoder.tokenizer.tokenize(CAT)
    np.testing.assert_allclose(enc.attentions.sum(-1), 1.0, atol=1e-5)
    later = np.triu(np.ones(enc.attentions.shape[-2:], dtype=bool), 1)
    manual = (enc.attentions * later).sum(-1)[..., :-1].mean()
    assert encoder_decoder.future_weight(enc.attentions) == pytest.approx(float(manual)) and manual > 0.1
    assert encoder_decoder.future_weight(ref.attentions) < 1e-6
    long = encoder_decoder.encoder_attention(encoder, "word " * 100)
    assert long.truncated and long.attentions.shape[-1] == encoder_decoder.ENCODER_TOKEN_CAP


# ---------------------------------------------------------------------------------------------
# 7 · Attention while it writes


@pytest.fixture(scope="module")
def eager_gpt2():
    """Like conftest's tiny GPT-2, with eager attention (the site loads hub models that way)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from explain.engine.models import LoadedModel

    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=100, n_positions=64, attn_implementation="eager")
    model = GPT2LMHeadModel(config).eval()
    return LoadedModel(name="tiny-gpt2", model=model, tokenizer=_FakeTokenizer(), source="random init", load_seconds=0.0)


@pytest.mark.parametrize("fixture", ["lm", "eager_gpt2"])
def test_writing_rows_equal_generate_with_attentions(fixture, request):
    model_lm = request.getfixturevalue(fixture)
    if fixture == "lm":
        ids = tokens.encode(model_lm, "The capital of France is")
    else:
        ids = [5, 17, 42, 8]
    written = writing_attention.attention_while_writing(model_lm, ids, 5)
    with torch.inference_mode():
        out = model_lm.model.generate(
            torch.tensor([ids]), max_new_tokens=5, do_sample=False, output_attentions=True,
            return_dict_in_generate=True, pad_token_id=0,
        )
    assert [p.id for p in written.new_pieces] == out.sequences[0, len(ids):].tolist()
    for step, layers in enumerate(out.attentions):  # step 0: the prompt forward; then one row per token
        reference = torch.stack([a[0, :, -1, :] for a in layers]).numpy()  # (L, H, T + step)
        np.testing.assert_allclose(written.rows[step, :, :, : len(ids) + step], reference, atol=5e-5)
        assert not written.rows[step, :, :, len(ids) + step :].any()
    row = written.row(1, None, None)
    assert written.top_keys(1, None, None, 2) == np.argsort(-row)[:2].tolist()
    np.testing.assert_allclose(row.sum(), 1.0, atol=1e-5)
    assert written.prompt_share(0, 0, 0) == pytest.approx(1.0, abs=1e-5)  # step 1 sees only the prompt
    expected = int((torch.stack([a[0, :, -1, :] for a in out.attentions[2]]).argmax(-1) == 0).sum())
    assert writing_attention.sink_heads(written.rows[2, :, :, : len(ids) + 2]) == expected


class _FakeTokenizer:
    def decode(self, ids):
        return "".join(f"<{i}>" for i in ids)

    def convert_ids_to_tokens(self, i):
        return f"t{i}"
