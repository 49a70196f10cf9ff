"""Text to tokens: the pieces and ids the model actually reads.

Pieces are shown as `tokenizer.decode([id])` (readable text), not raw byte-level strings such as
`ĠcafÃ©`. A piece that is only part of a UTF-8 character (emoji and many CJK characters are split
into several byte tokens) decodes to U+FFFD, so it is shown by its bytes instead, e.g. `<F0 9F>`,
and `character_groups` finds the neighbouring tokens that together form the character.
`text_direction` says whether a prompt reads right to left (Arabic, Hebrew), so tokens can be
laid out in reading order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import bisect
import re
import unicodedata
from functools import lru_cache


from explain.engine import runtime
from explain.engine.models import LoadedModel
from explain.limits import PROMPT_CHAR_CAP, PROMPT_TOKEN_CAP  # re-exported: pages name tokens.PROMPT_TOKEN_CAP
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
    piece_bytes: bytes | None = None  # the UTF-8 bytes behind the token (None: not byte-level)


@dataclass(frozen=True)
class PromptTokens:
    text: str  # the text the model reads (after any truncation)
    ids: list[int]
    pieces: list[TokenPiece]
    truncated: bool
    n_tokens_before_cap: int  # how many tokens the full text would have been


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    return {char: byte for byte, char in runtime.byte_level_alphabet().items()}


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
    raw_bytes = piece_bytes(raw or "")
    display = text
    if partial and raw_bytes:
        display = readable_bytes(raw_bytes)
    return TokenPiece(
        index=index, id=token_id, text=text, display=display, is_partial_character=partial, piece_bytes=raw_bytes
    )


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


# ---------------------------------------------------------------------------------------------
# Spans: every token with the exact slice of text it stands for (the Tokenization page)


@dataclass(frozen=True)
class TokenSpan:
    """One token of a prompt, with the characters it stands for.

    `text` holds the characters whose first byte lies in this token, so joining every span's
    `text` gives back the prompt exactly, even when an emoji or a CJK character is split across
    several byte tokens (the later pieces of such a character then have `text == ""`).
    """

    index: int
    id: int
    raw: str  # the tokenizer's own string, e.g. 'Ġunbelie' (byte-level alphabet: Ġ is a space)
    text: str  # characters starting in this token; "".join(span.text) == the prompt
    piece_bytes: bytes  # the UTF-8 bytes this token stands for
    display: str  # readable: the text, or <F0 9F> for bytes that are only part of a character
    is_partial_character: bool  # starts or ends inside a multi-byte character
    split_characters: str  # the characters this token holds only part of ("" if none)


def _char_starts(data: bytes) -> list[int]:
    """Byte offsets where a UTF-8 character starts (continuation bytes are 0b10xxxxxx)."""
    return [i for i, byte in enumerate(data) if byte & 0xC0 != 0x80]


_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")


def readable_bytes(data: bytes) -> str:
    """Bytes as text where they form whole UTF-8 characters, the rest as hex (b' \\xf0\\x9f' → ' <F0 9F>')."""
    escaped = data.decode("utf-8", errors="surrogateescape")
    return _ESCAPED_BYTES.sub(
        lambda m: "<" + " ".join(f"{ord(c) - 0xDC00:02X}" for c in m.group()) + ">", escaped
    )


def prompt_spans(lm: LoadedModel, ids: list[int]) -> list[TokenSpan]:
    """The tokens `ids` as spans of text that concatenate back to `decode(ids)`.

    Byte-level BPE tokens are turned back into their bytes; a character belongs to the token
    holding its first byte. Tokenizers that are not byte-level fall back to `decode([id])` per token.
    """
    with lm.tokenizer_lock:
        raws = lm.tokenizer.convert_ids_to_tokens(list(ids))
    chunks = [piece_bytes(raw or "") for raw in raws]
    if any(chunk is None for chunk in chunks):
        return [_span_from_decode(lm, i, token_id, raw) for i, (token_id, raw) in enumerate(zip(ids, raws))]
    data = b"".join(chunks)
    starts = _char_starts(data) + [len(data)]
    char_at = {  # byte offset where a character starts → that character
        start: data[start:end].decode("utf-8", errors="replace") for start, end in zip(starts, starts[1:])
    }
    boundaries = set(starts)
    spans, offset = [], 0
    for index, (token_id, raw, chunk) in enumerate(zip(ids, raws, chunks)):
        end = offset + len(chunk)
        text = "".join(char_at[i] for i in range(offset, end) if i in char_at)
        partial = offset not in boundaries or end not in boundaries
        split = ""
        if offset not in boundaries:  # the character this token starts inside of
            split += char_at[starts[bisect.bisect_right(starts, offset) - 1]]
        if end not in boundaries:  # the character this token ends inside of
            last = char_at[starts[bisect.bisect_right(starts, end) - 1]]
            split += "" if split.endswith(last) and not text else last
        display = readable_bytes(chunk) if partial else text
        spans.append(TokenSpan(index, token_id, raw, text, chunk, display, partial, split))
        offset = end
    return spans


@dataclass(frozen=True)
class CharacterGroup:
    """Neighbouring tokens that only together form whole characters (an emoji cut into byte tokens)."""

    start: int  # position of the first token in the list given
    stop: int  # one past the last
    text: str  # what they form together, e.g. ' 🍕' (bytes that still form no character as <F0 9F>)


def character_groups(chunks: list[bytes | None]) -> list[CharacterGroup]:
    """Runs of two or more tokens whose shared bytes split a character; `chunks` holds each
    token's bytes in order. No groups when any token's bytes are unknown (not byte-level)."""
    if not chunks or any(chunk is None for chunk in chunks):
        return []
    data = b"".join(chunks)
    boundaries = set(_char_starts(data)) | {len(data)}
    groups, start, begin, offset = [], 0, 0, 0
    for i, chunk in enumerate(chunks):
        offset += len(chunk)
        if offset in boundaries or i == len(chunks) - 1:  # a character ends here: close the run
            if i > start:
                groups.append(CharacterGroup(start, i + 1, readable_bytes(data[begin:offset])))
            start, begin = i + 1, offset
    return groups


def with_joined_characters(pieces: list[TokenPiece]) -> list[TokenPiece]:
    """`pieces` with each byte piece's display followed by the character its run forms and its
    place in the run: `<F0 9F>` → `<F0 9F> 😀 1/2` (other pieces unchanged). A run cut off before
    its character is complete (the prompt cap, or a cut-off emoji) keeps its bytes alone."""
    out = list(pieces)
    for group in character_groups([piece.piece_bytes for piece in pieces]):
        try:
            char = b"".join(piece.piece_bytes for piece in pieces[group.start:group.stop]).decode("utf-8").strip()
        except UnicodeDecodeError:
            continue
        size = group.stop - group.start
        for k in range(group.start, group.stop):
            piece = pieces[k]
            out[k] = replace(piece, display=f"{piece.display} {char} {k - group.start + 1}/{size}")
    return out


def text_direction(text: str) -> str:
    """"rtl" when the first strongly directional character is right-to-left (Arabic, Hebrew), else
    "ltr": the rule of HTML's dir="auto", applied to the whole text rather than to each token."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return "ltr"


def _span_from_decode(lm: LoadedModel, index: int, token_id: int, raw: str | None) -> TokenSpan:
    piece = token_piece(lm, token_id, index)
    return TokenSpan(
        index, token_id, raw or "", piece.text, piece.text.encode("utf-8", errors="replace"),
        piece.display, piece.is_partial_character, "",
    )
