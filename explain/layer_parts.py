"""The parts inside one decoder layer: the norm, grouped-query attention, the feed-forward.

- The norm before each block: RMSNorm (Llama, SmolLM2) divides a vector by its root-mean-square and
  multiplies by a learned gain; LayerNorm (GPT-2) first subtracts the mean and adds a learned bias.
- Grouped-query attention (GQA): several query heads share one key/value head, so the key/value
  cache kept per token while generating is smaller.
- The feed-forward: SwiGLU (silu(gate) × up, then down) in Llama; GELU (up, gelu, down) in GPT-2.
Everything is read from the loaded model's config and weights; the pages never type a size in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explain.anatomy import model_anatomy
from explain.engine import family_of, norm_weights
from explain.engine.models import LoadedModel
from explain.residual import ResidualTrace, block_parts

# ---------------------------------------------------------------------------------------------
# The norm, on one vector


@dataclass(frozen=True)
class NormStep:
    kind: str  # "RMSNorm" or "LayerNorm"
    before: np.ndarray  # (d,) the stream vector the norm reads
    mean: float  # what is subtracted first (0 for RMSNorm: it does not centre)
    divisor: float  # √(mean((x − mean)²) + eps) for LayerNorm, √(mean(x²) + eps) for RMSNorm
    eps: float
    gain: np.ndarray  # (d,) learned, one per dimension
    bias: np.ndarray  # (d,) learned (zeros for RMSNorm: it has none)
    after: np.ndarray  # (d,) gain · (x − mean) / divisor + bias

    def largest_after(self, n: int) -> list[int]:
        """The n dimensions with the largest |value| after the norm."""
        return [int(k) for k in np.argsort(-np.abs(self.after), kind="stable")[:n]]


def norm_module(lm: LoadedModel, layer: int) -> torch.nn.Module:
    """The norm in front of `layer`'s attention."""
    return block_parts(lm.model)[layer].norm_attn


def apply_norm(module: torch.nn.Module, vector: np.ndarray) -> NormStep:
    """The norm's arithmetic done step by step in float64 from the module's own weights."""
    x = np.asarray(vector, dtype=np.float64)
    weights = norm_weights(module)
    gain = weights.gain.detach().double().numpy()
    bias = weights.bias.detach().double().numpy() if weights.bias is not None else np.zeros_like(x)
    mean = float(x.mean()) if weights.kind == "LayerNorm" else 0.0  # RMSNorm does not centre
    divisor = float(np.sqrt(((x - mean) ** 2).mean() + weights.eps))
    return NormStep(weights.kind, x, mean, divisor, weights.eps, gain, bias, gain * (x - mean) / divisor + bias)


# ---------------------------------------------------------------------------------------------
# Grouped-query attention


@dataclass(frozen=True)
class GroupedQueryLayout:
    n_layer: int
    n_head: int  # query heads per layer
    n_kv_head: int  # key/value heads per layer
    head_dim: int
    kv_of_query: list[int]  # query head h reads key/value head kv_of_query[h]
    kv_numbers_per_token: int  # keys + values kept per token over all layers (the KV cache)
    kv_numbers_one_per_head: int  # the same if every query head had its own key and value

    @property
    def group_size(self) -> int:
        return self.n_head // self.n_kv_head

    def cache_bytes(self, n_tokens: int, bytes_per_number: int = 4, one_per_head: bool = False) -> int:
        """Memory the key/value cache needs for `n_tokens` tokens (fp32: 4 bytes a number)."""
        per_token = self.kv_numbers_one_per_head if one_per_head else self.kv_numbers_per_token
        return per_token * n_tokens * bytes_per_number

    def queries_of(self, kv_head: int) -> list[int]:
        return [h for h, kv in enumerate(self.kv_of_query) if kv == kv_head]


def grouped_query_layout(lm: LoadedModel) -> GroupedQueryLayout:
    """From the config (num_key_value_heads); the key projection's shape must agree with it."""
    heads = family_of(lm.model).heads(lm.model)
    n_layer = lm.config.num_hidden_layers
    group = heads.n_head // heads.n_kv_head
    return GroupedQueryLayout(
        n_layer=n_layer,
        n_head=heads.n_head,
        n_kv_head=heads.n_kv_head,
        head_dim=heads.head_dim,
        kv_of_query=[h // group for h in range(heads.n_head)],  # the order repeat_interleave gives
        kv_numbers_per_token=n_layer * 2 * heads.n_kv_head * heads.head_dim,  # a key and a value per kv head
        kv_numbers_one_per_head=n_layer * 2 * heads.n_head * heads.head_dim,
    )


@dataclass(frozen=True)
class SharedKeyHeads:
    """The query heads of one layer that read the same key/value head, and how they differ."""

    layer: int
    kv_head: int
    heads: list[int]
    patterns: np.ndarray  # (len(heads), T, T) their attention weights
    distance: np.ndarray  # (len(heads), len(heads)) mean total-variation distance of their rows
    top_key_of_last: list[int]  # per head, the key the last token gives most weight to


def shared_key_heads(attentions: np.ndarray, layout: GroupedQueryLayout, layer: int, kv_head: int) -> SharedKeyHeads:
    """attentions: (n_layer, n_head, T, T). Distance 0: the same rows; 1: no overlap at all."""
    heads = layout.queries_of(kv_head)
    patterns = attentions[layer, heads].astype(np.float64)  # (g, T, T)
    distance = 0.5 * np.abs(patterns[:, None] - patterns[None, :]).sum(-1).mean(-1)  # (g, g)
    return SharedKeyHeads(
        layer, kv_head, heads, patterns, distance, [int(i) for i in patterns[:, -1].argmax(-1)]
    )


# ---------------------------------------------------------------------------------------------
# The feed-forward


@dataclass(frozen=True)
class FeedForwardUnits:
    """The hidden units of one layer's feed-forward for one token, strongest first."""

    kind: str  # "SwiGLU" or "GELU"
    layer: int
    d_model: int
    d_ff: int
    units: list[int]  # the top units by |value|
    value: list[float]  # the unit's output: silu(gate) × up (SwiGLU) or gelu(up) (GELU)
    gate: list[float]  # SwiGLU: the gate projection before silu; GELU: nan
    up: list[float]  # the up projection (GELU: before gelu)
    all_values: np.ndarray  # (d_ff,) every unit's value
    share_of_magnitude: float  # the top units' share of Σ|value|


def feed_forward_units(lm: LoadedModel, trace: ResidualTrace, layer: int, top_n: int = 10) -> FeedForwardUnits:
    """Recompute the feed-forward's projections from the stream it reads (trace, no forward)."""
    x = torch.from_numpy(trace.stream_after_attention(layer).astype(np.float32))
    with torch.inference_mode():
        hidden = family_of(lm.model).feed_forward_hidden(lm.model, layer, block_parts(lm.model)[layer].norm_ffn(x))
    gate = hidden.gate if hidden.gate is not None else torch.full_like(hidden.up, float("nan"))
    value, gate, up = (t.double().numpy() for t in (hidden.value, gate, hidden.up))
    order = np.argsort(-np.abs(value), kind="stable")[:top_n]
    total = float(np.abs(value).sum())
    return FeedForwardUnits(
        kind=hidden.kind, layer=layer, d_model=int(x.shape[0]), d_ff=int(value.shape[0]),
        units=[int(i) for i in order], value=value[order].tolist(), gate=gate[order].tolist(),
        up=up[order].tolist(), all_values=value,
        share_of_magnitude=float(np.abs(value[order]).sum() / total) if total else 0.0,
    )


@dataclass(frozen=True)
class ParameterShares:
    feed_forward: int
    attention: int
    norms: int
    non_embedding: int  # everything but the embeddings and an untied output head

    @property
    def feed_forward_share(self) -> float:
        return self.feed_forward / self.non_embedding


def parameter_shares(lm: LoadedModel) -> ParameterShares:
    """Counted from the model's own parameters (explain.anatomy), tied weights once."""
    parts = model_anatomy(lm).params_by_part
    non_embedding = sum(n for part, n in parts.items() if part not in {"embeddings", "output head"})
    return ParameterShares(parts.get("feed-forward", 0), parts.get("attention", 0), parts.get("norms", 0), non_embedding)
