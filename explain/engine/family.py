"""What every supported model family exposes to the lessons, under one set of names.

Lesson modules (explain/*.py outside engine/) reach a model's modules and weights only through
`family_of(model)` and `norm_weights(module)`: attribute paths such as `model.model.layers[i].self_attn`
or `transformer.h[i].mlp` are written in the adapters alone. Adding a model family means adding
one adapter module here (a `ModelFamily` subclass filling in every method) and listing it in
`_families`; nothing outside explain/engine/ changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


class FamilyUnknown(ValueError):
    """The model is of a family the engine has no adapter for."""


@dataclass(frozen=True)
class BlockParts:
    """The modules of one decoder layer, under the same names for every supported family."""

    norm_attn: torch.nn.Module  # the norm before attention (Llama input_layernorm, GPT-2 ln_1)
    attention: torch.nn.Module
    norm_ffn: torch.nn.Module  # the norm before the feed-forward (post_attention_layernorm, ln_2)
    feed_forward: torch.nn.Module
    down: torch.nn.Module  # the feed-forward's last projection: its input is the hidden units


@dataclass(frozen=True)
class HeadLayout:
    """How one layer's attention is cut into heads (the same in every layer of these families)."""

    n_head: int  # query heads
    n_kv_head: int  # key/value heads (fewer than n_head with grouped-query attention)
    head_dim: int


@dataclass(frozen=True)
class NormWeights:
    """A norm module's learned numbers, under one set of names."""

    kind: str  # "RMSNorm" (no centring, no bias) or "LayerNorm"
    gain: torch.Tensor  # (d,)
    bias: torch.Tensor | None  # (d,), None for RMSNorm
    eps: float


@dataclass(frozen=True)
class FeedForwardHidden:
    """One feed-forward's hidden units, computed from its normed input (…, d_model)."""

    kind: str  # "SwiGLU" or "GELU"
    up: torch.Tensor  # (…, d_ff) the up projection (GELU: before the activation)
    gate: torch.Tensor | None  # (…, d_ff) SwiGLU's gate projection before silu; None for GELU
    value: torch.Tensor  # (…, d_ff) what the down projection reads


class ModelFamily:
    """One architecture's layout. Subclasses fill in every method; the lessons call only these."""

    name: str = "?"
    model_types: tuple[str, ...] = ()  # `config.model_type` values this adapter handles
    decodes_fast: bool = False  # explain.engine.fast_decode's lean decoder applies (Llama layout only)
    # (part, markers): a parameter belongs to the first part with a marker in its name.
    parameter_parts: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def blocks(self, model: torch.nn.Module) -> list[BlockParts]:
        """Every decoder layer's parts, first layer first."""
        raise NotImplementedError

    def final_norm(self, model: torch.nn.Module) -> torch.nn.Module:
        """The norm applied before the output head."""
        raise NotImplementedError

    def heads(self, model: torch.nn.Module) -> HeadLayout:
        """Read from the config and checked against the key projection's shape (ValueError if not)."""
        raise NotImplementedError

    def feed_forward_width(self, config) -> int:
        """d_ff: the number of hidden units in each feed-forward."""
        raise NotImplementedError

    def norm_weights(self, module: torch.nn.Module) -> NormWeights | None:
        """The weights of a norm module of this family, or None if `module` is not one."""
        raise NotImplementedError

    def projected_queries_keys(
        self, model: torch.nn.Module, layer: int, normed: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """normed: (1, T, d_model) the layer's attention input after its norm → q (1, n_head, T,
        head_dim) and k (1, n_kv_head, T, head_dim), as projected, before any position is applied."""
        raise NotImplementedError

    def queries_keys(self, model: torch.nn.Module, layer: int, normed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """normed: (1, T, d_model) the layer's attention input after its norm → (q, k), each
        (1, n_head, T, head_dim), with positions applied as the model does and shared keys repeated."""
        raise NotImplementedError

    def feed_forward_hidden(self, model: torch.nn.Module, layer: int, normed: torch.Tensor) -> FeedForwardHidden:
        """normed: (…, d_model) the feed-forward's input after its norm → its hidden units."""
        raise NotImplementedError

    def attention_scale(self, model: torch.nn.Module, layer: int) -> float:
        """The factor q·k is multiplied by before the softmax."""
        raise NotImplementedError

    def rope_theta(self, config) -> float | None:
        """Base of the rotary frequencies, or None when positions are not rotary."""
        return None

    def learned_positions(self, model: torch.nn.Module) -> tuple[str, torch.Tensor] | None:
        """(module name, (n_positions, d_model) weights) of a learned position table, if any."""
        return None


def _families() -> tuple[ModelFamily, ...]:
    """Every adapter, in the order they are tried (add a new family's module here)."""
    from explain.engine import gpt2, llama

    return llama.FAMILY, gpt2.FAMILY


def family_of(model: torch.nn.Module) -> ModelFamily:
    """The adapter for `model`, chosen by `config.model_type` (the one way a family is detected)."""
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    for family in _families():
        if model_type in family.model_types:
            return family
    raise FamilyUnknown(
        f"{type(model).__name__} (model_type {model_type!r}) is not a family this site knows: "
        "only Llama-style models and GPT-2 are supported (add an adapter in explain/engine/)."
    )


def norm_weights(module: torch.nn.Module) -> NormWeights:
    """The weights of any supported family's norm module (a norm is passed around without its model)."""
    for family in _families():
        weights = family.norm_weights(module)
        if weights is not None:
            return weights
    raise FamilyUnknown(f"{type(module).__name__} is not a norm of a family this site knows.")
