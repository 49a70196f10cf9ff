"""The two small models behind the RNN vs Transformer page: training, sizes, files, numbers."""

from __future__ import annotations

import gzip
import json
import random

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from explain.small_models import compare, corpus, train
from explain.small_models.gpt import GPT, GPTConfig
from explain.small_models.rnn import LSTMLM, RNNConfig
from explain.small_models.vocab import WordVocab, build_vocab, join_words, split_words

SHIPPED = all(p.is_file() for p in [train.VOCAB_PATH, train.METRICS_PATH,
                                   *train.CHECKPOINTS.values()])
needs_shipped = pytest.mark.skipif(not SHIPPED, reason="run `python -m explain.small_models train`")


@pytest.fixture(scope="module")
def shipped() -> compare.SmallModels:
    if not SHIPPED:
        pytest.skip("no shipped checkpoints")
    return compare.load_small_models()


SENTENCE = "Once upon a time, there was a little girl named Lily. She had a red ball and she"


# --- vocabulary and corpus ---------------------------------------------------------------------


def test_words_and_punctuation_are_split_and_unknown_words_map_to_unk():
    assert split_words("Lily's dog, \"Max\", ran!") == ["lily's", "dog", ",", '"', "max", '"',
                                                         ",", "ran", "!"]
    vocab = build_vocab(["the dog ran . the dog sat ."] * 3)
    assert vocab.itos[:2] == ("<unk>", "<eos>")
    assert vocab.encode("The cat ran.") == [vocab.itos.index("the"), 0,
                                            vocab.itos.index("ran"), vocab.itos.index(".")]
    assert join_words(["the", "dog", "ran", ".", "it", "sat", "!"]) == "The dog ran. It sat!"


def test_clean_story_drops_titles_and_unfinished_sentences():
    raw = "**The Red Ball**\n\nLily had a red ball. " + "She played with it all day. " * 6 + "Then she"
    text = corpus.clean_story(raw)
    assert text.startswith("Lily had a red ball.") and text.endswith("all day.")
    assert corpus.clean_story("Too short.") is None


def test_load_stories_dedupes_and_survives_a_truncated_tail(tmp_path):
    path = tmp_path / "s.jsonl.gz"
    story = "Tom went to the park with his dog. " * 8
    with gzip.open(path, "at") as f:
        for text in (story, story, "A different story about a cat named Sue. " * 8):
            f.write(json.dumps({"batch": 0, "text": text}) + "\n")
    with open(path, "ab") as f:
        f.write(gzip.compress(b'{"batch": 1, "text": "x"}\n')[:15])  # a member cut short
    assert len(corpus.load_stories(path)) == 2


def test_prompts_are_reproducible_from_the_batch_seed():
    a = corpus.sample_prompts(random.Random(corpus.BASE_SEED + 3), 4)
    b = corpus.sample_prompts(random.Random(corpus.BASE_SEED + 3), 4)
    assert a == b and len({p.request for p in a}) == 4


# --- training --------------------------------------------------------------------------------


def test_a_short_training_run_lowers_the_loss_of_both_models():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only add overhead
    try:
        _train_tiny_models()
    finally:
        torch.set_num_threads(threads)


def _train_tiny_models():
    rng = random.Random(0)
    names = ["lily", "tom", "mia", "ben"]
    stories = [f"{n} had a ball . {n} liked the ball . the ball was red ." for n in
               (rng.choice(names) for _ in range(120))]
    tr, held = train.split_stories(stories)
    vocab = build_vocab(tr, min_count=1)
    ids = train.stream_ids(vocab, tr)
    windows = train.eval_windows(train.stream_ids(vocab, held), block=16)
    cfg = train.TrainConfig(steps=40, batch_size=8, block_size=16, lr=1e-2, warmup=5,
                            eval_every=40)
    for model in (LSTMLM(RNNConfig(len(vocab), n_embd=32, n_hidden=48, n_layer=1)),
                  GPT(GPTConfig(len(vocab), block_size=16, n_layer=2, n_head=2, n_embd=32))):
        before = train.heldout_loss(model, windows)
        curve = train.train_model(model, ids, windows, cfg, log=lambda *_: None)
        assert len(curve["train_loss"]) == 40
        assert np.mean(curve["train_loss"][-5:]) < np.mean(curve["train_loss"][:5]) - 0.5
        assert curve["heldout_loss"][-1] < before - 0.5


def lstm_params(c: RNNConfig) -> int:
    """Counted from the architecture: embedding (tied head), LSTM gates, projection."""
    gates = sum(4 * c.n_hidden * ((c.n_embd if i == 0 else c.n_hidden) + c.n_hidden)
                + 8 * c.n_hidden for i in range(c.n_layer))
    return c.vocab_size * c.n_embd + gates + c.n_hidden * c.n_embd + c.n_embd


def gpt_params(c: GPTConfig) -> int:
    """Embeddings + per block (attention 4E²+4E, MLP 8E²+5E, two LayerNorms 4E) + final LN."""
    e = c.n_embd
    return c.vocab_size * e + c.block_size * e + c.n_layer * (12 * e * e + 13 * e) + 2 * e


def test_parameter_counts_match_the_architecture_and_are_within_ten_percent():
    models = train.make_models(4000)
    lstm, gpt = models["lstm"], models["gpt"]
    assert lstm.num_params() == lstm_params(lstm.config) == sum(p.numel() for p in lstm.parameters())
    assert gpt.num_params() == gpt_params(gpt.config) == sum(p.numel() for p in gpt.parameters())
    assert abs(lstm.num_params() / gpt.num_params() - 1) <= 0.10


@needs_shipped
def test_shipped_parameter_counts(shipped):
    counts = shipped.metrics["parameters"]
    assert counts["lstm"] == lstm_params(shipped.lstm.config) == shipped.lstm.num_params()
    assert counts["gpt"] == gpt_params(shipped.gpt.config) == shipped.gpt.num_params()
    assert abs(counts["lstm"] / counts["gpt"] - 1) <= 0.10
    assert shipped.lstm.config.vocab_size == shipped.gpt.config.vocab_size == len(shipped.vocab)


def test_checkpoints_and_vocab_round_trip(tmp_path):
    torch.manual_seed(0)
    vocab = build_vocab(["a b c d . e f g ."] * 3)
    x = torch.randint(0, len(vocab), (2, 12))
    for kind, model in (("lstm", LSTMLM(RNNConfig(len(vocab), 16, 24, 2))),
                        ("gpt", GPT(GPTConfig(len(vocab), 16, 2, 2, 16)))):
        model.eval()
        with torch.no_grad():  # the checkpoint stores fp16: compare with fp16-rounded weights
            for p in model.parameters():
                p.copy_(p.half().float())
        train.save_checkpoint(model, kind, tmp_path / f"{kind}.pt")
        loaded = train.load_checkpoint(tmp_path / f"{kind}.pt")
        assert type(loaded) is type(model) and loaded.config == model.config
        with torch.inference_mode():
            assert torch.equal(loaded(x)[0], model(x)[0])
    vocab.save(tmp_path / "vocab.json")
    again = WordVocab.load(tmp_path / "vocab.json")
    assert again == vocab and again.encode("a b z .") == vocab.encode("a b z .")


# --- what the page shows (on the shipped models) -------------------------------------------


@needs_shipped
@pytest.mark.parametrize("kind", ["lstm", "gpt"])
def test_probabilities_sum_to_one_and_equal_softmax_of_the_logits(shipped, kind):
    ids = compare.prompt_words(shipped.vocab, SENTENCE).ids
    nw = compare.next_words(shipped, kind, ids)
    with torch.inference_mode():
        logits = shipped.model(kind)(torch.tensor([ids]))[0][0, -1].double()
    reference = torch.softmax(logits, -1).numpy()
    assert nw.all_probs.sum() == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(nw.all_probs, reference, rtol=1e-5, atol=1e-9)
    order = np.argsort(-reference)[:10]
    assert nw.words == [shipped.vocab.itos[i] for i in order]
    np.testing.assert_allclose(nw.probs, reference[order], rtol=1e-5)


@needs_shipped
def test_transformer_attention_is_causal(shipped):
    ids = compare.prompt_words(shipped.vocab, SENTENCE).ids
    att = compare.gpt_attention(shipped, ids)
    T = len(ids)
    assert att.shape == (shipped.gpt.config.n_layer, shipped.gpt.config.n_head, T, T)
    assert np.all(att[..., np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0)
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-5)
    changed = list(ids)
    changed[-1] = shipped.vocab.encode_words(["dog"])[0]
    with torch.inference_mode():  # a later word never changes an earlier prediction
        a = shipped.gpt(torch.tensor([ids]))[0][0, :-1]
        b = shipped.gpt(torch.tensor([changed]))[0][0, :-1]
    torch.testing.assert_close(a, b)


@needs_shipped
def test_rnn_trace_equals_reading_the_whole_sequence_at_once(shipped):
    ids = compare.prompt_words(shipped.vocab, SENTENCE).ids
    trace = compare.rnn_trace(shipped, ids)
    with torch.inference_mode():
        hidden = shipped.lstm(torch.tensor([ids]))[2][0].numpy()
    np.testing.assert_allclose(trace.hidden, hidden, atol=1e-5)
    np.testing.assert_allclose(trace.change[0], np.linalg.norm(hidden[0]), rtol=1e-5)
    np.testing.assert_allclose(trace.change[3], np.linalg.norm(hidden[3] - hidden[2]), rtol=1e-5)


@needs_shipped
@pytest.mark.parametrize("kind", ["lstm", "gpt"])
def test_occlusion_equals_an_independent_recomputation(shipped, kind):
    words = compare.prompt_words(shipped.vocab, "Lily had a red ball and she gave the")
    occ = compare.occlusion(shipped, kind, words.ids)
    model = shipped.model(kind)
    with torch.inference_mode():
        full = F.log_softmax(model(torch.tensor([words.ids]))[0][0, -1], -1)
        target = int(full.argmax())
        assert occ.target_id == target and occ.target == shipped.vocab.itos[target]
        for i in range(len(words.words)):
            kept = [words.ids[0]] + [t for j, t in enumerate(words.ids[1:]) if j != i]
            dropped = F.log_softmax(model(torch.tensor([kept]))[0][0, -1], -1)[target]
            assert occ.deltas[i] == pytest.approx(float(full[target] - dropped), abs=1e-4)


@needs_shipped
def test_one_word_prompt_and_all_unknown_prompt(shipped):
    one = compare.prompt_words(shipped.vocab, "dog")
    assert compare.occlusion(shipped, "lstm", one.ids).deltas.shape == (1,)
    unknown = compare.prompt_words(shipped.vocab, "xyzzy 今天 🍕 <script>")
    assert unknown.words == ["xyzzy", "今天", "🍕", "<", "script", ">"]
    assert unknown.known[:3] == [False] * 3 and unknown.ids[0] == shipped.vocab.eos_id
    assert compare.next_words(shipped, "gpt", unknown.ids).all_probs.sum() == pytest.approx(1)


@needs_shipped
def test_long_prompts_keep_the_last_words_within_the_context(shipped):
    words = compare.prompt_words(shipped.vocab, "the dog ran . " * 40)
    assert words.dropped == 160 - compare.MAX_WORDS and len(words.ids) == train.BLOCK
    compare.next_words(shipped, "gpt", words.ids)  # fits the transformer's context


@needs_shipped
def test_continuations_are_reproducible_and_never_unknown(shipped):
    ids = compare.prompt_words(shipped.vocab, "Once upon a time").ids
    for kind in ("lstm", "gpt"):
        greedy = compare.continue_words(shipped, kind, ids, n=8)
        assert greedy == compare.continue_words(shipped, kind, ids, n=8)
        assert greedy[0] == compare.next_words(shipped, kind, ids).words[0] or \
            compare.next_words(shipped, kind, ids).words[0] == "<unk>"
        sampled = compare.continue_words(shipped, kind, ids, n=8, seed=3)
        assert sampled == compare.continue_words(shipped, kind, ids, n=8, seed=3)
        assert "<unk>" not in greedy + sampled


@needs_shipped
def test_shipped_metrics_match_a_recomputation(shipped):
    """Recompute held-out numbers independently: loss given k words = feed only k words."""
    windows = train.held_out_windows(shipped.vocab)
    assert len(windows) == shipped.metrics["corpus"]["eval_windows"]
    picked = np.arange(0, len(windows), 10)[:120]  # a small spread-out held-out slice
    subset = windows[picked]
    for kind in ("lstm", "gpt"):
        shipped_curve = shipped.metrics["heldout"][kind]["context_curve"]
        model = shipped.model(kind)
        losses, _ = train.per_position_losses(model, windows)
        assert float(losses.mean()) == pytest.approx(
            shipped.metrics["heldout"][kind]["heldout_loss"], abs=2e-3)
        for k in (1, 8, 64):
            with torch.inference_mode():
                logits = model(torch.from_numpy(subset[:, :k]))[0][:, -1]
                mine = F.cross_entropy(logits, torch.from_numpy(subset[:, k])).item()
            assert mine == pytest.approx(float(losses[picked, k - 1].mean()), abs=1e-3)
            full_k = shipped_curve["loss"][shipped_curve["context"].index(k)]
            assert float(losses[:, k - 1].mean()) == pytest.approx(full_k, abs=2e-3)
            assert mine == pytest.approx(full_k, abs=0.5)  # the slice vs all held-out windows


@needs_shipped
def test_distance_probe_targets_are_repeated_names(shipped):
    windows = train.held_out_windows(shipped.vocab)[:60]
    names = {shipped.vocab.encode_words([n])[0] for n in train.PROBE_WORDS}
    for n, t, d in train.probe_targets(shipped.vocab, windows):
        target = windows[n][t + 1]
        assert target in names and windows[n][t + 1 - d] == target
        assert target not in windows[n][t + 2 - d : t + 1]


@needs_shipped
def test_reading_times_are_measured(shipped):
    times = compare.reading_times(shipped, lengths=(4, 16), repeats=1)
    assert times.lengths == [4, 16] and min(times.rnn_ms + times.gpt_ms) > 0


def test_guess_score_equals_rank_by_sorting(shipped):
    ids = compare.prompt_words(shipped.vocab, "the little girl was very").ids
    predicted = compare.next_words(shipped, "gpt", ids)
    for guess in [predicted.words[0], predicted.words[5], "Happy!", "zzzunknownzzz"]:
        score = compare.guess_score(shipped.vocab, predicted, guess)
        word_id = shipped.vocab.encode_words([score.word])[0]
        descending = np.sort(predicted.all_probs)[::-1]
        assert score.prob == predicted.all_probs[word_id]
        assert score.rank == int(np.flatnonzero(descending == score.prob)[0]) + 1  # ties: the better rank
    assert compare.guess_score(shipped.vocab, predicted, predicted.words[0]).rank == 1
    assert not compare.guess_score(shipped.vocab, predicted, "zzzunknownzzz").in_vocab
