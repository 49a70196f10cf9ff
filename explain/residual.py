"""The residual stream: the one vector per token that every block reads from and adds to.

A decoder layer is two additions: stream += attention(norm(stream)), then
stream += feed_forward(norm(stream)). `trace_residual` runs the model once with forward hooks on
every layer's attention and feed-forward modules and keeps, for one token, what each block wrote,
so a page can show how much each block adds and what the stream "says" after each half (final
norm + output head, as the logit lens does). Works for Llama-style models (SmolLM2) and GPT-2.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

import torch

from explain.engine import BlockParts, family_of
from explain.engine.models import LoadedModel
from explain.logit_lens import head_logits
from explain.next_token import softmax
from explain.tokens import TokenPiece, token_piece


def block_parts(model: torch.nn.Module) -> list[BlockParts]:
    """Every decoder layer's parts, first layer first (the engine knows each family's layout)."""
    return family_of(model).blocks(model)


@dataclass(frozen=True)
class ResidualTrace:
    """One token's residual stream through the whole model (vectors of d_model numbers)."""

    position: int  # the token followed (the last one of the prompt)
    embedding: np.ndarray  # (d,) the stream entering layer 0 (token embedding, + position in GPT-2)
    attn_writes: np.ndarray  # (n_layer, d) what each attention block added
    ffn_writes: np.ndarray  # (n_layer, d) what each feed-forward block added
    ffn_hidden: np.ndarray  # (n_layer, d_ff) the feed-forward's hidden units (input of its down projection)
    final_normed: np.ndarray  # (d,) the model's own last hidden state, after the final norm

    @property
    def n_layer(self) -> int:
        return self.attn_writes.shape[0]

    def streams(self) -> np.ndarray:
        """(2 n_layer + 1, d): the stream at the start, after attention 0, after feed-forward 0, …"""
        writes = np.empty((2 * self.n_layer, self.embedding.shape[0]), dtype=np.float64)
        writes[0::2], writes[1::2] = self.attn_writes, self.ffn_writes
        return np.concatenate([self.embedding[None], self.embedding[None] + np.cumsum(writes, axis=0)])

    def stream_entering(self, layer: int) -> np.ndarray:
        """(d,) the stream layer `layer` reads (layer == n_layer: the stream the final norm reads)."""
        return self.streams()[2 * layer]

    def stream_after_attention(self, layer: int) -> np.ndarray:
        """(d,) the stream the feed-forward of `layer` reads."""
        return self.streams()[2 * layer + 1]


def trace_residual(lm: LoadedModel, ids: list[int], position: int = -1) -> ResidualTrace:
    """One forward over `ids` with hooks; keeps what every block writes at `position`.

    The model is shared by every visitor, so the hooks record only this thread's forward: another
    session's forward running at the same moment passes through them untouched."""
    if not ids:
        raise ValueError("ids is empty: the model needs at least one token")
    parts = block_parts(lm.model)
    attn, ffn, hidden = [], [], []

    owner = threading.get_ident()

    def keep(store, from_input=False):
        def hook(module, args, output=None):
            if threading.get_ident() != owner:
                return
            value = args[0] if from_input else (output[0] if isinstance(output, tuple) else output)
            store.append(value[0, position].detach().float().clone())

        return hook

    handles = []
    for part in parts:
        handles.append(part.attention.register_forward_hook(keep(attn)))
        handles.append(part.feed_forward.register_forward_hook(keep(ffn)))
        handles.append(part.down.register_forward_pre_hook(keep(hidden, from_input=True)))
    try:
        with torch.inference_mode():
            out = lm.model(torch.tensor([ids]), output_hidden_states=True, logits_to_keep=1, use_cache=False)
    finally:
        for handle in handles:
            handle.remove()
    return ResidualTrace(
        position=position if position >= 0 else len(ids) + position,
        embedding=out.hidden_states[0][0, position].float().numpy().copy(),
        attn_writes=torch.stack(attn).numpy(),
        ffn_writes=torch.stack(ffn).numpy(),
        ffn_hidden=torch.stack(hidden).numpy(),
        final_normed=out.hidden_states[-1][0, position].float().numpy().copy(),
    )


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of (n, d) arrays (0 where a vector is all zeros)."""
    dots = (a * b).sum(-1)
    lengths = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return np.divide(dots, lengths, out=np.zeros_like(dots), where=lengths > 0)


@dataclass(frozen=True)
class BlockWrites:
    """Per layer: how large each block's write is, and how it points relative to the stream."""

    stream_norm: np.ndarray  # (n_layer + 1,) length of the stream entering each layer (last: before the final norm)
    attn_norm: np.ndarray  # (n_layer,) length of what attention added
    ffn_norm: np.ndarray  # (n_layer,)
    attn_cosine: np.ndarray  # (n_layer,) cosine of attention's write with the stream it was added to
    ffn_cosine: np.ndarray  # (n_layer,) cosine of the feed-forward's write with the stream it was added to


def block_writes(trace: ResidualTrace) -> BlockWrites:
    streams = trace.streams()  # (2L + 1, d)
    return BlockWrites(
        stream_norm=np.linalg.norm(streams[0::2], axis=-1),
        attn_norm=np.linalg.norm(trace.attn_writes, axis=-1),
        ffn_norm=np.linalg.norm(trace.ffn_writes, axis=-1),
        attn_cosine=_cosine(trace.attn_writes, streams[0:-1:2]),
        ffn_cosine=_cosine(trace.ffn_writes, streams[1::2]),
    )


@dataclass(frozen=True)
class StreamReadout:
    """What the stream would predict if the model stopped after each half-layer."""

    steps: list[str]  # "embedding", "layer 0 attention", "layer 0 feed-forward", …
    top_pieces: list[list[TokenPiece]]  # per step, most likely first
    top_probs: list[list[float]]

    def changes(self) -> list[int]:
        """Indices of the steps where the top guess differs from the step before."""
        tops = [pieces[0].id for pieces in self.top_pieces]
        return [s for s in range(1, len(tops)) if tops[s] != tops[s - 1]]


def read_stream(lm: LoadedModel, trace: ResidualTrace, top_k: int = 3) -> StreamReadout:
    """Final norm + output head on the stream after every half-layer (the logit lens, halved)."""
    logits = head_logits(lm, trace.streams().astype(np.float32), already_normed=False)  # (2L+1, vocab)
    probs = softmax(logits)
    top = np.argsort(-probs, axis=-1, kind="stable")[:, :top_k]
    steps = ["embedding"] + [
        f"layer {l} {half}" for l in range(trace.n_layer) for half in ("attention", "feed-forward")
    ]
    return StreamReadout(
        steps=steps,
        top_pieces=[[token_piece(lm, int(i), rank) for rank, i in enumerate(row)] for row in top],
        top_probs=[[float(probs[s, i]) for i in row] for s, row in enumerate(top)],
    )

