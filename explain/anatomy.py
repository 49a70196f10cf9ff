"""Where a model's parameters live: embeddings, attention, feed-forward, norms, output head.

Counted from the loaded model's own parameters by name, so the numbers are never typed in.
Tied weights (the output head sharing the embedding matrix) are counted once, as torch does.
For a model converted from a GGUF file, `storage_by_part` says how the file stores each part
(4-bit, 8-bit, 32-bit float), read from the file's own header.
"""

from __future__ import annotations

from dataclasses import dataclass

from explain.engine import family_of
from explain.engine.gguf_file import GgufSummary
from explain.engine.models import LoadedModel
from explain.positions import position_scheme

# The same parts under llama.cpp's tensor names ('blk.3.attn_q.weight', 'token_embd.weight').
_GGUF_PART_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("embeddings", ("token_embd", "position_embd")),
    ("norms", ("_norm",)),
    ("attention", ("attn_",)),
    ("feed-forward", ("ffn_",)),
    ("output head", ("output.",)),
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
    position_encoding: str  # "rope" (rotation inside attention), "learned" (vectors added) or "none"
    dtype: str  # what the loaded weights are computed in, e.g. 'float32'


def part_of(parameter_name: str, markers: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """The first part whose markers appear in `parameter_name` ("other" if none)."""
    for part, part_markers in markers:
        if any(marker in parameter_name for marker in part_markers):
            return part
    return "other"


_ENCODING_OF_SCHEME = {"rotary": "rope", "learned absolute": "learned", "not found": "none"}


def position_encoding(lm: LoadedModel) -> str:
    """How token order enters the model: "rope" (rotation inside attention), "learned" (a learned
    vector added to each token's) or "none" — from `positions.position_scheme`, never the name."""
    return _ENCODING_OF_SCHEME[position_scheme(lm).kind]


def model_anatomy(lm: LoadedModel) -> ModelAnatomy:
    config, family = lm.config, family_of(lm.model)
    markers = family.parameter_parts
    counts: dict[str, int] = {}
    for name, param in lm.model.named_parameters():  # tied tensors appear once
        part = part_of(name, markers)
        counts[part] = counts.get(part, 0) + param.numel()
    d_model = config.hidden_size
    return ModelAnatomy(
        n_params=sum(counts.values()),
        params_by_part=counts,
        n_layer=config.num_hidden_layers,
        n_head=config.num_attention_heads,
        n_kv_head=family.heads(lm.model).n_kv_head,
        d_model=d_model,
        d_ff=family.feed_forward_width(config),
        vocab_size=config.vocab_size,
        context_length=config.max_position_embeddings,
        tied_embeddings=bool(getattr(config, "tie_word_embeddings", False)),
        architecture=(config.architectures or [type(lm.model).__name__])[0],
        position_encoding=position_encoding(lm),
        dtype=str(next(lm.model.parameters()).dtype).removeprefix("torch."),
    )


def millions(count: int) -> str:
    """A parameter count in millions at a precision that never shows a non-zero part as 0.0 M."""
    if count == 0:
        return "0 M"
    return "<0.1 M" if count < 50_000 else f"{count / 1e6:.1f} M"


def share(count: int, total: int) -> str:
    """`count / total` as a percentage that never rounds a non-zero part to 0%."""
    fraction = count / total if total else 0.0
    if 0 < fraction < 0.001:
        return "<0.1%"
    return f"{fraction:.0%}" if fraction >= 0.01 else f"{fraction:.1%}"


@dataclass(frozen=True)
class PartStorage:
    """How a GGUF file stores one part of the model in one storage type."""

    part: str  # 'attention', 'embeddings', … (the same names as ModelAnatomy.params_by_part)
    type_name: str  # 'Q4_1', 'Q8_0', 'F32', …
    n_tensors: int
    n_elements: int
    bits_per_weight: float


def storage_by_part(summary: GgufSummary) -> list[PartStorage]:
    """The file's tensors grouped by model part and storage type, largest group first."""
    groups: dict[tuple[str, str], list] = {}
    for tensor in summary.tensors:
        key = (part_of(tensor.name, _GGUF_PART_MARKERS), tensor.type_name)
        groups.setdefault(key, []).append(tensor)
    rows = [
        PartStorage(part, type_name, len(tensors), sum(t.n_elements for t in tensors), tensors[0].bits_per_weight)
        for (part, type_name), tensors in groups.items()
    ]
    return sorted(rows, key=lambda row: -row.n_elements)


@dataclass(frozen=True)
class TypeStorage:
    """All tensors of one storage type in a GGUF file."""

    type_name: str
    n_tensors: int
    n_elements: int
    parts: tuple[str, ...]  # the model parts stored this way, largest first


def storage_by_type(rows: list[PartStorage]) -> list[TypeStorage]:
    """`storage_by_part` rows summed per storage type, the type holding the most tensors first."""
    types: dict[str, list[PartStorage]] = {}
    for row in rows:  # rows come largest first, so parts stay in that order
        types.setdefault(row.type_name, []).append(row)
    summary = [
        TypeStorage(name, sum(r.n_tensors for r in group), sum(r.n_elements for r in group),
                    tuple(r.part for r in group))
        for name, group in types.items()
    ]
    return sorted(summary, key=lambda t: -t.n_tensors)


def anatomy_table(anatomy: ModelAnatomy, storage: list[PartStorage]) -> dict[str, list[str]]:
    """One row per part, largest first: how the model file stores it (if `storage`), its size.

    The storage column comes right after the part, so a phone shows it without scrolling sideways.
    """
    parts = sorted(anatomy.params_by_part.items(), key=lambda item: -item[1])
    table = {"part": [part for part, _ in parts]}
    if storage:
        table["stored in the model file as"] = [
            "; ".join(
                f"{row.type_name}, {row.bits_per_weight:g} bits/weight, {row.n_tensors} "
                + ("tensor" if row.n_tensors == 1 else "tensors")
                for row in storage if row.part == part
            )
            for part, _ in parts
        ]
    table["millions"] = [millions(count) for _, count in parts]
    table["share"] = [share(count, anatomy.n_params) for _, count in parts]
    table["parameters"] = [f"{count:,}" for _, count in parts]
    return table
