"""What every supported model family exposes to the lessons, under one set of names."""

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

    def queries_keys(self, model: torch.nn.Module, layer: int, normed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """normed: (1, T, d_model) the layer's attention input after its norm → (q, k), each
        (1, n_head, T, head_dim), with positions applied as the model does and shared keys repeated."""
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


def family_of(model: torch.nn.Module) -> ModelFamily:
    """The adapter for `model`, chosen by `config.model_type` (the one way a family is detected)."""
    from explain.engine import gpt2, llama

    model_type = getattr(getattr(model, "config", None), "model_type", None)
    for family in (llama.FAMILY, gpt2.FAMILY):
        if model_type in family.model_types:
            return family
    raise FamilyUnknown(
        f"{type(model).__name__} (model_type {model_type!r}) is not a family this site knows: "
        "only Llama-style models and GPT-2 are supported (add an adapter in explain/engine/)."
    )
