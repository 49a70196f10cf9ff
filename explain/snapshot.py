"""A precomputed Home page for the default prompt, shown while the live model is still loading.

A Space waking up or a first start converting the GGUF file takes seconds to tens of seconds; a
clearly labelled snapshot (written by `python -m tools.build_snapshot`, checked against the live
model by the tests) gives the learner something real to read meanwhile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SNAPSHOT_PATH = Path(__file__).resolve().parents[1] / "data" / "home_snapshot.json"
CONTINUATION_TOKENS = 20
DEFAULT_PROMPT = "The capital of France is"  # the site's default prompt (ui.state uses it)


@dataclass(frozen=True)
class HomeSnapshot:
    model: str
    prompt: str
    tokens: list[str]  # display text of each prompt token
    ids: list[int]
    top_tokens: list[str]  # the five most likely next tokens
    top_probs: list[float]
    continuation: str  # greedy, CONTINUATION_TOKENS tokens
    n_params: int
    n_layer: int
    n_head: int
    d_model: int
    vocab_size: int


def build_snapshot(lm, prompt: str) -> HomeSnapshot:
    from explain.engine.analysis import analyze_prompt
    from explain.anatomy import model_anatomy
    from explain.generation import greedy_continuation
    from explain.next_token import distribution_from_logits
    from explain.tokens import tokenize_prompt

    tokens = tokenize_prompt(lm, prompt)
    dist = distribution_from_logits(lm, analyze_prompt(lm, tokens.ids).last_logits, top_n=5)
    anatomy = model_anatomy(lm)
    return HomeSnapshot(
        model=lm.name,
        prompt=prompt,
        tokens=[piece.display for piece in tokens.pieces],
        ids=tokens.ids,
        top_tokens=[piece.display for piece in dist.pieces],
        top_probs=[round(p, 6) for p in dist.probs],
        continuation=greedy_continuation(lm, tokens.ids, CONTINUATION_TOKENS).text,
        n_params=anatomy.n_params,
        n_layer=anatomy.n_layer,
        n_head=anatomy.n_head,
        d_model=anatomy.d_model,
        vocab_size=anatomy.vocab_size,
    )


def load_snapshot(path: Path = SNAPSHOT_PATH) -> HomeSnapshot | None:
    """The shipped snapshot, or None if it is missing or unreadable (the page then just waits)."""
    try:
        return HomeSnapshot(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
