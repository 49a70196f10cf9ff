"""The probability of a whole word: a word is several tokens, so its probability is a product.

The model only ever scores the *next* token. A word it would write as tokens t1 … tk gets, by the
chain rule, P(t1) · P(t2 | t1) · … · P(tk | t1 … tk−1). One causal forward over prompt + word gives
every factor at once: position i only sees the prompt and the word's first i tokens.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import torch

from explain.engine.models import LoadedModel
from explain.limits import WORD_TOKEN_CAP  # re-exported: the Softmax page names it
from explain.next_token import rank_of
from explain.tokens import TokenPiece, clean_text, decode, encode, prompt_spans, token_pieces

# Chinese and Japanese are written without spaces between words: no space is added before them.
_WRITTEN_WITHOUT_SPACES = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def spaced_by_default(prompt_text: str, typed: str) -> bool:
    """Whether a word typed to follow the prompt is measured as a new word after a space.

    Yes, unless the prompt already ends with whitespace (the space is then in the prompt) or the
    prompt's last character or the word's first is Chinese/Japanese (written without spaces).
    """
    word = typed.strip()
    if not word or not prompt_text or prompt_text[-1].isspace():
        return False
    return not (_WRITTEN_WITHOUT_SPACES.match(prompt_text[-1]) or _WRITTEN_WITHOUT_SPACES.match(word[0]))


def next_word_text(typed: str, after_space: bool) -> str:
    """The text measured for a typed word: trimmed, with one leading space if `after_space` ("" if empty)."""
    word = clean_text(typed).strip()
    return " " + word if word and after_space else word


@dataclass(frozen=True)
class WordTokens:
    """A word as the tokens the model would have to write next (cut to `WORD_TOKEN_CAP`)."""

    text: str  # the measured text: decode(ids), so after a cut it is the part that was measured
    ids: list[int]
    n_tokens_before_cap: int

    @property
    def truncated(self) -> bool:
        return self.n_tokens_before_cap > len(self.ids)


def word_tokens(lm: LoadedModel, text: str, max_tokens: int = WORD_TOKEN_CAP) -> WordTokens | None:
    """`text` tokenized on its own (no special tokens), cut to `max_tokens`; None if it has no tokens."""
    text = clean_text(text)
    ids = encode(lm, text) if text else []
    if not ids:
        return None
    kept = ids[:max_tokens]
    return WordTokens(text=text if len(kept) == len(ids) else decode(lm, kept), ids=kept, n_tokens_before_cap=len(ids))


def chain_logits(lm: LoadedModel, prompt_ids: list[int], word_ids: list[int]) -> np.ndarray:
    """(k, vocab) float32 raw scores: row i scores the word's token i given prompt + word_ids[:i].

    One causal forward over prompt + word_ids[:-1] (the last token is never an input); the output
    head runs only on the k positions that predict the word's tokens.
    """
    if not prompt_ids or not word_ids:
        raise ValueError("need at least one prompt token and one word token")
    k = len(word_ids)
    with torch.inference_mode():
        out = lm.model(torch.tensor([list(prompt_ids) + list(word_ids[:-1])]), logits_to_keep=k, use_cache=False)
    return out.logits[0, -k:].float().numpy().copy()


@dataclass(frozen=True)
class ChainFactor:
    piece: TokenPiece  # the token (index = its place in the word)
    part_of: str  # the character(s) this token holds only some bytes of, e.g. '🍕' ("" for whole characters)
    prob: float  # P(token | prompt + the word's earlier tokens), softmax(logits / T)
    log_prob: float  # its natural log, exact even where `prob` is too small for a float

    @property
    def log10_prob(self) -> float:
        return self.log_prob / math.log(10)


@dataclass(frozen=True)
class WordProbability:
    """P(word) = the product of its tokens' conditional probabilities, at one temperature."""

    text: str  # exactly what was measured, e.g. " Parisian"
    factors: list[ChainFactor]  # one per token, in the order the model would write them
    log_prob: float  # sum of the factors' log-probabilities (natural log)
    first_token_rank: int  # rank of the first token among all vocab_size next tokens (1 = favourite)
    vocab_size: int
    temperature: float
    n_tokens_before_cap: int

    @property
    def prob(self) -> float:
        return math.exp(self.log_prob)

    @property
    def log10_prob(self) -> float:
        return self.log_prob / math.log(10)

    @property
    def truncated(self) -> bool:
        return self.n_tokens_before_cap > len(self.factors)


def word_probability_from_logits(
    lm: LoadedModel, logits: np.ndarray, word: WordTokens, temperature: float = 1.0
) -> WordProbability:
    """Every factor of the chain rule from `chain_logits` (k, vocab), at `temperature` (pure numpy).

    At temperature T each factor is softmax(logits / T): the product is then the chance that
    sampling at T writes exactly these tokens next.
    """
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    if logits.shape[0] != len(word.ids):
        raise ValueError(f"{logits.shape[0]} rows of logits for {len(word.ids)} tokens")
    scaled = logits.astype(np.float64) / temperature  # (k, vocab)
    top = scaled.max(axis=1, keepdims=True)
    log_probs = scaled - (top + np.log(np.exp(scaled - top).sum(axis=1, keepdims=True)))  # log-softmax
    picked = log_probs[np.arange(len(word.ids)), word.ids]  # (k,)
    factors = [
        ChainFactor(piece=piece, part_of=span.split_characters, prob=float(np.exp(lp)), log_prob=float(lp))
        for piece, span, lp in zip(token_pieces(lm, word.ids), prompt_spans(lm, word.ids), picked)
    ]
    return WordProbability(
        text=word.text,
        factors=factors,
        log_prob=float(picked.sum()),
        first_token_rank=rank_of(log_probs[0], word.ids[0]),
        vocab_size=int(logits.shape[1]),
        temperature=temperature,
        n_tokens_before_cap=word.n_tokens_before_cap,
    )


def word_probability(
    lm: LoadedModel, prompt_ids: list[int], text: str, temperature: float = 1.0
) -> WordProbability | None:
    """The chain-rule probability that the model writes `text` next after `prompt_ids` (one forward).

    None if `text` has no tokens. Pages cache `chain_logits` and call `word_probability_from_logits`.
    """
    word = word_tokens(lm, text)
    if word is None:
        return None
    return word_probability_from_logits(lm, chain_logits(lm, prompt_ids, word.ids), word, temperature)
