"""The word tokenizer both small models share: lower-cased words and punctuation marks.

Older language models read whole words, not sub-word pieces. A word that was too rare in the
training text maps to one unknown-word token `<unk>`; `<eos>` separates stories. Because both
models use this one vocabulary, their probabilities are over exactly the same set of words.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

UNK, EOS = "<unk>", "<eos>"
SPECIALS = (UNK, EOS)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.,!?;:\"\-]")


def split_words(text: str) -> list[str]:
    """Lower-cased words (with their apostrophe: "don't", "lily's") and punctuation marks.

    Anything else (emoji, other scripts, symbols) is dropped; use `split_words_keep` to show it.
    """
    return _WORD.findall(text.lower())


def split_words_keep(text: str) -> list[str]:
    """Like `split_words`, but other runs of non-space characters become words of their own
    (they will be unknown to the vocabulary), so the learner sees what was not understood."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?|[.,!?;:\"\-]|[^\sa-z0-9.,!?;:\"\-']+", text.lower())


@dataclass(frozen=True)
class WordVocab:
    """Index ↔ word. `itos[0]` is `<unk>`, `itos[1]` is `<eos>`, then words by frequency."""

    itos: tuple[str, ...]

    def __post_init__(self):
        object.__setattr__(self, "_stoi", {w: i for i, w in enumerate(self.itos)})

    @property
    def unk_id(self) -> int:
        return 0

    @property
    def eos_id(self) -> int:
        return 1

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self._stoi

    def encode_words(self, words: list[str]) -> list[int]:
        return [self._stoi.get(w, 0) for w in words]

    def encode(self, text: str) -> list[int]:
        return self.encode_words(split_words(text))

    def decode(self, ids: list[int]) -> list[str]:
        return [self.itos[i] for i in ids]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"itos": list(self.itos)}, indent=0))

    @classmethod
    def load(cls, path: Path) -> "WordVocab":
        return cls(tuple(json.loads(path.read_text())["itos"]))


def build_vocab(stories: list[str], max_size: int = 4000, min_count: int = 3) -> WordVocab:
    """The most frequent words (ties broken alphabetically, so the result is deterministic)."""
    counts = Counter(w for s in stories for w in split_words(s))
    ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return WordVocab(SPECIALS + tuple(ranked[: max_size - len(SPECIALS)]))


def join_words(words: list[str]) -> str:
    """Words back to readable text: no space before punctuation, sentences capitalised."""
    out = ""
    for w in words:
        if w in ".,!?;:" or not out:
            out += w
        else:
            out += " " + w
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), out)
