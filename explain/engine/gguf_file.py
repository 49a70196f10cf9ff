"""What the shipped GGUF file itself says: how each tensor is stored, and its metadata.

The embedded model is a GGUF file (llama.cpp's format) whose weights are mostly 4-bit; the site
dequantizes them to fp32. These facts are read from the file's header with the `gguf` package's
GGUFReader, never typed in. Parsing the header took 3.5 s (idle) to 10 s (loaded machine) of the
first Home visit, so its summary is kept as JSON in the converted model's cache folder (keyed by
the file's checksum, like the converted weights) and parsed only when no copy is there.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from explain.engine.models import (
    EMBEDDED_MODEL, LoadedModel, converted_dir_for, default_cache_dir, file_sha256, find_embedded_gguf,
)

HEADER_FILE = "gguf_header.json"  # in the converted model's folder
_HEADER_FORMAT = 1  # bump when GgufSummary's fields change


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
    """Every tensor's storage type and the scalar metadata of the GGUF file at `path`.

    From the summary kept in the converted model's folder when there is one (`header_cache_path`),
    else parsed from the file (`parse_gguf`) and kept there for the next process.
    """
    cached = header_cache_path(Path(path))
    summary = _load_summary(cached, path) if cached else None
    if summary is None:
        summary = parse_gguf(path)
        if cached:
            _save_summary(cached, summary)
    return summary


def header_cache_path(gguf: Path) -> Path | None:
    """Where the summary of `gguf` is kept: its converted model's folder, if that exists."""
    folder = converted_dir_for(file_sha256(gguf), default_cache_dir())
    return folder / HEADER_FILE if folder.is_dir() else None


def _load_summary(cached: Path, path: str) -> GgufSummary | None:
    try:
        stored = json.loads(cached.read_text())
        if stored["format"] != _HEADER_FORMAT:
            return None
        tensors = tuple(GgufTensor(**tensor) for tensor in stored["tensors"])
        return GgufSummary(path=path, tensors=tensors, metadata=dict(stored["metadata"]))
    except (OSError, ValueError, KeyError, TypeError):  # missing, half-written by hand, old layout
        return None


def _save_summary(cached: Path, summary: GgufSummary) -> None:
    """Write atomically; a read-only cache only means the next process parses the header again."""
    stored = {"format": _HEADER_FORMAT, "tensors": [asdict(t) for t in summary.tensors],
              "metadata": summary.metadata}
    try:
        handle, staging = tempfile.mkstemp(prefix=HEADER_FILE, dir=cached.parent)
        with os.fdopen(handle, "w") as f:
            json.dump(stored, f)
        os.replace(staging, cached)
    except OSError:
        pass


def parse_gguf(path: str) -> GgufSummary:
    """`read_gguf` from the file itself, with the `gguf` package's GGUFReader (seconds)."""
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
