"""Llama-style decoders (SmolLM2, Llama 2/3): RMSNorm, rotary positions, grouped-query attention."""

from __future__ import annotations

import torch
from transformers.models.llama.modeling_llama import LlamaRMSNorm, apply_rotary_pos_emb

from explain.engine.family import BlockParts, FeedForwardHidden, HeadLayout, ModelFamily, NormWeights


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

    def heads(self, model):
        config = model.config
        n_head = config.num_attention_heads
        n_kv = getattr(config, "num_key_value_heads", None) or n_head
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // n_head
        k_rows = model.model.layers[0].self_attn.k_proj.weight.shape[0]
        if k_rows != n_kv * head_dim:
            raise ValueError(f"the config says {n_kv} key/value heads of {head_dim}, but k_proj has {k_rows} rows")
        return HeadLayout(n_head, n_kv, head_dim)

    def feed_forward_width(self, config):
        return int(config.intermediate_size)

    def norm_weights(self, module):
        if not isinstance(module, LlamaRMSNorm):
            return None
        return NormWeights("RMSNorm", module.weight, None, float(module.variance_epsilon))

    def projected_queries_keys(self, model, layer, normed):
        module = model.model.layers[layer].self_attn
        shape = (*normed.shape[:-1], -1, module.head_dim)
        q = module.q_proj(normed).view(shape).transpose(1, 2)  # (1, n_head, T, d)
        k = module.k_proj(normed).view(shape).transpose(1, 2)  # (1, n_kv_head, T, d)
        return q, k

    def queries_keys(self, model, layer, normed):
        module = model.model.layers[layer].self_attn
        positions = torch.arange(normed.shape[1])[None]  # (1, T)
        cos, sin = model.model.rotary_emb(normed, positions)
        q, k = apply_rotary_pos_emb(*self.projected_queries_keys(model, layer, normed), cos, sin)
        return q, k.repeat_interleave(module.num_key_value_groups, dim=1)  # grouped-query attention

    def feed_forward_hidden(self, model, layer, normed):
        mlp = model.model.layers[layer].mlp
        gate, up = mlp.gate_proj(normed), mlp.up_proj(normed)
        return FeedForwardHidden("SwiGLU", up, gate, mlp.act_fn(gate) * up)

    def attention_scale(self, model, layer):
        return float(model.model.layers[layer].self_attn.scaling)

    def rope_theta(self, config) -> float | None:
        params = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None)
        if isinstance(params, dict) and params.get("rope_theta"):
            return float(params["rope_theta"])
        theta = getattr(config, "rope_theta", None)
        return float(theta) if theta else None


FAMILY = LlamaFamily()
