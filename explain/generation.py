"""Generation is a loop: predict, choose a token, append it, predict again.

`greedy_continuation` is the site's own generation path: one forward over the prompt, then one
token per step reusing the key/value cache, with the output head run only on the last position.
Its ids equal `model.generate(do_sample=False)` (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache

from explain.models import LoadedModel
from explain.tokens import TokenPiece, decode, token_pieces


@dataclass(frozen=True)
class Continuation:
    prompt_ids: list[int]
    new_ids: list[int]
    pieces: list[TokenPiece]  # one per new token, numbered after the prompt's tokens
    probs: list[float]  # probability the model gave each chosen token
    text: str  # the new text only
    stopped_at_end_token: bool


def _eos_ids(lm: LoadedModel) -> set[int]:
    eos = lm.model.generation_config.eos_token_id or lm.config.eos_token_id
    if eos is None:
        return set()
    return set(eos) if isinstance(eos, list) else {eos}


def greedy_ids(lm: LoadedModel, ids: list[int], max_new_tokens: int) -> tuple[list[int], list[float], bool]:
    """Greedy decoding with a KV cache: (new ids, their probabilities, stopped at end token)."""
    if not ids:
        raise ValueError("ids is empty: the model needs at least one token to continue from")
    eos = _eos_ids(lm)
    new_ids: list[int] = []
    probs: list[float] = []
    with torch.inference_mode():
        cache = DynamicCache(config=lm.config)
        step_input = torch.tensor([ids])
        for _ in range(max_new_tokens):
            out = lm.model(step_input, past_key_values=cache, use_cache=True, logits_to_keep=1)
            step_probs = torch.softmax(out.logits[0, -1].float(), dim=-1)
            next_id = int(step_probs.argmax())
            new_ids.append(next_id)
            probs.append(float(step_probs[next_id]))
            if next_id in eos:
                return new_ids, probs, True
            step_input = torch.tensor([[next_id]])
    return new_ids, probs, False


def greedy_continuation(lm: LoadedModel, ids: list[int], max_new_tokens: int = 20) -> Continuation:
    """The most likely next token, again and again, for up to `max_new_tokens` steps."""
    new_ids, probs, stopped = greedy_ids(lm, ids, max_new_tokens)
    return Continuation(
        prompt_ids=list(ids),
        new_ids=new_ids,
        pieces=token_pieces(lm, new_ids, start=len(ids)),
        probs=probs,
        text=decode(lm, new_ids),
        stopped_at_end_token=stopped,
    )
