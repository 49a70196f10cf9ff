"""Byte-pair encoding, shown at work: replaying a real tokenizer's merges, and training a tiny BPE.

BPE starts from single bytes and repeatedly joins the adjacent pair that was most frequent in the
training text. `replay_bpe` applies the live tokenizer's own merge list in rank order and records
every step (like minGPT's `encode_and_show_work`); its final pieces equal `tokenizer.tokenize`.
Before merging, text is cut into pre-tokens by the tokenizer's own pre-tokenizer: for SmolLM2 that
includes splitting off every digit (explain.engine.models restores that step, which transformers'
GGUF loader drops).
`train_bpe` learns merges with the `tokenizers` library's BpeTrainer and counts each pair.
"""

from __future__ import annotations

import contextlib
import json
import threading
import weakref
from collections import Counter
from dataclasses import dataclass

from explain.tokens import piece_bytes, readable_bytes

MAX_WORD_CHARS = 64  # a longer "word" is cut: the replay is for looking at, step by step
MAX_CORPUS_CHARS = 10_000
MAX_TRAIN_VOCAB = 400
UNK = "[UNK]"


class NotByteLevelBpe(ValueError):
    """The tokenizer is not a byte-level BPE, so there is no merge list to replay."""


class EmptyCorpus(ValueError):
    """Nothing to train on."""


# ---------------------------------------------------------------------------------------------
# The merge table of a live tokenizer


@dataclass(frozen=True)
class BpeTables:
    """What BPE needs from a tokenizer: the merge ranks and the vocabulary."""

    ranks: dict[tuple[str, str], int]  # (left, right) → position in the merge list (0 = first learned)
    vocab: dict[str, int]  # piece (byte-level string) → id
    ignore_merges: bool  # a whole pre-token found in the vocabulary skips the merges

    @property
    def n_merges(self) -> int:
        return len(self.ranks)


_TABLES: "weakref.WeakKeyDictionary[object, BpeTables]" = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()


def bpe_tables(tokenizer, lock: threading.Lock | None = None) -> BpeTables:
    """Read (once per tokenizer object) the merges and vocabulary of a fast byte-level BPE tokenizer.

    `lock` is the tokenizer's lock (LoadedModel.tokenizer_lock), held while the Rust side is read.
    Raises NotByteLevelBpe, with what to do, for anything else (WordPiece, SentencePiece, slow).
    """
    with _TABLES_LOCK:
        if tokenizer in _TABLES:
            return _TABLES[tokenizer]
    backend = getattr(tokenizer, "backend_tokenizer", None) or tokenizer
    try:
        with lock or contextlib.nullcontext():
            spec = json.loads(backend.to_str())
    except AttributeError as err:
        raise NotByteLevelBpe("This tokenizer has no fast (Rust) backend to read merges from.") from err
    model = spec.get("model") or {}
    byte_level = "ByteLevel" in json.dumps(spec.get("pre_tokenizer"))
    if model.get("type") != "BPE" or not byte_level:
        raise NotByteLevelBpe(
            f"The step-by-step replay needs a byte-level BPE tokenizer; this one is "
            f"{model.get('type', 'unknown')}{'' if byte_level else ' without byte-level pre-tokenization'}."
        )
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    tables = BpeTables(
        ranks={pair: rank for rank, pair in reversed(list(enumerate(merges)))},
        vocab=dict(model["vocab"]),
        ignore_merges=bool(model.get("ignore_merges", False)),
    )
    with _TABLES_LOCK:
        _TABLES[tokenizer] = tables
    return tables


# ---------------------------------------------------------------------------------------------
# Replaying the merges on one word


@dataclass(frozen=True)
class BpeStep:
    """One merge applied: every adjacent (left, right) in every pre-token becomes `left + right`."""

    rank: int  # the merge's position in the tokenizer's merge list (lower = learned earlier)
    left: str
    right: str
    pieces: tuple[tuple[str, ...], ...]  # every pre-token's pieces after this step

    @property
    def merged(self) -> str:
        return self.left + self.right


@dataclass(frozen=True)
class BpeReplay:
    """A word's way from bytes to tokens. Pieces are byte-level strings (`Ġ` = a space byte)."""

    word: str  # the text replayed (after cutting to MAX_WORD_CHARS)
    pretokens: list[str]  # how the tokenizer's pre-tokenizer splits it (spaces and digits, before any merge)
    start: tuple[tuple[str, ...], ...]  # one piece per byte, per pre-token
    steps: list[BpeStep]
    whole_in_vocab: list[str]  # pre-tokens taken whole (only when the tokenizer ignores merges)
    final: list[str]  # flat: equals tokenizer.tokenize(word)
    final_ids: list[int]
    n_merges_in_list: int  # how long the tokenizer's merge list is
    tokenizer_tokens: list[str]  # tokenizer.tokenize(word), for the check below

    @property
    def matches_tokenizer(self) -> bool:
        """False for text the replay does not model (special tokens like <|im_start|>)."""
        return self.final == self.tokenizer_tokens

    def pieces_at(self, step: int) -> list[str]:
        """The flat list of pieces after `step` merges (0 = the bytes)."""
        groups = self.start if step <= 0 else self.steps[min(step, len(self.steps)) - 1].pieces
        return [piece for group in groups for piece in group]


def _merge_pair(pieces: tuple[str, ...], left: str, right: str) -> tuple[str, ...]:
    """Join every non-overlapping (left, right) neighbour pair, scanning left to right."""
    out: list[str] = []
    i = 0
    while i < len(pieces):
        if i + 1 < len(pieces) and pieces[i] == left and pieces[i + 1] == right:
            out.append(left + right)
            i += 2
        else:
            out.append(pieces[i])
            i += 1
    return tuple(out)


def apply_merges(groups: list[tuple[str, ...]], ranks: dict[tuple[str, str], int]) -> list[BpeStep]:
    """Merge in rank order until no neighbour pair is in the merge list; one step per merge used.

    Each pre-token is merged on its own (a merge never crosses a pre-token boundary); taking the
    globally lowest rank each time applies every pre-token's merges in its own rank order.
    """
    steps: list[BpeStep] = []
    groups = list(groups)
    while True:
        candidates = [
            (ranks[pair], pair)
            for group in groups
            for pair in zip(group, group[1:])
            if pair in ranks
        ]
        if not candidates:
            return steps
        rank, (left, right) = min(candidates)
        groups = [_merge_pair(group, left, right) for group in groups]
        steps.append(BpeStep(rank, left, right, tuple(groups)))


def _split(pre_tokenizer, text: str) -> list[str]:
    return [piece for piece, _ in pre_tokenizer.pre_tokenize_str(text)]


def replay_bpe(lm, word: str) -> BpeReplay:
    """Replay the live tokenizer's BPE on `word`: bytes → merges in rank order → its own tokens.

    `lm` is a LoadedModel (its tokenizer lock is held while the tokenizer runs). A leading space
    matters: " unbelievable" (mid-sentence) and "unbelievable" (start of text) tokenize differently.
    Pre-tokens are the tokenizer's own (for SmolLM2 every digit is split off first, as in its
    published tokenizer, which explain.engine.models restores on the GGUF-rebuilt copy).
    """
    word = word[:MAX_WORD_CHARS]
    tables = bpe_tables(lm.tokenizer, lm.tokenizer_lock)
    backend = lm.tokenizer.backend_tokenizer
    with lm.tokenizer_lock:
        normalized = backend.normalizer.normalize_str(word) if backend.normalizer else word
        pretokens = _split(backend.pre_tokenizer, normalized)
        tokenizer_tokens = list(lm.tokenizer.tokenize(word))
    whole = [p for p in pretokens if tables.ignore_merges and p in tables.vocab]
    start = tuple((p,) if p in whole else tuple(p) for p in pretokens)
    steps = apply_merges(list(start), tables.ranks)
    final_groups = steps[-1].pieces if steps else start
    final = [piece for group in final_groups for piece in group]
    return BpeReplay(
        word=word,
        pretokens=pretokens,
        start=start,
        steps=steps,
        whole_in_vocab=whole,
        final=final,
        final_ids=[tables.vocab.get(piece, -1) for piece in final],
        n_merges_in_list=tables.n_merges,
        tokenizer_tokens=tokenizer_tokens,
    )


def readable_piece(raw: str) -> str:
    """A byte-level piece as text ('Ġun' → ' un'); bytes that are not whole characters as <F0 9F>."""
    data = piece_bytes(raw)
    return raw if data is None else readable_bytes(data)


# ---------------------------------------------------------------------------------------------
# Training a tiny BPE with the `tokenizers` library


@dataclass(frozen=True)
class LearnedMerge:
    step: int  # 1 = learned first
    left: str
    right: str
    count: int  # how often the pair stood side by side in the corpus when it was merged

    @property
    def merged(self) -> str:
        return self.left + self.right


@dataclass(frozen=True)
class TrainedBpe:
    """A BPE learned by `tokenizers.trainers.BpeTrainer` on a small corpus."""

    corpus: str
    asked_vocab_size: int
    vocab_size: int  # what the trainer reached (it stops early when no pair is left to merge)
    alphabet: list[str]  # the single characters it starts from
    special_tokens: list[str]
    merges: list[LearnedMerge]
    word_counts: dict[str, int]  # words of the corpus (after whitespace/punctuation split)
    tokenizer_json: str  # the trained tokenizer, serialised (rebuild with Tokenizer.from_str)

    def tokenize(self, text: str) -> list[str]:
        """The trained tokenizer's pieces for `text` (characters it never saw become [UNK])."""
        from tokenizers import Tokenizer

        return Tokenizer.from_str(self.tokenizer_json).encode(text).tokens


def train_bpe(corpus: str, vocab_size: int) -> TrainedBpe:
    """Learn a BPE vocabulary of (at most) `vocab_size` on `corpus` with BpeTrainer.

    Words are split on whitespace and punctuation first (merges never cross words). The pair
    counts are computed independently by replaying the learned merges on the corpus's word counts.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    corpus = corpus[:MAX_CORPUS_CHARS]
    if not corpus.strip():
        raise EmptyCorpus("Type a few words to train on: the corpus is empty.")
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=int(min(vocab_size, MAX_TRAIN_VOCAB)), show_progress=False, special_tokens=[UNK]
    )
    tokenizer.train_from_iterator([corpus], trainer)
    spec = json.loads(tokenizer.to_str())
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in spec["model"]["merges"]]
    words = Counter(piece for piece, _ in tokenizer.pre_tokenizer.pre_tokenize_str(corpus))
    return TrainedBpe(
        corpus=corpus,
        asked_vocab_size=vocab_size,
        vocab_size=tokenizer.get_vocab_size(),
        alphabet=sorted({char for word in words for char in word}),
        special_tokens=[UNK],
        merges=count_merges(dict(words), merges),
        word_counts=dict(words),
        tokenizer_json=tokenizer.to_str(),
    )


def pair_counts(segmented: dict[tuple[str, ...], int]) -> Counter:
    """How often each adjacent pair occurs, weighted by word frequency (overlaps count, like BPE)."""
    counts: Counter = Counter()
    for pieces, freq in segmented.items():
        for pair in zip(pieces, pieces[1:]):
            counts[pair] += freq
    return counts


def count_merges(word_counts: dict[str, int], merges: list[tuple[str, str]]) -> list[LearnedMerge]:
    """Replay `merges` on the corpus words and record each pair's count just before its merge."""
    segmented = {tuple(word): freq for word, freq in word_counts.items()}
    learned = []
    for step, (left, right) in enumerate(merges, start=1):
        count = pair_counts(segmented).get((left, right), 0)
        learned.append(LearnedMerge(step, left, right, count))
        merged: dict[tuple[str, ...], int] = Counter()
        for pieces, freq in segmented.items():
            merged[_merge_pair(pieces, left, right)] += freq
        segmented = dict(merged)
    return learned
