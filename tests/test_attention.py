"""explain.attention and ui.bertviz_offline against torch, transformers and plain loops."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import torch

from explain import attention, tokens
from explain.engine import analysis
from ui import bertviz_offline
from explain.engine.models import LoadedModel

CAT = "The cat sat on the mat because it was warm."


@pytest.fixture(scope="module")
def cat(lm):
    ids = tokens.encode(lm, CAT)
    return ids, analysis.analyze_prompt(lm, ids)


@pytest.fixture(scope="module")
def eager_gpt2() -> LoadedModel:
    """A tiny random GPT-2 with eager attention: a second architecture for the hooks."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(1)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=100, n_positions=64)
    config._attn_implementation = "eager"
    return LoadedModel("tiny-gpt2-eager", GPT2LMHeadModel(config).eval(), None, "random init", 0.0)


def random_causal(n_layer=3, n_head=4, T=7, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.random((n_layer, n_head, T, T)) * np.tril(np.ones((T, T)))
    return a / a.sum(-1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# The weights the page shows


def test_weights_are_the_models_own_and_causal(lm, cat):
    ids, result = cat
    with torch.inference_mode():
        reference = lm.model(torch.tensor([ids]), output_attentions=True).attentions
    assert result.attentions.shape == (len(reference), *reference[0].shape[1:])
    np.testing.assert_allclose(result.attentions, torch.stack(reference)[:, 0].numpy(), atol=1e-6)
    np.testing.assert_allclose(result.attentions.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(result.attentions, k=1) == 0)


def test_the_first_tokens_of_a_long_prompt_see_what_they_would_see_alone(lm):
    """The page shows the first 48 tokens of a long prompt: causal, so a prefix run agrees."""
    ids = tokens.encode(lm, "one two three four five six seven eight nine ten " * 6)[:60]
    whole = analysis.analyze_prompt(lm, ids).attentions[:, :, :48, :48]
    prefix = analysis.analyze_prompt(lm, ids[:48]).attentions
    np.testing.assert_allclose(whole, prefix, atol=2e-5)


# ---------------------------------------------------------------------------------------------
# Head statistics and kinds


def loop_statistics(a: np.ndarray):
    """The same four numbers with explicit loops (independent of the vectorised code), over the
    rows where first, previous and self are three different tokens (i ≥ 2)."""
    L, H, T, _ = a.shape
    out = {k: np.zeros((L, H)) for k in ("first", "previous", "self", "entropy")}
    for l in range(L):
        for h in range(H):
            rows = range(2, T)
            out["first"][l, h] = np.mean([a[l, h, i, 0] for i in rows])
            out["previous"][l, h] = np.mean([a[l, h, i, i - 1] for i in rows])
            out["self"][l, h] = np.mean([a[l, h, i, i] for i in rows])
            out["entropy"][l, h] = np.mean(
                [-sum(w * np.log2(w) for w in a[l, h, i, : i + 1] if w > 0) for i in rows]
            )
    return out


@pytest.mark.parametrize("which", ["random", "real"])
def test_head_statistics_match_plain_loops(which, cat):
    a = random_causal() if which == "random" else cat[1].attentions
    stats = attention.head_statistics(a)
    expected = loop_statistics(a.astype(np.float64))
    for key, values in expected.items():
        np.testing.assert_allclose(stats.values(key), values, atol=1e-6, err_msg=key)
    T = a.shape[-1]
    assert stats.max_entropy == pytest.approx(np.mean([np.log2(i + 1) for i in range(2, T)]))
    assert stats.n_rows == T - 2


def test_head_kinds_follow_their_rules():
    T = 6
    previous = np.eye(T, k=-1)
    previous[0, 0] = 1
    first = np.zeros((T, T))
    first[:, 0] = 1
    diagonal = np.eye(T)
    uniform = np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]
    a = np.stack([previous, first, diagonal, uniform])[None]  # (1, 4, T, T)
    stats = attention.head_statistics(a)
    assert stats.kinds[0] == ("previous-token head", "first-token head", "self head", "spread-out head")
    assert stats.previous[0, 0] == 1 and stats.first[0, 1] == 1 and stats.self[0, 2] == 1
    assert stats.entropy[0, 3] == pytest.approx(stats.max_entropy)


def test_one_token_has_no_statistics():
    with pytest.raises(attention.PromptTooShort):
        attention.head_statistics(np.ones((2, 2, 1, 1)))


def test_a_two_token_prompt_is_too_short_to_label_heads(lm):
    """For token 1 the previous token IS token 0: every sink head would read as previous-token."""
    ids = tokens.encode(lm, "Hello world")
    assert len(ids) == 2
    a = analysis.analyze_prompt(lm, ids).attentions
    assert (a[:, :, 1, 0] > 0.5).sum() > 200  # the coincidence the old rule fell for
    with pytest.raises(attention.PromptTooShort, match="at least 3 tokens"):
        attention.head_statistics(a)


def test_a_sink_head_is_not_a_previous_token_head_on_three_tokens():
    sink = np.zeros((3, 3))
    sink[:, 0] = 1
    stats = attention.head_statistics(sink[None, None])
    assert stats.previous[0, 0] == 0 and stats.first[0, 0] == 1 and stats.n_rows == 1
    assert stats.kinds[0][0] == "first-token head"


def reference_kind(a: np.ndarray) -> str:
    """KIND_RULES applied with plain loops to one head (T, T), rows i ≥ 2."""
    T = a.shape[0]
    rows = range(2, T)
    previous = sum(a[i, i - 1] for i in rows) / len(rows)
    first = sum(a[i, 0] for i in rows) / len(rows)
    itself = sum(a[i, i] for i in rows) / len(rows)
    entropy = sum(-sum(w * math.log2(w) for w in a[i, : i + 1] if w > 0) for i in rows) / len(rows)
    uniform = sum(math.log2(i + 1) for i in rows) / len(rows)
    for name, value in (("previous-token head", previous), ("first-token head", first), ("self head", itself)):
        if value > 0.5:
            return name
    return "spread-out head" if entropy > uniform / 2 else "mixed head"


def test_head_kinds_on_a_real_prompt_equal_rules_applied_to_output_attentions(lm):
    ids = tokens.encode(lm, CAT)
    with torch.inference_mode():  # the model's own weights, not the shared analysis
        reference = torch.stack(lm.model(torch.tensor([ids]), output_attentions=True).attentions)[:, 0].double().numpy()
    stats = attention.head_statistics(analysis.analyze_prompt(lm, ids).attentions)
    expected = [[reference_kind(reference[l, h]) for h in range(reference.shape[1])] for l in range(reference.shape[0])]
    assert [list(row) for row in stats.kinds] == expected


def test_the_live_model_has_sink_and_previous_token_heads(cat):
    kinds = [k for row in attention.head_statistics(cat[1].attentions).kinds for k in row]
    assert kinds.count("first-token head") > 100  # the attention sink dominates a small model
    assert "previous-token head" in kinds


# ---------------------------------------------------------------------------------------------
# Following one token


def test_follow_token_reads_the_right_row(lm, cat):
    ids, result = cat
    pieces = [p.text for p in tokens.token_pieces(lm, ids)]
    position = attention.find_token(pieces, "it")
    assert pieces[position] == " it"
    focus = attention.follow_token(result.attentions, position)
    assert focus.per_head.shape == (result.n_layer, result.n_head, position + 1)
    np.testing.assert_allclose(focus.per_head[4, 2], result.attentions[4, 2, position, : position + 1])
    np.testing.assert_allclose(focus.mean_over_heads, result.attentions[:, :, position, : position + 1].mean(1), atol=1e-7)
    assert focus.top_per_layer == [int(np.argmax(row)) for row in focus.mean_over_heads]
    without = focus.top_excluding({0})
    assert 0 not in without and all(0 < i <= position for i in without)
    counts = focus.layer_counts({0, position})
    assert sum(counts.values()) == result.n_layer and list(counts.values()) == sorted(counts.values(), reverse=True)
    for token, n in counts.items():  # recounted from the raw rows, sink and "it" itself left out
        assert n == sum(
            1 for l in range(result.n_layer)
            if max(range(1, position), key=lambda j: result.attentions[l, :, position, j].mean()) == token
        )
    with pytest.raises(ValueError):
        attention.follow_token(result.attentions, len(ids))


def test_find_token_misses_politely():
    assert attention.find_token(["The", " cat"], "it") is None
    assert attention.find_token(["A", " It", " b", " it"], "IT") == 3


# ---------------------------------------------------------------------------------------------
# Scores before the softmax


def test_softmax_of_masked_scores_is_the_attention_smollm2(lm, cat):
    ids, result = cat
    for layer in range(result.n_layer):
        scores = attention.attention_scores(lm, result.hidden_states[layer], layer)
        assert scores.scores.shape == result.attentions.shape[1:]
        for head in range(result.n_head):
            np.testing.assert_allclose(scores.weights(head), result.attentions[layer, head], atol=2e-5)
    assert scores.head_dim == 64 and scores.scale == pytest.approx(64**-0.5)
    masked = scores.masked(1)
    assert np.all(np.isneginf(masked[np.triu_indices(len(ids), k=1)]))
    assert np.all(np.isfinite(masked[np.tril_indices(len(ids))]))


def test_scores_equal_hooked_queries_and_keys(lm, cat):
    """q and k captured inside the model's own attention call give the same scores."""
    ids, result = cat
    layer, captured = 7, {}

    import transformers.models.llama.modeling_llama as llama

    original = llama.eager_attention_forward

    def spy(module, query, key, *args, **kwargs):
        if module.layer_idx == layer:
            captured["q"], captured["k"] = query, key
        return original(module, query, key, *args, **kwargs)

    llama.eager_attention_forward = spy
    try:
        with torch.inference_mode():
            lm.model(torch.tensor([ids]), logits_to_keep=1)
    finally:
        llama.eager_attention_forward = original
    assert "q" in captured, "the model no longer calls eager_attention_forward: update this test"
    k = captured["k"].repeat_interleave(3, dim=1)
    hooked = (captured["q"] @ k.transpose(-1, -2))[0].numpy() * 0.125
    ours = attention.attention_scores(lm, result.hidden_states[layer], layer).scores
    np.testing.assert_allclose(ours, hooked, atol=1e-4)


def test_scores_without_rotation_would_be_wrong(lm, cat):
    """The recomputation must apply RoPE: plain projections don't give the weights (can fail)."""
    ids, result = cat
    block = lm.model.model.layers[5]
    with torch.inference_mode():
        x = block.input_layernorm(torch.from_numpy(result.hidden_states[5])[None])
        q = block.self_attn.q_proj(x).view(1, len(ids), -1, 64).transpose(1, 2)
        k = block.self_attn.k_proj(x).view(1, len(ids), -1, 64).transpose(1, 2).repeat_interleave(3, dim=1)
        raw = (q @ k.transpose(-1, -2))[0, 0].numpy() * 0.125
    raw = np.where(np.tril(np.ones_like(raw, dtype=bool)), raw, -np.inf)
    no_rope = np.exp(raw - raw.max(-1, keepdims=True))
    no_rope /= no_rope.sum(-1, keepdims=True)
    assert np.abs(no_rope - result.attentions[5, 0]).max() > 1e-2


def test_softmax_of_masked_scores_is_the_attention_gpt2(eager_gpt2):
    ids = [3, 14, 15, 92, 65, 35]
    result = analysis.analyze_prompt(eager_gpt2, ids)
    for layer in range(2):
        scores = attention.attention_scores(eager_gpt2, result.hidden_states[layer], layer)
        for head in range(2):
            np.testing.assert_allclose(scores.weights(head), result.attentions[layer, head], atol=1e-5)


def test_scores_for_an_unknown_architecture_say_so():
    class Other(torch.nn.Module):
        pass

    with pytest.raises(attention.ScoresUnavailable, match="Other"):
        attention.attention_scores(LoadedModel("x", Other(), None, "", 0.0), np.zeros((2, 4)), 0)


# ---------------------------------------------------------------------------------------------
# bertviz, offline


HOSTILE = ["<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>", "&amp;", "\u202eRTL", "🍕"]


def test_head_view_is_offline_and_escapes_tokens():
    a = random_causal(n_layer=4, n_head=3, T=len(HOSTILE))
    page = bertviz_offline.head_view_html(a, HOSTILE, include_layers=[2], layer=2)
    assert "cdnjs" not in page and not re.search(r"<script[^>]+src=", page)
    assert "d3js.org v5.7.0" in page and "jQuery v3.7.1" in page
    assert "<img" not in page and "alert(2)" not in page.replace("alert(2)\\u003c", "")
    vendor = bertviz_offline.offline_scripts()
    assert page.count("</script") == vendor.count("</script") + 1  # the tokens closed no script
    params = json.loads(re.search(r"const params = (\{.*?\});", page).group(1))
    assert params["attention"][0]["left_text"] == HOSTILE  # the exact text reaches d3's .text()
    assert params["include_layers"] == [2] and params["layer"] == 2
    attn = np.array(params["attention"][0]["attn"])
    np.testing.assert_allclose(attn[0], a[2], atol=5e-4)  # rounded to 3 decimals
    assert "background:#fff" in page


def test_model_view_is_offline_and_small():
    a = random_causal(n_layer=30, n_head=9, T=20)
    page = bertviz_offline.model_view_html(a, [f"t{i}" for i in range(20)], include_layers=[0, 1, 2])
    assert "cdnjs" not in page
    params = json.loads(re.search(r"const params = (\{.*?\});", page).group(1))
    assert len(params["attention"][0]["attn"]) == 3
    body = page[page.index("<body>"):]
    assert not re.search(r"\d\.\d{4,}", body.split("const params = ")[1][:200_000])  # rounded
    assert len(body) < 200_000


def test_missing_assets_say_what_to_install(monkeypatch):
    monkeypatch.setattr(bertviz_offline.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(bertviz_offline.OfflineAssetsMissing, match="mpld3"):
        bertviz_offline._package_file("mpld3", "js/d3.v5.min.js", "mpld3==0.5.12")


def test_head_view_zoom_scales_the_whole_drawing_only_when_asked():
    a = random_causal(n_layer=2, n_head=2, T=4)
    plain = bertviz_offline.head_view_html(a, list("abcd"), include_layers=[1], layer=1)
    zoomed = bertviz_offline.head_view_html(a, list("abcd"), include_layers=[1], layer=1, zoom=1.6)
    assert "body{zoom" not in plain and "body{zoom:1.6}" in zoomed
    same_ids = lambda page: re.sub(r"bertviz-[0-9a-f]{32}", "bertviz-id", page)  # bertviz picks random ids
    assert same_ids(zoomed.replace("body{zoom:1.6}", "")) == same_ids(plain)


def test_a_saved_view_names_its_prompt_layer_and_model_and_escapes_them():
    a = np.full((1, 1, 2, 2), 0.5)
    page = bertviz_offline.head_view_html(a, ["a", "b"], include_layers=[0], layer=0)
    saved = bertviz_offline.with_caption(page, "Attention head view, layer 0 · m · prompt: <script>x</script>")
    assert "<title>Attention head view, layer 0 · m · prompt: &lt;script&gt;x&lt;/script&gt;</title>" in saved
    assert saved.count("prompt: &lt;script&gt;") == 2 and "<script>x</script>" not in saved


def test_strongest_keys_and_extreme_heads_equal_plain_loops(cat):
    _, ref = cat
    weights = ref.attentions[5, 2]
    best, weight = attention.strongest_keys(weights)
    for i in range(weights.shape[0]):
        j = max(range(weights.shape[1]), key=lambda k: weights[i, k])
        assert best[i] == j and weight[i] == weights[i, j]
    values = attention.head_statistics(ref.attentions).previous
    (hl, hh), (ll, lh) = attention.extreme_heads(values)
    assert values[hl, hh] == values.max() and values[ll, lh] == values.min()
