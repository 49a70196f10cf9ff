"""The two small models behind the RNN vs Transformer page: training, sizes, files, numbers."""

from __future__ import annotations

import gzip
import json
import random

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from explain.small_models import checkpoints, compare
from tools.small_models import corpus, heldout, train
from explain.small_models.gpt import GPT, GPTConfig
from explain.small_models.rnn import LSTMLM, RNNConfig
from explain.small_models.vocab import WordVocab, build_vocab, join_words, split_words

SHIPPED = all(p.is_file() for p in [checkpoints.VOCAB_PATH, checkpoints.METRICS_PATH,
                                   *checkpoints.CHECKPOINTS.values()])
needs_shipped = pytest.mark.skipif(not SHIPPED, reason="run `python -m tools.small_models train`")


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
    windows = train.training_sample_windows(train.stream_ids(vocab, held), block=16)
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
        loaded = checkpoints.load_checkpoint(tmp_path / f"{kind}.pt")
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
    assert words.dropped == 160 - compare.MAX_WORDS and len(words.ids) == checkpoints.BLOCK
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


# --- the shipped held-out measurements, recomputed independently ------------------------------
# Independent of heldout.py: the held-out stories are re-selected, re-split into words and read
# as a plain ring here, and every loss comes from a plain forward + log_softmax.

CONTEXT = 64
BUCKETS = ((1, 4), (5, 8), (9, 16), (17, 32), (33, 64))


@pytest.fixture(scope="module")
def held_stories(shipped) -> list[list[int]]:
    """Per held-out story: its word ids (every 8th story of the corpus, counting from 1)."""
    stories = corpus.load_stories()
    return [shipped.vocab.encode_words(split_words(s)) for i, s in enumerate(stories)
            if (i + 1) % 8 == 0]


def ring_of(stories: list[list[int]], eos: int) -> tuple[list[int], list[list[int]]]:
    """The held-out text as one ring of ids (<eos> before each story) and, per story, the ring
    positions it is scored on: its words and the <eos> that ends it (the next story's)."""
    ring, starts = [], []
    for words in stories:
        starts.append(len(ring))
        ring += [eos] + words
    scored = [list(range(st + 1, st + 1 + len(w))) + [(st + 1 + len(w)) % len(ring)]
              for st, w in zip(starts, stories)]
    return ring, scored


def losses_at(model, ring: list[int], positions: list[int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Loss (nats) and top-1 hit of ring[p] predicted from the k ring ids before it."""
    ctx = torch.tensor([[ring[(p - k + j) % len(ring)] for j in range(k)] for p in positions])
    with torch.inference_mode():
        logp = F.log_softmax(model(ctx)[0][:, -1].double(), -1)
    target = torch.tensor([ring[p] for p in positions])
    return (-logp[torch.arange(len(positions)), target]).numpy(), (logp.argmax(-1) == target).numpy()


@needs_shipped
def test_shipped_metrics_cover_every_held_out_story_and_word(shipped, held_stories):
    cov = shipped.metrics["heldout"]["coverage"]
    words = sum(len(w) for w in held_stories)
    assert cov["stories"] == len(held_stories) == shipped.metrics["corpus"]["heldout_stories"]
    assert cov["words"] == words and cov["story_ends"] == len(held_stories)
    assert cov["targets"] == words + len(held_stories) == shipped.metrics["corpus"]["heldout_words"]
    assert cov["story_targets"] == [len(w) + 1 for w in held_stories]
    assert cov["unknown"] == sum(w.count(shipped.vocab.unk_id) for w in held_stories)
    assert cov["context"] == CONTEXT == shipped.gpt.config.block_size
    for kind in ("lstm", "gpt"):
        h = shipped.metrics["heldout"][kind]
        assert len(h["story_loss_sum"]) == len(h["story_hits"]) == len(held_stories)
        # the headline numbers are the mean over every story's predictions, not a slice
        assert sum(h["story_loss_sum"]) / cov["targets"] == pytest.approx(h["heldout_loss"], abs=1e-4)
        assert sum(h["story_hits"]) / cov["targets"] == pytest.approx(h["heldout_accuracy"], abs=1e-4)
        assert h["heldout_perplexity"] == pytest.approx(np.exp(h["heldout_loss"]), abs=0.01)
        assert h["context_curve"]["loss"][-1] == h["heldout_loss"]


@needs_shipped
@pytest.mark.parametrize("kind", ["lstm", "gpt"])
def test_shipped_story_losses_match_a_recomputation_on_sampled_stories(shipped, held_stories, kind):
    ring, scored = ring_of(held_stories, shipped.vocab.eos_id)
    h = shipped.metrics["heldout"][kind]
    picked = [0, len(held_stories) - 1, *np.random.default_rng(7).choice(
        np.arange(1, len(held_stories) - 1), 3, replace=False)]  # both ends of the ring too
    for j in picked:
        loss, hit = losses_at(shipped.model(kind), ring, scored[j], CONTEXT)
        assert loss.sum() == pytest.approx(h["story_loss_sum"][j], abs=0.01)
        assert int(hit.sum()) == h["story_hits"][j]


@needs_shipped
@pytest.mark.parametrize("kind", ["lstm", "gpt"])
def test_shipped_one_word_context_loss_matches_a_recomputation_on_everything(shipped, held_stories,
                                                                              kind):
    ring, scored = ring_of(held_stories, shipped.vocab.eos_id)
    positions = [p for story in scored for p in story]
    assert sorted(positions) == list(range(len(ring)))  # every id of the ring, once
    model, total = shipped.model(kind), 0.0
    for s in range(0, len(positions), 4096):
        total += losses_at(model, ring, positions[s : s + 4096], 1)[0].sum()
    curve = shipped.metrics["heldout"][kind]["context_curve"]
    assert curve["context"][0] == 1
    assert total / len(positions) == pytest.approx(curve["loss"][0], abs=1e-3)


def repeats(stories: list[list[int]], word_ids: set[int], limit: int) -> list[tuple[int, int, int]]:
    """(story, position in story, distance) of every word of `word_ids` seen earlier in the same
    story, at most `limit` ids back: scanning backwards from each occurrence."""
    out = []
    for j, words in enumerate(stories):
        for t, w in enumerate(words):
            if w in word_ids:
                back = next((d for d in range(1, t + 1) if words[t - d] == w), None)
                if back is not None and back <= limit:
                    out.append((j, t, back))
    return out


@needs_shipped
def test_shipped_probe_counts_every_repeat_in_the_held_out_text(shipped, held_stories):
    probes = shipped.metrics["heldout"]["gpt"]["distance_probe"]
    assert set(probes) == {"names", "places", "objects"}
    words = shipped.metrics["heldout"]["coverage"]["probe_words"]
    assert words["names"] == sorted(n.lower() for n in corpus.NAMES)
    assert "park" in words["places"] and "ball" in words["objects"] and "bear" not in words["objects"]
    for group, probe in probes.items():
        ids = set(shipped.vocab.encode_words(words[group]))
        found = repeats(held_stories, ids, CONTEXT)
        counts = [sum(lo <= d <= hi for _, _, d in found) for lo, hi in BUCKETS]
        assert probe["n"] == counts == shipped.metrics["heldout"]["lstm"]["distance_probe"][group]["n"]
        beyond = len(repeats(held_stories, ids, 10**6)) - len(found)
        assert shipped.metrics["heldout"]["coverage"]["probe_repeats_beyond_context"][group] == beyond
    assert sum(probes["names"]["n"]) > 1000  # the audit found 1,269 repeated names


@needs_shipped
@pytest.mark.parametrize("kind", ["lstm", "gpt"])
def test_shipped_name_probe_matches_a_recomputation(shipped, held_stories, kind):
    ring, scored = ring_of(held_stories, shipped.vocab.eos_id)
    names = shipped.metrics["heldout"]["coverage"]["probe_words"]["names"]
    found = repeats(held_stories, set(shipped.vocab.encode_words(names)), CONTEXT)
    loss, hit = losses_at(shipped.model(kind), ring, [scored[j][t] for j, t, _ in found], CONTEXT)
    probe = shipped.metrics["heldout"][kind]["distance_probe"]["names"]
    for b, (lo, hi) in enumerate(BUCKETS):
        sel = np.array([lo <= d <= hi for _, _, d in found])
        assert probe["mean_prob"][b] == pytest.approx(np.exp(-loss[sel]).mean(), abs=1e-4)
        assert probe["accuracy"][b] == pytest.approx(hit[sel].mean(), abs=1e-4)


@needs_shipped
def test_training_curves_were_measured_on_the_sample_the_page_names(shipped):
    text = heldout.held_out_text(shipped.vocab)
    sample = train.training_sample_windows(text.ids)
    assert shipped.metrics["corpus"]["curve_sample"] == train.curve_sample(sample)
    assert train.curve_sample(sample) == {"windows": 200, "first_ids": 2055}
    assert sample[-1, -1] == text.ids[2054]
    for kind in ("lstm", "gpt"):  # the last point was measured on the same (unrounded) weights
        assert train.heldout_loss(shipped.model(kind), sample) == pytest.approx(
            shipped.metrics["curves"][kind]["heldout_loss"][-1], abs=2e-3)


class FirstSeen(torch.nn.Module):
    """A toy 'model' that predicts, with near certainty, the first id of its context."""

    lm_head = torch.nn.Identity()

    def features(self, idx):
        return F.one_hot(idx[:, :1].expand_as(idx), 10).float() * 50, None


def test_context_losses_give_every_id_exactly_k_ids_before_it():
    # id i read from the k ids before it sees ring position i − k first: with a period-2 ring
    # that is the same id exactly when k is even
    ids = np.array([7, 8, 7, 8, 7, 8])
    losses, hits = heldout.context_losses(FirstSeen(), ids, contexts=(1, 2, 3, 4), batch=3)
    assert losses.shape == hits.shape == (4, 6)
    assert hits.tolist() == [[False] * 6, [True] * 6, [False] * 6, [True] * 6]
    _, hits = heldout.context_losses(FirstSeen(), np.arange(10), contexts=(1, 5, 9), batch=4)
    assert not hits.any()  # no two ids alike: never right


# --- memory and sequential steps ---------------------------------------------------------


@needs_shipped
def test_the_lstm_carries_exactly_its_h_and_c_and_nothing_else(shipped):
    lstm = shipped.lstm
    sizes = [p.shape[1] for name, p in lstm.lstm.named_parameters()
             if name.startswith("weight_hh")]  # weight_hh_l{k}: (4·H, H)
    mem = compare.memory(shipped)
    assert mem.lstm_state == 2 * sum(sizes) == 320 and mem.lstm_layers == len(sizes) == 2
    ids = compare.prompt_words(shipped.vocab, SENTENCE).ids
    with torch.inference_mode():  # the rest of the text read from (h, c) alone = read in one go
        whole = lstm(torch.tensor([ids]))[0][0, -1]
        state = lstm(torch.tensor([ids[:6]]))[3]
        resumed = lstm(torch.tensor([ids[6:]]), state=state)[0][0, -1]
    torch.testing.assert_close(resumed, whole)
    qkv = shipped.gpt.blocks[0].attn.c_attn.weight.shape  # (3·C, C): query, key, value
    assert mem.gpt_per_word == len(shipped.gpt.blocks) * 2 * qkv[1] == 256


def longest_chain(nodes: list, parents) -> int:
    """Nodes on the longest path of a DAG (nodes listed so that parents come first)."""
    depth = {}
    for node in nodes:
        depth[node] = 1 + max((depth[p] for p in parents(node)), default=0)
    return max(depth.values())


def lstm_parents(cell):  # (layer, t) needs (layer, t − 1) and (layer − 1, t)
    layer, t = cell
    return [p for p in ((layer, t - 1), (layer - 1, t)) if min(p) >= 0]


def gpt_parents(cell):  # (layer, t) needs layer − 1 at every position up to t
    layer, t = cell
    return [(layer - 1, s) for s in range(t + 1)] if layer else []


@needs_shipped
def test_sequential_steps_are_the_longest_dependency_chain(shipped):
    steps = compare.sequential_steps(shipped, lengths=[1, 2, 5, 64])
    n_lstm, n_gpt = shipped.lstm.config.n_layer, shipped.gpt.config.n_layer
    for n, lstm_steps, gpt_steps in zip(steps.lengths, steps.lstm, steps.gpt):
        lstm_cells = [(layer, t) for layer in range(n_lstm) for t in range(n)]
        gpt_cells = [(layer, t) for layer in range(n_gpt) for t in range(n)]
        assert lstm_steps == longest_chain(lstm_cells, lstm_parents)
        assert gpt_steps == longest_chain(gpt_cells, gpt_parents)
    assert steps.lstm[-1] == 65 and steps.gpt[-1] == 2


@needs_shipped
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
