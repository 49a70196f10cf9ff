"""Choosing the next token: the decoding strategies as filters on the next-token distribution.

Temperature reshapes the logits; top-k, top-p (nucleus) and min-p then cut the candidate set, in
that order (transformers' order); the survivors are renormalised and one is drawn. Greedy keeps only
the most likely token. Every filter here is plain numpy and gives the same kept set as transformers'
own `TemperatureLogitsWarper`, `TopKLogitsWarper`, `TopPLogitsWarper` and `MinPLogitsWarper` (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explain.engine.models import LoadedModel
from explain.next_token import rank_of, softmax, top_indices
from explain.tokens import TokenPiece, token_piece

GREEDY = "greedy"
SAMPLE = "sample"


@dataclass(frozen=True)
class SamplingSettings:
    """How to choose: greedy, or a draw after temperature and the optional filters (off = None)."""

    strategy: str = SAMPLE  # GREEDY or SAMPLE
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None

    def describe(self) -> str:
        if self.strategy == GREEDY:
            return "greedy"
        parts = [f"T={self.temperature:g}"]
        if self.top_k is not None:
            parts.append(f"top-k={self.top_k}")
        if self.top_p is not None:
            parts.append(f"top-p={self.top_p:g}")
        if self.min_p is not None:
            parts.append(f"min-p={self.min_p:g}")
        return "sampling, " + ", ".join(parts)


def scaled_logits(logits: np.ndarray, temperature: float) -> np.ndarray:
    """logits / temperature in float64: (vocab,). Below 1 sharpens, above 1 flattens."""
    if not temperature > 0:
        raise ValueError("temperature must be > 0 (choose greedy decoding for 'temperature 0')")
    return logits.astype(np.float64) / temperature


def top_k_keep(scores: np.ndarray, k: int) -> np.ndarray:
    """Keep-mask of the k highest scores; a tie with the k-th score is kept too. k > vocab keeps all."""
    if k < 1:
        raise ValueError("top-k needs k ≥ 1")
    k = min(k, scores.size)
    kth = np.partition(scores, scores.size - k)[scores.size - k]
    return scores >= kth


def top_p_keep(scores: np.ndarray, p: float) -> np.ndarray:
    """Keep-mask of the nucleus: the most likely tokens whose probabilities first reach `p`.

    Like transformers, tokens are sorted from least to most likely and a token is dropped while the
    cumulative probability up to and including it stays ≤ 1 − p; the most likely token always stays.
    """
    if not 0 <= p <= 1:
        raise ValueError("top-p must be between 0 and 1")
    order = np.argsort(scores, kind="stable")  # least likely first
    cumulative = np.cumsum(softmax(scores[order]))
    drop_sorted = cumulative <= 1 - p
    drop_sorted[-1] = False
    keep = np.ones(scores.size, dtype=bool)
    keep[order[drop_sorted]] = False
    return keep


def min_p_keep(scores: np.ndarray, min_p: float) -> np.ndarray:
    """Keep-mask of tokens at least `min_p` times as likely as the most likely token."""
    if not 0 <= min_p <= 1:
        raise ValueError("min-p must be between 0 and 1")
    probs = softmax(scores)
    keep = probs >= min_p * probs.max()
    keep[int(np.argmax(probs))] = True
    return keep


def candidate_scores(logits: np.ndarray, settings: SamplingSettings) -> np.ndarray:
    """The scores a draw uses: (vocab,) float64, −inf for every token a filter removed."""
    if settings.strategy == GREEDY:
        scores = np.full(logits.shape, -np.inf)
        best = int(np.argmax(logits))
        scores[best] = float(logits[best])
        return scores
    scores = scaled_logits(logits, settings.temperature)
    for active, keep in (
        (settings.top_k is not None, lambda s: top_k_keep(s, int(settings.top_k))),
        (settings.top_p is not None, lambda s: top_p_keep(s, float(settings.top_p))),
        (settings.min_p is not None, lambda s: min_p_keep(s, float(settings.min_p))),
    ):
        if active:
            scores = np.where(keep(scores), scores, -np.inf)
    return scores


def candidate_probs(logits: np.ndarray, settings: SamplingSettings) -> np.ndarray:
    """(vocab,) probabilities of the draw: the survivors renormalised to sum to 1, 0 elsewhere."""
    return softmax(candidate_scores(logits, settings))


@dataclass(frozen=True)
class FilterView:
    """The top-n tokens before and after filtering, for one chart (most likely first)."""

    settings: SamplingSettings
    pieces: list[TokenPiece]
    token_ids: list[int]
    probs_before: list[float]  # softmax(logits / T) (T = 1 for greedy): the reshaped distribution
    cumulative: list[float]  # running sum of probs_before, in rank order
    probs_after: list[float]  # renormalised over the survivors; 0 for removed tokens
    kept: list[bool]
    n_kept: int  # survivors in the whole vocabulary (may exceed top-n)
    kept_mass: float  # share of probs_before that survives the filters
    min_p_threshold: float | None  # min_p × the top probability, when min-p is on
    vocab_size: int


def filter_view(lm: LoadedModel, logits: np.ndarray, settings: SamplingSettings, top_n: int = 20) -> FilterView:
    """logits: (vocab,) raw next-token scores. Pure apart from decoding the top-n tokens' text."""
    temperature = settings.temperature if settings.strategy == SAMPLE else 1.0
    before = softmax(logits, temperature)
    after = candidate_probs(logits, settings)
    kept = after > 0
    top_n = max(1, min(top_n, before.size))
    order = top_indices(before, top_n)
    threshold = None
    if settings.strategy == SAMPLE and settings.min_p is not None:
        threshold = float(settings.min_p * before.max())
    return FilterView(
        settings=settings,
        pieces=[token_piece(lm, int(i), rank) for rank, i in enumerate(order)],
        token_ids=[int(i) for i in order],
        probs_before=[float(before[i]) for i in order],
        cumulative=np.cumsum(before[order]).tolist(),
        probs_after=[float(after[i]) for i in order],
        kept=[bool(kept[i]) for i in order],
        n_kept=int(kept.sum()),
        kept_mass=float(before[kept].sum()),
        min_p_threshold=threshold,
        vocab_size=int(before.size),
    )


@dataclass(frozen=True)
class StepChoice:
    """One chosen token and how it was chosen."""

    token_id: int
    prob: float  # the model's own probability for it (softmax of the raw logits, T = 1)
    draw_prob: float  # its probability in the filtered, renormalised distribution it was drawn from
    rank: int  # 1 = the model's most likely token
    n_candidates: int  # tokens that survived the filters


def step_generator(seed: int, step: int) -> torch.Generator:
    """A fresh generator per (seed, step): one click or a batch of n gives the same draws."""
    return torch.Generator().manual_seed(int(seed) * 100_003 + int(step))


def choose_token(logits: np.ndarray, settings: SamplingSettings, generator: torch.Generator | None = None) -> StepChoice:
    """Choose the next token from (vocab,) logits: the argmax (greedy) or a seeded draw."""
    probs = candidate_probs(logits, settings)
    if settings.strategy == GREEDY:
        token_id = int(np.argmax(probs))
    else:
        token_id = int(torch.multinomial(torch.from_numpy(probs), 1, generator=generator))
    model_probs = softmax(logits)
    return StepChoice(
        token_id=token_id,
        prob=float(model_probs[token_id]),
        draw_prob=float(probs[token_id]),
        rank=rank_of(model_probs, token_id),
        n_candidates=int((probs > 0).sum()),
    )
