"""Where the two small models and their measurements are shipped, and how the site loads them.

Written offline by `python -m tools.small_models train|evaluate` (data/small_models/); the site
only reads them.
"""

from __future__ import annotations

from pathlib import Path

import torch

from explain.small_models.gpt import GPT, GPTConfig
from explain.small_models.rnn import LSTMLM, RNNConfig

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "small_models"
VOCAB_PATH = DATA_DIR / "vocab.json"
METRICS_PATH = DATA_DIR / "metrics.json"
CHECKPOINTS = {"lstm": DATA_DIR / "lstm.pt", "gpt": DATA_DIR / "gpt.pt"}
BLOCK = 64  # the transformer's context limit: the longest context both models are measured at


def load_checkpoint(path: Path):
    """A model in float32, eval mode, no gradients."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if ckpt["kind"] == "lstm":
        model = LSTMLM(RNNConfig(**ckpt["config"]))
    else:
        model = GPT(GPTConfig(**ckpt["config"]))
    model.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
    model.eval()
    model.requires_grad_(False)
    return model
