"""One forward pass over the prompt that every page shares.

The attention maps of every layer and head, the hidden state after every layer and the next-token
logits all come out of a single forward pass (eager attention, `output_attentions=True`,
`output_hidden_states=True`). The app caches one `PromptAnalysis` per (model, prompt), so moving a
layer slider or switching pages never reruns the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explain.models import LoadedModel


@dataclass(frozen=True)
class PromptAnalysis:
    ids: list[int]
    attentions: np.ndarray  # (n_layer, n_head, T, T) float32; row i: how token i spreads its attention
    hidden_states: np.ndarray  # (n_layer + 1, T, d_model) float32; [0] = input embeddings (+ positions)
    last_logits: np.ndarray  # (vocab,) float32: raw scores for the token after the prompt

    @property
    def n_layer(self) -> int:
        return self.attentions.shape[0]

    @property
    def n_head(self) -> int:
        return self.attentions.shape[1]


def analyze_prompt(lm: LoadedModel, ids: list[int]) -> PromptAnalysis:
    """Run the model once over `ids` and keep everything the pages show.

    The output head runs on the last position only (`logits_to_keep=1`); pages that need
    predictions at every position apply it to `hidden_states[-1]` themselves.
    Note: for Llama-style models (SmolLM2), transformers returns the *final-normed* state as
    `hidden_states[-1]`; for GPT-2 too (`ln_f` applied). Earlier entries are un-normed residuals.
    """
    if not ids:
        raise ValueError("ids is empty: the model needs at least one token")
    with torch.inference_mode():
        out = lm.model(
            torch.tensor([ids]),
            output_attentions=True,
            output_hidden_states=True,
            logits_to_keep=1,
            use_cache=False,
        )
    if not out.attentions:
        raise RuntimeError("the model returned no attention weights: load it with attn_implementation='eager'")
    return PromptAnalysis(
        ids=list(ids),
        attentions=torch.stack(out.attentions)[:, 0].float().numpy().copy(),
        hidden_states=torch.stack(out.hidden_states)[:, 0].float().numpy().copy(),
        last_logits=out.logits[0, -1].float().numpy().copy(),
    )
