"""Where a model's parameters live: embeddings, attention, feed-forward, norms, output head.

Counted from the loaded model's own parameters by name, so the numbers are never typed in.
Tied weights (the output head sharing the embedding matrix) are counted once, as torch does.
"""

from __future__ import annotations

from dataclasses import dataclass

from explain.models import LoadedModel

# Checked in order: the first part whose markers appear in a parameter's name gets it.
_PART_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("embeddings", ("embed_tokens", "wte", "wpe", "embed_positions")),
    ("norms", ("norm", "ln_")),
    ("attention", ("self_attn", "attn")),
    ("feed-forward", ("mlp",)),
    ("output head", ("lm_head",)),
)


@dataclass(frozen=True)
class ModelAnatomy:
    n_params: int
    params_by_part: dict[str, int]  # part name -> count; sums to n_params
    n_layer: int
    n_head: int
    n_kv_head: int  # heads sharing keys/values (grouped-query attention) — equals n_head if not
    d_model: int  # size of each token's vector
    d_ff: int  # width of the feed-forward layer
    vocab_size: int
    context_length: int
    tied_embeddings: bool  # the output head reuses the embedding matrix
    architecture: str


def part_of(parameter_name: str) -> str:
    for part, markers in _PART_MARKERS:
        if any(marker in parameter_name for marker in markers):
            return part
    return "other"


def model_anatomy(lm: LoadedModel) -> ModelAnatomy:
    config = lm.config
    counts: dict[str, int] = {}
    for name, param in lm.model.named_parameters():  # tied tensors appear once
        part = part_of(name)
        counts[part] = counts.get(part, 0) + param.numel()
    d_model = config.hidden_size
    d_ff = getattr(config, "intermediate_size", None) or getattr(config, "n_inner", None) or 4 * d_model
    return ModelAnatomy(
        n_params=sum(counts.values()),
        params_by_part=counts,
        n_layer=config.num_hidden_layers,
        n_head=config.num_attention_heads,
        n_kv_head=getattr(config, "num_key_value_heads", None) or config.num_attention_heads,
        d_model=d_model,
        d_ff=d_ff,
        vocab_size=config.vocab_size,
        context_length=config.max_position_embeddings,
        tied_embeddings=bool(getattr(config, "tie_word_embeddings", False)),
        architecture=(config.architectures or [type(lm.model).__name__])[0],
    )
