"""GPT-2 (gpt2, distilgpt2): LayerNorm, learned absolute positions, one key/value per head, GELU."""

from __future__ import annotations

import torch

from explain.engine.family import BlockParts, FeedForwardHidden, HeadLayout, ModelFamily, NormWeights


class GPT2Family(ModelFamily):
    name = "GPT-2"
    model_types = ("gpt2",)
    parameter_parts = (
        ("embeddings", ("wte", "wpe")),
        ("norms", ("ln_",)),
        ("attention", ("attn",)),
        ("feed-forward", ("mlp",)),
        ("output head", ("lm_head",)),
    )

    def blocks(self, model: torch.nn.Module) -> list[BlockParts]:
        return [BlockParts(b.ln_1, b.attn, b.ln_2, b.mlp, b.mlp.c_proj) for b in model.transformer.h]

    def final_norm(self, model: torch.nn.Module) -> torch.nn.Module:
        return model.transformer.ln_f

    def heads(self, model):
        module = model.transformer.h[0].attn
        n_head = model.config.n_head
        if module.split_size != n_head * module.head_dim:  # c_attn's output: q, k, v of split_size each
            raise ValueError(f"the config says {n_head} heads of {module.head_dim}, but c_attn splits by {module.split_size}")
        return HeadLayout(n_head, n_head, module.head_dim)  # one key and value per head

    def feed_forward_width(self, config):
        return int(config.n_inner or 4 * config.n_embd)

    def norm_weights(self, module):
        if not isinstance(module, torch.nn.LayerNorm):
            return None
        return NormWeights("LayerNorm", module.weight, module.bias, float(module.eps))

    def projected_queries_keys(self, model, layer, normed):
        module = model.transformer.h[layer].attn
        q, k, _ = module.c_attn(normed).split(module.split_size, dim=2)  # one projection: q, k, v
        shape = (*normed.shape[:-1], -1, module.head_dim)
        return q.view(shape).transpose(1, 2), k.view(shape).transpose(1, 2)

    def queries_keys(self, model, layer, normed):
        return self.projected_queries_keys(model, layer, normed)  # positions were added at the input

    def feed_forward_hidden(self, model, layer, normed):
        mlp = model.transformer.h[layer].mlp
        up = mlp.c_fc(normed)
        return FeedForwardHidden("GELU", up, None, mlp.act(up))

    def attention_scale(self, model, layer):
        module = model.transformer.h[layer].attn
        scale = 1 / module.head_dim**0.5 if module.scale_attn_weights else 1.0
        return scale / float(layer + 1) if module.scale_attn_by_inverse_layer_idx else scale

    def learned_positions(self, model):
        return "transformer.wpe", model.transformer.wpe.weight


FAMILY = GPT2Family()
