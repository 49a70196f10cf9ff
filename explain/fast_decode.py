"""One token at a time, without transformers' per-step bookkeeping (Llama-family models).

Why: after the prompt, generating a token is one pass of a single vector through every layer.
For SmolLM2-135M on two cores that pass is ≈ 30 ms of weight streaming, and transformers' generic
forward (cache objects, masks, rotary tables, output dataclasses, ~2,000 small tensor ops) added
about half as much again. `LlamaDecoder` does the same arithmetic — RMSNorm, rotary positions,
grouped-query attention over a preallocated key/value buffer, SiLU-gated MLP, tied output head —
in fp32, reading the model's own weights (no copy), with every matrix–vector product split over
both cores (`explain.two_core_matmul`).

The prompt itself still runs through the model's own forward (one pass, both cores); its
key/value cache is copied into the decoder's buffers. Outputs are checked against
`model.generate` and against the model's own logits at every step (tests/test_fast_decode.py).
Models of another family (GPT-2 from the hub) simply use the generic loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache

from explain.two_core_matmul import two_core_matmuls


def supports(model) -> bool:
    """True for models whose forward this decoder reproduces exactly (plain Llama architecture)."""
    config = model.config
    rope = getattr(config, "rope_parameters", None) or {}
    return (
        config.model_type == "llama"
        and not getattr(config, "attention_bias", False)
        and not getattr(config, "mlp_bias", False)
        and config.hidden_act == "silu"
        and rope.get("rope_type", "default") == "default"
        and getattr(config, "pretraining_tp", 1) == 1
        and next(model.parameters()).dtype == torch.float32
    )


def _halves(weight: torch.Tensor) -> torch.Tensor:
    """(out, in) weight → (2, in, out/2) view: the two halves of its rows, for one `bmm`."""
    n_out, n_in = weight.shape
    return weight.view(2, n_out // 2, n_in).transpose(1, 2)


def _matvec(halves: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(in,) vector times a split weight → (out,), each half on its own core."""
    return torch.bmm(x.view(1, 1, -1).expand(2, 1, -1), halves).view(-1)


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


@dataclass
class _Layer:
    norm_in: torch.Tensor
    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    o: torch.Tensor
    norm_post: torch.Tensor
    gate: torch.Tensor
    up: torch.Tensor
    down: torch.Tensor
    eps_in: float
    eps_post: float


class LlamaDecoder:
    """Greedy-ready decoding state for one sequence. Not thread-safe: one per request."""

    def __init__(self, model):
        if not supports(model):
            raise ValueError("LlamaDecoder only reproduces plain fp32 Llama-family models")
        config, body = model.config, model.model
        self.model = model
        self.n_head = config.num_attention_heads
        self.n_kv = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.n_head
        self.scaling = self.head_dim**-0.5
        self.rotary = body.rotary_emb
        self.embed = body.embed_tokens.weight
        self.layers = [
            _Layer(
                norm_in=layer.input_layernorm.weight,
                q=_halves(layer.self_attn.q_proj.weight),
                k=_halves(layer.self_attn.k_proj.weight),
                v=_halves(layer.self_attn.v_proj.weight),
                o=_halves(layer.self_attn.o_proj.weight),
                norm_post=layer.post_attention_layernorm.weight,
                gate=_halves(layer.mlp.gate_proj.weight),
                up=_halves(layer.mlp.up_proj.weight),
                down=_halves(layer.mlp.down_proj.weight),
                eps_in=layer.input_layernorm.variance_epsilon,
                eps_post=layer.post_attention_layernorm.variance_epsilon,
            )
            for layer in body.layers
        ]
        self.norm_final, self.eps_final = body.norm.weight, body.norm.variance_epsilon
        self.head = _halves(model.lm_head.weight)
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.length = 0

    def start(self, ids: list[int], max_new_tokens: int) -> torch.Tensor:
        """Run the prompt (one forward of the model itself); returns the next-token logits (vocab,)."""
        if not ids:
            raise ValueError("ids is empty: the model needs at least one token to continue from")
        cache = DynamicCache(config=self.model.config)
        with torch.inference_mode(), two_core_matmuls():
            out = self.model(torch.tensor([ids]), past_key_values=cache, use_cache=True, logits_to_keep=1)
            capacity = len(ids) + max_new_tokens
            self.keys, self.values = [], []
            for layer_cache in cache.layers:
                for source, target in ((layer_cache.keys, self.keys), (layer_cache.values, self.values)):
                    buffer = torch.empty(self.n_kv, capacity, self.head_dim)
                    buffer[:, : len(ids)] = source[0]
                    target.append(buffer)
        self.length = len(ids)
        return out.logits[0, -1].float()

    def step(self, token_id: int) -> torch.Tensor:
        """Feed one token; returns the logits (vocab,) for the token after it."""
        position = self.length
        if position >= self.keys[0].shape[1]:
            raise RuntimeError("the decoder's buffer is full: pass a larger max_new_tokens to start()")
        with torch.inference_mode():
            x = self.embed[token_id]
            cos, sin = self.rotary(x.view(1, 1, -1), torch.tensor([[position]]))
            cos, sin = cos.view(1, -1), sin.view(1, -1)
            group = self.n_head // self.n_kv
            for layer, keys, values in zip(self.layers, self.keys, self.values):
                h = _rms_norm(x, layer.norm_in, layer.eps_in)
                q = _matvec(layer.q, h).view(self.n_head, self.head_dim)
                k = _matvec(layer.k, h).view(self.n_kv, self.head_dim)
                q = q * cos + _rotate_half(q) * sin
                keys[:, position] = k * cos + _rotate_half(k) * sin
                values[:, position] = _matvec(layer.v, h).view(self.n_kv, self.head_dim)
                seen_k, seen_v = keys[:, : position + 1], values[:, : position + 1]
                scores = torch.bmm(q.view(self.n_kv, group, self.head_dim), seen_k.transpose(1, 2)) * self.scaling
                weights = torch.softmax(scores, dim=-1, dtype=torch.float32)
                mixed = torch.bmm(weights, seen_v).reshape(-1)
                x = x + _matvec(layer.o, mixed)
                h = _rms_norm(x, layer.norm_post, layer.eps_post)
                x = x + _matvec(layer.down, torch.nn.functional.silu(_matvec(layer.gate, h)) * _matvec(layer.up, h))
            self.length = position + 1
            return _matvec(self.head, _rms_norm(x, self.norm_final, self.eps_final))
