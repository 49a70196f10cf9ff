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

from explain.engine.models import LoadedModel


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


def analyze_prompt(lm: LoadedModel, ids: list[int], background: bool = False) -> PromptAnalysis:
    """Run the model once over `ids` and keep everything the pages show.

    The forward runs on the process's single inference worker (`explain.engine.inference_queue`): at most
    one forward uses the cores at a time, and prompts that arrive together from different sessions
    share one batched forward (`analyze_batch`), each caller getting its own slice.
    `background=True` (work computed ahead, not asked for by a visitor) runs only when no visitor's
    forward is waiting.
    The output head runs on the last position only; pages that need predictions at every position
    apply it to `hidden_states[-1]` themselves.
    Note: for Llama-style models (SmolLM2), transformers returns the *final-normed* state as
    `hidden_states[-1]`; for GPT-2 too (`ln_f` applied). Earlier entries are un-normed residuals.
    """
    if not ids:
        raise ValueError("ids is empty: the model needs at least one token")
    from explain.engine import inference_queue  # it imports this module

    return inference_queue.shared().analyze(lm, list(ids), background)


def analyze_batch(lm: LoadedModel, prompts: list[list[int]]) -> list[PromptAnalysis]:
    """One forward over several prompts, right-padded to the longest, one `PromptAnalysis` each.

    With a causal model a real position never attends to a later one, so right padding cannot reach
    it; the attention mask is passed anyway. The output head runs on each prompt's own last real
    position (`logits_to_keep=1` would take the last *padded* one). A single prompt runs unpadded.
    Call it inside `torch.inference_mode()` (the inference worker does).
    """
    if not prompts or not all(prompts):
        raise ValueError("every prompt needs at least one token")
    lengths = [len(p) for p in prompts]
    longest = max(lengths)
    ids = torch.tensor([p + [p[-1]] * (longest - len(p)) for p in prompts])
    padded = min(lengths) < longest
    mask = torch.tensor([[1] * n + [0] * (longest - n) for n in lengths]) if padded else None
    out = lm.model(ids, attention_mask=mask, output_attentions=True, output_hidden_states=True,
                   logits_to_keep=1, use_cache=False)
    if not out.attentions:
        raise RuntimeError("the model returned no attention weights: load it with attn_implementation='eager'")
    attentions = torch.stack(out.attentions)  # (n_layer, B, n_head, T, T)
    hidden = torch.stack(out.hidden_states)  # (n_layer + 1, B, T, d_model)
    if len(prompts) == 1:
        last = out.logits[:, -1]
    else:
        rows = torch.arange(len(prompts))
        last = lm.model.get_output_embeddings()(out.hidden_states[-1][rows, torch.tensor(lengths) - 1])
    return [
        PromptAnalysis(
            ids=list(p),
            attentions=attentions[:, b, :, :n, :n].float().numpy().copy(),
            hidden_states=hidden[:, b, :n].float().numpy().copy(),
            last_logits=last[b].float().numpy().copy(),
        )
        for b, (p, n) in enumerate(zip(prompts, lengths))
    ]
