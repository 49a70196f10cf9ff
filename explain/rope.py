"""Rotary position embeddings (RoPE), demonstrated on a real query and key.

RoPE splits each query and key of d numbers into d/2 pairs — in transformers' layout, dimension p
pairs with p + d/2 — and turns pair p by the angle position × θ^(−2p/d). Turning both by their
positions makes q·k depend only on how far apart the two tokens are: move both by the same amount
and the score stays (to float error); move one and it changes. The rotation is written out here
from θ and checked against the model's own rotary module (tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explain.engine import family_of
from explain.engine.models import LoadedModel
from explain.layer_parts import grouped_query_layout
from explain.positions import position_scheme
from explain.residual import block_parts


class RopeUnavailable(ValueError):
    """The model does not rotate its queries and keys (e.g. GPT-2 adds learned positions instead)."""


def rotation_angles(positions: np.ndarray, head_dim: int, theta: float) -> np.ndarray:
    """(P, d/2) angle of every pair at every position: position × θ^(−2p/d)."""
    frequencies = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)  # (d/2,)
    return np.asarray(positions, dtype=np.float64)[:, None] * frequencies[None, :]


def rotate(vector: np.ndarray, position: int, theta: float) -> np.ndarray:
    """(d,) → (d,): pair (p, p + d/2) turned by position × θ^(−2p/d)."""
    d = vector.shape[-1]
    angle = rotation_angles(np.array([position]), d, theta)[0]
    first, second = vector[: d // 2], vector[d // 2 :]
    cos, sin = np.cos(angle), np.sin(angle)
    return np.concatenate([first * cos - second * sin, second * cos + first * sin])


@dataclass(frozen=True)
class RopeDemo:
    layer: int
    head: int
    kv_head: int
    query_position: int  # i: the token whose query is taken
    key_position: int  # j: the token whose key is taken
    theta: float
    head_dim: int
    scale: float  # the model multiplies q·k by this (1/√d)
    query: np.ndarray  # (d,) before rotation
    key: np.ndarray  # (d,) before rotation
    shifts: list[int]  # how far both (or one) positions are moved
    score_both_moved: list[float]  # q at i + s, k at j + s: the same for every s
    score_query_moved: list[float]  # q at i + s, k stays at j: changes with s

    def pair_path(self, pair: int, positions: np.ndarray) -> np.ndarray:
        """(P, 2): the query's pair `pair` (dims p, p + d/2) turned to each position."""
        angle = rotation_angles(positions, self.head_dim, self.theta)[:, pair]
        x, y = self.query[pair], self.query[pair + self.head_dim // 2]
        return np.stack([x * np.cos(angle) - y * np.sin(angle), y * np.cos(angle) + x * np.sin(angle)], axis=1)

    def key_pair(self, pair: int) -> np.ndarray:
        """(2,): the key's pair `pair`, turned to the key's own position."""
        rotated = rotate(self.key, self.key_position, self.theta)
        return np.array([rotated[pair], rotated[pair + self.head_dim // 2]])

    def pair_angle_deg(self, pair: int) -> float:
        """Angle from the key's pair to the query's pair, each at its own position, in (−180°, 180°]."""
        query = self.pair_path(pair, np.array([self.query_position]))[0]
        key = self.key_pair(pair)
        turn = np.arctan2(query[1], query[0]) - np.arctan2(key[1], key[0])
        return float(np.degrees(np.angle(np.exp(1j * turn))))

    def radians_per_position(self, pair: int) -> float:
        return float(self.theta ** (-2 * pair / self.head_dim))


def score(query: np.ndarray, key: np.ndarray, i: int, j: int, theta: float, scale: float) -> float:
    """The attention score of a query at position i and a key at position j (before the softmax)."""
    return float(rotate(query, i, theta) @ rotate(key, j, theta) * scale)


def rope_demo(
    lm: LoadedModel, layer_input: np.ndarray, layer: int, head: int, i: int, j: int, shifts: list[int]
) -> RopeDemo:
    """layer_input: (T, d_model) the stream entering `layer` (PromptAnalysis.hidden_states[layer]).

    The query of head `head` for token i and the key it reads (its key/value group) for token j,
    taken before rotation through the layer's own norm and projections.
    """
    theta = position_scheme(lm).rope_theta
    if theta is None:
        raise RopeUnavailable(f"{lm.name} does not rotate queries and keys by position.")
    family, layout = family_of(lm.model), grouped_query_layout(lm)
    kv = layout.kv_of_query[head]
    x = torch.from_numpy(np.ascontiguousarray(layer_input[[i, j]], dtype=np.float32))[None]  # (1, 2, d_model)
    with torch.inference_mode():
        q, k = family.projected_queries_keys(lm.model, layer, block_parts(lm.model)[layer].norm_attn(x))
    query, key = q[0, head, 0].double().numpy(), k[0, kv, 1].double().numpy()  # before rotation
    scale, d = family.attention_scale(lm.model, layer), layout.head_dim
    return RopeDemo(
        layer=layer, head=head, kv_head=kv, query_position=i, key_position=j, theta=theta,
        head_dim=d, scale=scale, query=query, key=key, shifts=list(shifts),
        score_both_moved=[score(query, key, i + s, j + s, theta, scale) for s in shifts],
        score_query_moved=[score(query, key, i + s, j, theta, scale) for s in shifts],
    )
