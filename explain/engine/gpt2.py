"""GPT-2 (gpt2, distilgpt2): LayerNorm, learned absolute positions, one key/value per head, GELU."""

from __future__ import annotations

import torch

from explain.engine.family import BlockParts, ModelFamily


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

    def queries_keys(self, model, layer, normed):
        module = model.transformer.h[layer].attn
        q, k, _ = module.c_attn(normed).split(module.split_size, dim=2)  # one projection: q, k, v
        shape = (*normed.shape[:-1], -1, module.head_dim)
        return q.view(shape).transpose(1, 2), k.view(shape).transpose(1, 2)

    def attention_scale(self, model, layer):
        module = model.transformer.h[layer].attn
        scale = 1 / module.head_dim**0.5 if module.scale_attn_weights else 1.0
        return scale / float(layer + 1) if module.scale_attn_by_inverse_layer_idx else scale

    def learned_positions(self, model):
        return "transformer.wpe", model.transformer.wpe.weight


FAMILY = GPT2Family()
