"""Text to tokens: the pieces and ids the model actually reads.

Pieces are shown as `tokenizer.decode([id])` (readable text), not raw byte-level strings such as
`ĠcafÃ©`. A piece that is only part of a UTF-8 character (emoji and many CJK characters are split
into several byte tokens) decodes to U+FFFD, so it is shown by its bytes instead, e.g. `<F0 9F>`.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from functools import lru_cache

from transformers.convert_slow_tokenizer import bytes_to_unicode

from explain.models import LoadedModel

PROMPT_TOKEN_CAP = 256  # longer prompts are cut here (and the page says so)
PROMPT_CHAR_CAP = 20_000  # text beyond this is not even tokenized
REPLACEMENT_CHAR = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


class EmptyPrompt(ValueError):
    """The prompt has nothing to read: empty or only whitespace."""


@dataclass(frozen=True)
class TokenPiece:
    index: int  # position in the prompt
    id: int
    text: str  # tokenizer.decode([id]): what this token contributes to the text
    display: str  # text for a screen: bytes shown as <F0 9F> where text is a partial character
    is_partial_character: bool


@dataclass(frozen=True)
class PromptTokens:
    text: str  # the text the model reads (after any truncation)
    ids: list[int]
    pieces: list[TokenPiece]
    truncated: bool
    n_tokens_before_cap: int  # how many tokens the full text would have been


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    return {char: byte for byte, char in bytes_to_unicode().items()}


def piece_bytes(raw_piece: str) -> bytes | None:
    """The bytes behind a byte-level BPE piece (`Ġ` → b' '), or None if it isn't byte-level."""
    decoder = _byte_decoder()
    if not all(char in decoder for char in raw_piece):
        return None
    return bytes(decoder[char] for char in raw_piece)


def token_piece(lm: LoadedModel, token_id: int, index: int = 0) -> TokenPiece:
    """One token as readable text; caller holds no lock (this takes the tokenizer lock)."""
    with lm.tokenizer_lock:
        text = lm.tokenizer.decode([token_id])
        raw = lm.tokenizer.convert_ids_to_tokens(token_id)
    partial = REPLACEMENT_CHAR in text
    display = text
    if partial:
        raw_bytes = piece_bytes(raw or "")
        display = "<" + " ".join(f"{b:02X}" for b in raw_bytes) + ">" if raw_bytes else text
    return TokenPiece(index=index, id=token_id, text=text, display=display, is_partial_character=partial)


def token_pieces(lm: LoadedModel, ids: list[int], start: int = 0) -> list[TokenPiece]:
    """Pieces for `ids`, numbered from `start` (e.g. generated tokens after a prompt)."""
    return [token_piece(lm, token_id, start + offset) for offset, token_id in enumerate(ids)]


def encode(lm: LoadedModel, text: str) -> list[int]:
    """The tokenizer's own ids for `text`, with no special tokens added."""
    with lm.tokenizer_lock:
        return list(lm.tokenizer.encode(text, add_special_tokens=False))


def decode(lm: LoadedModel, ids: list[int]) -> str:
    with lm.tokenizer_lock:
        return lm.tokenizer.decode(ids)


def clean_text(text: str) -> str:
    """Text any library can encode: lone surrogates (a URL can carry them) become U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT_CHAR, text)


def tokenize_prompt(lm: LoadedModel, text: str, max_tokens: int = PROMPT_TOKEN_CAP) -> PromptTokens:
    """Tokenize the learner's prompt, cut to `max_tokens` tokens.

    Raises EmptyPrompt for empty or whitespace-only text (nothing to predict from).
    Lone surrogates (which a URL can carry) are replaced so the tokenizer never sees them.
    """
    if text is None or not text.strip():
        raise EmptyPrompt("Type a prompt: there is no text to turn into tokens yet.")
    cut_by_characters = len(text) > PROMPT_CHAR_CAP
    text = clean_text(text[:PROMPT_CHAR_CAP])
    ids = encode(lm, text)
    n_before = len(ids)
    truncated = cut_by_characters or n_before > max_tokens
    if n_before > max_tokens:
        ids = ids[:max_tokens]
        text = decode(lm, ids)
    return PromptTokens(
        text=text,
        ids=ids,
        pieces=token_pieces(lm, ids),
        truncated=truncated,
        n_tokens_before_cap=n_before,
    )
