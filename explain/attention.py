"""Self-attention, measured: what each head looks at, and how its weights are made.

Everything works on the shared forward pass (`PromptAnalysis`), so moving between layers and
heads never reruns the model: statistics and "follow a token" read the attention weights
(n_layer, n_head, T, T); `attention_scores` recomputes one layer's queries and keys from the
hidden state entering it, to show the step before the softmax: q·k/√d, the causal mask, the softmax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explain.engine import FamilyUnknown, family_of
from explain.engine.models import LoadedModel
from explain.next_token import softmax

# The statistics a learner can colour the head gallery by: key -> (label, what it measures).
STATISTICS: dict[str, tuple[str, str]] = {
    "first": ("attention to the first token", "mean weight token i gives to token 0 (i ≥ 2)"),
    "previous": ("attention to the previous token", "mean weight token i gives to token i−1 (i ≥ 2)"),
    "self": ("attention to itself", "mean weight token i gives to itself (i ≥ 2)"),
    "entropy": ("spread (entropy, bits)", "mean entropy of a row (i ≥ 2), in bits: 0 = one token gets everything"),
}
# Rows 0 and 1 are left out of every statistic: for token 0 the first token, the previous one and
# itself are all token 0; for token 1 the previous token IS the first token. From token 2 on the
# three are different tokens, so a prompt needs at least 3 tokens before heads can be told apart.
FIRST_ROW = 2
MIN_TOKENS_FOR_KINDS = FIRST_ROW + 1
KIND_THRESHOLD = 0.5  # a head is named after a pattern when more than half its weight follows it
KIND_RULES: dict[str, str] = {
    "previous-token head": f"attention to the previous token > {KIND_THRESHOLD}",
    "first-token head": f"attention to the first token > {KIND_THRESHOLD}",
    "self head": f"attention to itself > {KIND_THRESHOLD}",
    "spread-out head": "none of the above, and entropy above half its maximum (log₂ of the row length)",
    "mixed head": "none of the above: weight goes to a few content-dependent tokens",
}


@dataclass(frozen=True)
class HeadStatistics:
    """One number per head for each pattern, over the rows (queries) i ≥ FIRST_ROW only: there
    the first token, the previous token and the token itself are three different tokens."""

    first: np.ndarray  # (n_layer, n_head) mean weight to token 0
    previous: np.ndarray  # (n_layer, n_head) mean weight to token i−1
    self: np.ndarray  # (n_layer, n_head) mean weight on the diagonal
    entropy: np.ndarray  # (n_layer, n_head) mean row entropy in bits
    max_entropy: float  # mean over rows i ≥ 2 of log2(i + 1): the entropy of a uniform row
    kinds: tuple[tuple[str, ...], ...]  # (n_layer, n_head) names from KIND_RULES
    n_rows: int  # how many query rows were measured (T − 2)

    def values(self, statistic: str) -> np.ndarray:
        return getattr(self, statistic)


def row_entropy_bits(weights: np.ndarray) -> np.ndarray:
    """Entropy in bits along the last axis; 0 · log 0 counts as 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(weights > 0, weights * np.log2(weights), 0.0)
    return -terms.sum(axis=-1)


def head_kind(first: float, previous: float, self_: float, entropy: float, max_entropy: float) -> str:
    """Name a head after the first rule of KIND_RULES it meets."""
    if previous > KIND_THRESHOLD:
        return "previous-token head"
    if first > KIND_THRESHOLD:
        return "first-token head"
    if self_ > KIND_THRESHOLD:
        return "self head"
    if max_entropy > 0 and entropy > max_entropy / 2:
        return "spread-out head"
    return "mixed head"


class PromptTooShort(ValueError):
    """Fewer than MIN_TOKENS_FOR_KINDS tokens: first, previous and self can't be told apart."""


def head_statistics(attentions: np.ndarray) -> HeadStatistics:
    """attentions: (n_layer, n_head, T, T). Needs T ≥ MIN_TOKENS_FOR_KINDS (else PromptTooShort)."""
    n_layer, n_head, T, _ = attentions.shape
    if T < MIN_TOKENS_FOR_KINDS:
        raise PromptTooShort(
            f"With {T} token{'s' if T != 1 else ''}, the first token, the previous token and the token "
            "itself are never three different tokens (for token 1 the previous token is the first "
            f"one), so head types can't be told apart: use a prompt of at least {MIN_TOKENS_FOR_KINDS} tokens."
        )
    query = np.arange(FIRST_ROW, T)  # (n_rows,)
    rows = attentions[:, :, FIRST_ROW:, :].astype(np.float64)  # (L, H, n_rows, T)
    at = np.arange(len(query))
    first = rows[..., 0].mean(-1)
    previous = rows[:, :, at, query - 1].mean(-1)
    self_ = rows[:, :, at, query].mean(-1)
    entropy = row_entropy_bits(rows).mean(-1)
    max_entropy = float(np.log2(query + 1).mean())
    kinds = tuple(
        tuple(
            head_kind(first[l, h], previous[l, h], self_[l, h], entropy[l, h], max_entropy)
            for h in range(n_head)
        )
        for l in range(n_layer)
    )
    return HeadStatistics(first, previous, self_, entropy, max_entropy, kinds, len(query))


@dataclass(frozen=True)
class TokenFocus:
    """Where one token looks, layer by layer."""

    position: int  # the query token
    mean_over_heads: np.ndarray  # (n_layer, position + 1) weight to each earlier token, heads averaged
    per_head: np.ndarray  # (n_layer, n_head, position + 1)
    top_per_layer: list[int]  # (n_layer,) the earlier token with most head-averaged weight

    def top_excluding(self, excluded: set[int]) -> list[int]:
        """Per layer, the most-attended earlier token outside `excluded` (e.g. the first token)."""
        weights = self.mean_over_heads.copy()
        for position in excluded:
            if position < weights.shape[1]:
                weights[:, position] = -1.0
        return [int(i) for i in weights.argmax(axis=1)]

    def layer_counts(self, excluded: set[int]) -> dict[int, int]:
        """Earlier token -> in how many layers it is the most attended outside `excluded`,
        most layers first (ties: earlier token first). Tokens that never win are absent."""
        tops = self.top_excluding(excluded)
        return dict(sorted(((i, tops.count(i)) for i in set(tops)), key=lambda kv: (-kv[1], kv[0])))


def follow_token(attentions: np.ndarray, position: int) -> TokenFocus:
    """attentions: (n_layer, n_head, T, T); position: the query token, 0 ≤ position < T."""
    T = attentions.shape[-1]
    if not 0 <= position < T:
        raise ValueError(f"position {position} is outside the prompt (0…{T - 1})")
    per_head = attentions[:, :, position, : position + 1].astype(np.float64)
    mean = per_head.mean(axis=1)
    return TokenFocus(position, mean, per_head, [int(i) for i in mean.argmax(axis=1)])


def strongest_keys(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """weights: (T, T) one head. Per query row, the key it gives most weight to and that weight."""
    best = weights.argmax(axis=-1)  # (T,)
    return best, np.take_along_axis(weights, best[:, None], axis=-1)[:, 0]


def extreme_heads(values: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """values: (n_layer, n_head). The (layer, head) with the largest and with the smallest value."""
    high = np.unravel_index(int(np.argmax(values)), values.shape)
    low = np.unravel_index(int(np.argmin(values)), values.shape)
    return (int(high[0]), int(high[1])), (int(low[0]), int(low[1]))


def find_token(pieces_text: list[str], word: str) -> int | None:
    """Index of the last token whose text, stripped, equals `word` (case-insensitive), else None."""
    wanted = word.strip().lower()
    for index in range(len(pieces_text) - 1, -1, -1):
        if pieces_text[index].strip().lower() == wanted:
            return index
    return None


# ---------------------------------------------------------------------------------------------
# Before the softmax: query · key scores, recomputed from each attention module's own input


class ScoresUnavailable(RuntimeError):
    """The model's attention modules are of a kind whose queries and keys we can't recompute."""


@dataclass(frozen=True)
class AttentionScores:
    """The raw scores of every head of one layer, before the mask and the softmax."""

    layer: int
    scores: np.ndarray  # (n_head, T, T) q_i · k_j × scale (future cells included)
    head_dim: int
    scale: float  # the factor the model multiplies q·k by (1/√d_head)
    architecture: str

    def masked(self, head: int) -> np.ndarray:
        """(T, T) scores with the future (j > i) set to −inf: the causal mask."""
        s = self.scores[head].astype(np.float64)
        return np.where(np.tril(np.ones_like(s, dtype=bool)), s, -np.inf)

    def weights(self, head: int) -> np.ndarray:
        """(T, T) softmax of the masked scores, row by row: the attention weights."""
        return softmax(self.masked(head))


def attention_scores(lm: LoadedModel, layer_input: np.ndarray, layer: int) -> AttentionScores:
    """q·k × scale for every head of `layer`, with no new forward pass over the network.

    layer_input: (T, d_model) the residual stream entering `layer`, i.e. the shared forward's
    `PromptAnalysis.hidden_states[layer]` (for layer < n_layer). The block's own norm, projections
    and rotary embedding are applied to it, exactly the path the attention module takes, so the
    softmax of the masked result is the model's attention (tested). Llama-style and GPT-2 models
    only; others raise ScoresUnavailable.
    """
    model = lm.model
    architecture = type(model).__name__
    try:
        family = family_of(model)
    except FamilyUnknown as err:
        raise ScoresUnavailable(
            f"Scores before the softmax can't be recomputed for {architecture} (only Llama-style "
            "and GPT-2 attention are supported)."
        ) from err
    x = torch.from_numpy(np.ascontiguousarray(layer_input, dtype=np.float32))[None]  # (1, T, d_model)
    with torch.inference_mode():
        q, k = family.queries_keys(model, layer, family.blocks(model)[layer].norm_attn(x))
        scale = family.attention_scale(model, layer)
        scores = (q @ k.transpose(-1, -2))[0] * scale  # (n_head, T, T)
    return AttentionScores(layer, scores.float().numpy().copy(), int(q.shape[-1]), scale, architecture)
