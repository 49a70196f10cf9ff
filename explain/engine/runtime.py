"""The small pieces of transformers the lesson modules need, so only the engine imports it.

`new_cache`: an empty key/value cache for a step-by-step decode; `byte_level_alphabet`: GPT-2's
byte → printable-character table behind byte-level BPE's 'Ġ'; `load_encoder_files`: a BERT-style
encoder and its tokenizer from a folder on disk (the encoder vs decoder comparison).
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer, DynamicCache
from transformers.convert_slow_tokenizer import bytes_to_unicode

KVCache = DynamicCache  # what `new_cache` returns and a model's `past_key_values` takes


def new_cache(config) -> KVCache:
    return DynamicCache(config=config)


def byte_level_alphabet() -> dict[int, str]:
    """{byte: the printable character byte-level BPE writes for it} (0x20 → 'Ġ')."""
    return bytes_to_unicode()


def load_encoder_files(folder: Path):
    """(model in fp32 with eager attention, so attentions come back; its tokenizer)."""
    model = AutoModel.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32).eval()
    return model.requires_grad_(False), AutoTokenizer.from_pretrained(folder)
