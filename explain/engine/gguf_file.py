"""What the shipped GGUF file itself says: how each tensor is stored, and its metadata.

The embedded model is a GGUF file (llama.cpp's format) whose weights are mostly 4-bit; the site
dequantizes them to fp32. These facts are read from the file's header with the `gguf` package's
GGUFReader, never typed in. Reading the header takes a few seconds, so it happens once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from explain.engine.models import EMBEDDED_MODEL, LoadedModel, find_embedded_gguf


@dataclass(frozen=True)
class GgufTensor:
    name: str  # the file's own name, e.g. 'blk.0.attn_q.weight'
    type_name: str  # ggml storage type: 'Q4_1', 'Q8_0', 'F32', …
    n_elements: int
    bits_per_weight: float  # storage cost including each block's scale (Q4_1: 5.0, Q8_0: 8.5)


@dataclass(frozen=True)
class GgufSummary:
    path: str
    tensors: tuple[GgufTensor, ...]
    metadata: dict[str, str]  # the file's string and number fields (token lists left out)


def gguf_of(lm: LoadedModel) -> Path | None:
    """The GGUF file `lm` was converted from, or None (a hub model, or the hub copy of SmolLM2).

    Mirrors `models.load_model`: the embedded name comes from the wheel's GGUF whenever it exists.
    """
    return find_embedded_gguf() if lm.name == EMBEDDED_MODEL else None


@lru_cache(maxsize=2)
def read_gguf(path: str) -> GgufSummary:
    """Every tensor's storage type and the scalar metadata of the GGUF file at `path`."""
    from gguf import GGML_QUANT_SIZES, GGUFReader

    reader = GGUFReader(path)
    tensors = []
    for tensor in reader.tensors:
        block_size, block_bytes = GGML_QUANT_SIZES[tensor.tensor_type]
        tensors.append(
            GgufTensor(
                name=tensor.name,
                type_name=tensor.tensor_type.name,
                n_elements=int(tensor.n_elements),
                bits_per_weight=8 * block_bytes / block_size,
            )
        )
    metadata = {}
    for key, field in reader.fields.items():
        if len(field.data) == 1:  # scalars and strings; arrays (tokens, merges) are skipped
            metadata[key] = str(field.contents())
    return GgufSummary(path=path, tensors=tuple(tensors), metadata=metadata)


# What ggml's storage types mean (the file format's definitions, not measurements of this model).
TYPE_DESCRIPTIONS = {
    "F32": "32-bit floats (not quantized)",
    "F16": "16-bit floats",
    "BF16": "bfloat16",
    "Q8_0": "8-bit integers, one scale per block of 32",
    "Q4_0": "4-bit integers, one scale per block of 32",
    "Q4_1": "4-bit integers, a scale and a minimum per block of 32",
    "Q5_0": "5-bit integers, one scale per block of 32",
    "Q5_1": "5-bit integers, a scale and a minimum per block of 32",
}


def nominal_bits(type_name: str) -> int | None:
    """The bit width a storage type is named after ('Q4_1' → 4, 'F32' → 32), or None."""
    match = re.match(r"^(?:IQ|Q|BF|F)(\d+)", type_name)
    return int(match.group(1)) if match else None
