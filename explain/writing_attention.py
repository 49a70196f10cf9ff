"""Attention while the model writes: where it looks as it chooses each new token.

Generation is greedy (`generation.greedy_continuation`, the site's own decoder). New token n is
chosen from the output at the position just before it, so "its" attention row is that position's
row over the prompt and the tokens written so far. Because the model is causal, one forward over
prompt + generated tokens gives exactly the rows a step-by-step decoder computed (tested against
`model.generate(output_attentions=True)`).

The attention sink: many heads put most of their weight on the first token whatever it is, a
resting place rather than a sign that the first token matters; `sink_heads` counts them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explain.generation import greedy_continuation
from explain.engine.models import LoadedModel
from explain.tokens import TokenPiece


@dataclass(frozen=True)
class WritingAttention:
    prompt_ids: list[int]
    new_pieces: list[TokenPiece]  # the generated tokens, numbered after the prompt
    probs: list[float]  # the probability the model gave each chosen token
    rows: np.ndarray  # (n_new, n_layer, n_head, T + n_new − 1); step n: the row that chose token n (zeros after it)
    stopped_at_end_token: bool

    @property
    def n_steps(self) -> int:
        return len(self.new_pieces)

    def row(self, step: int, layer: int | None, head: int | None) -> np.ndarray:
        """(T + step,) weights over prompt + earlier tokens; layer/head None = averaged."""
        visible = self.rows[step, :, :, : len(self.prompt_ids) + step]  # (L, H, T + step)
        if layer is not None:
            visible = visible[layer : layer + 1]
        if head is not None:
            visible = visible[:, head : head + 1]
        return visible.mean(axis=(0, 1))

    def top_keys(self, step: int, layer: int | None, head: int | None, n: int = 3) -> list[int]:
        """The n positions this step's row gives most weight to, most first."""
        return [int(k) for k in np.argsort(-self.row(step, layer, head), kind="stable")[:n]]

    def prompt_share(self, step: int, layer: int | None, head: int | None) -> float:
        """The weight this step gives to the prompt (the rest goes to tokens it wrote itself)."""
        return float(self.row(step, layer, head)[: len(self.prompt_ids)].sum())


def attention_while_writing(lm: LoadedModel, ids: list[int], max_new_tokens: int) -> WritingAttention:
    """Greedy-generate up to `max_new_tokens` tokens, then one forward to read every step's row."""
    continuation = greedy_continuation(lm, ids, max_new_tokens)
    sequence = list(ids) + continuation.new_ids[:-1]  # the last new token is never read back in
    with torch.inference_mode():
        out = lm.model(torch.tensor([sequence]), output_attentions=True, logits_to_keep=1, use_cache=False)
    if not out.attentions:
        raise RuntimeError("the model returned no attention weights: load it with attn_implementation='eager'")
    first = len(ids) - 1  # the position that chose the first new token
    rows = torch.stack([a[0, :, first:, :] for a in out.attentions])  # (L, H, n_new, S)
    return WritingAttention(
        prompt_ids=list(ids),
        new_pieces=continuation.pieces,
        probs=continuation.probs,
        rows=rows.permute(2, 0, 1, 3).float().numpy().copy(),
        stopped_at_end_token=continuation.stopped_at_end_token,
    )


def sink_heads(rows: np.ndarray) -> int:
    """rows: (n_layer, n_head, T) one query's weights per head → heads whose largest weight is on token 0."""
    return int((rows.argmax(axis=-1) == 0).sum())
