"""Llama-style decoders (SmolLM2, Llama 2/3): RMSNorm, rotary positions, grouped-query attention."""

from __future__ import annotations

import torch
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from explain.engine.family import BlockParts, ModelFamily


class LlamaFamily(ModelFamily):
    name = "Llama"
    model_types = ("llama",)
    decodes_fast = True
    parameter_parts = (
        ("embeddings", ("embed_tokens",)),
        ("norms", ("norm",)),
        ("attention", ("self_attn",)),
        ("feed-forward", ("mlp",)),
        ("output head", ("lm_head",)),
    )

    def blocks(self, model: torch.nn.Module) -> list[BlockParts]:
        return [
            BlockParts(b.input_layernorm, b.self_attn, b.post_attention_layernorm, b.mlp, b.mlp.down_proj)
            for b in model.model.layers
        ]

    def final_norm(self, model: torch.nn.Module) -> torch.nn.Module:
        return model.model.norm

    def queries_keys(self, model, layer, normed):
        module = model.model.layers[layer].self_attn
        positions = torch.arange(normed.shape[1])[None]  # (1, T)
        cos, sin = model.model.rotary_emb(normed, positions)
        shape = (*normed.shape[:-1], -1, module.head_dim)
        q = module.q_proj(normed).view(shape).transpose(1, 2)  # (1, n_head, T, d)
        k = module.k_proj(normed).view(shape).transpose(1, 2)  # (1, n_kv_head, T, d)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        return q, k.repeat_interleave(module.num_key_value_groups, dim=1)  # grouped-query attention

    def attention_scale(self, model, layer):
        return float(model.model.layers[layer].self_attn.scaling)

    def rope_theta(self, config) -> float | None:
        params = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None)
        if isinstance(params, dict) and params.get("rope_theta"):
            return float(params["rope_theta"])
        theta = getattr(config, "rope_theta", None)
        return float(theta) if theta else None


FAMILY = LlamaFamily()
