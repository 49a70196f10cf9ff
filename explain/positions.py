"""Position: a transformer reads all tokens at once, so word order has to be put in.

The original transformer ("Attention Is All You Need", 2017) ADDS a fixed sinusoidal vector to
each token's embedding. GPT-2 adds a LEARNED vector per position (its `wpe` matrix). Llama-style
models such as SmolLM2 add nothing to the embeddings: they ROTATE queries and keys by an angle that
grows with the position (rotary embeddings, RoPE). `position_scheme` reads which one the live
model uses from its config and modules, never from its name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explain.engine import FamilyUnknown, family_of
from explain.engine.models import LoadedModel

SINUSOID_BASE = 10_000.0


def sinusoidal_encoding(n_positions: int, d_model: int, base: float = SINUSOID_BASE) -> np.ndarray:
    """(n_positions, d_model): PE[pos, 2i] = sin(pos / base^(2i/d)), PE[pos, 2i+1] = cos(same)."""
    positions = np.arange(n_positions, dtype=np.float64)[:, None]  # (P, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]  # (1, ceil(d/2))
    angles = positions / base ** (two_i / d_model)  # (P, ceil(d/2))
    encoding = np.zeros((n_positions, d_model))
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return encoding


def wavelengths(d_model: int, base: float = SINUSOID_BASE) -> np.ndarray:
    """(ceil(d/2),) positions after which each sine/cosine pair repeats: 2π · base^(2i/d)."""
    return 2 * np.pi * base ** (np.arange(0, d_model, 2, dtype=np.float64) / d_model)


@dataclass(frozen=True)
class PositionScheme:
    kind: str  # "rotary", "learned absolute" or "not found"
    statement: str  # one plain sentence for the page
    rope_theta: float | None  # base of the rotation frequencies (rotary only)
    max_positions: int | None  # the longest context the config declares
    learned: np.ndarray | None  # (n_positions, d_model) learned position vectors, if any


def _family(lm: LoadedModel):
    try:
        return family_of(lm.model)
    except FamilyUnknown:
        return None


def position_scheme(lm: LoadedModel) -> PositionScheme:
    """How the live model encodes word order, read from its config (rope_parameters/rope_theta)
    and its modules (a learned position table such as GPT-2's `wpe`)."""
    config = lm.config
    max_positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    family = _family(lm)
    theta = family.rope_theta(config) if family else None
    if theta is not None:
        return PositionScheme(
            kind="rotary",
            statement=(
                f"{lm.name} uses rotary position embeddings (RoPE, base θ = {theta:,.0f}): nothing is "
                "added to the token vectors; inside every attention layer, queries and keys are "
                "rotated by an angle proportional to their position, so the attention score depends "
                f"on how far apart two tokens are. Its config allows {max_positions:,} positions."
            ),
            rope_theta=theta,
            max_positions=max_positions,
            learned=None,
        )
    learned = family.learned_positions(lm.model) if family else None
    if learned is not None:
        name, weights = learned
        table = weights.detach().float().numpy()
        return PositionScheme(
            kind="learned absolute",
            statement=(
                f"{lm.name} adds a learned position vector to every token vector: row p of its "
                f"`{name}` matrix ({table.shape[0]:,} positions × {table.shape[1]} numbers), trained "
                "like the token embeddings, is added at position p before the first layer."
            ),
            rope_theta=None,
            max_positions=max_positions or table.shape[0],
            learned=table,
        )
    return PositionScheme(
        kind="not found",
        statement=f"The config of {lm.name} names no position scheme this page knows.",
        rope_theta=None,
        max_positions=max_positions,
        learned=None,
    )
