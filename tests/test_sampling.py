"""Sampling filters against transformers' own logits processors; generation against `generate`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import MinPLogitsWarper, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from explain import generation, sampling, tokens
from explain.engine.models import LoadedModel
from explain.sampling import GREEDY, SamplingSettings


@pytest.fixture(scope="module")
def france_logits(lm):
    from explain.next_token import last_logits

    return last_logits(lm, tokens.encode(lm, "The capital of France is"))


def reference(processors, logits: np.ndarray) -> np.ndarray:
    """transformers' processors applied in order; returns renormalised float64 probabilities."""
    scores = torch.from_numpy(logits.astype(np.float32))[None]
    for processor in processors:
        scores = processor(None, scores)
    return torch.softmax(scores[0].double(), dim=-1).numpy()


TIES = np.array([3.0, 1.0, 1.0, 1.0, 0.5, -2.0, 1.0, 3.0], dtype=np.float32)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 40, 49152, 10**6])
def test_top_k_equals_transformers(france_logits, k):
    ours = sampling.candidate_probs(france_logits, SamplingSettings(top_k=k))
    theirs = reference([TopKLogitsWarper(k)], france_logits)
    np.testing.assert_array_equal(ours > 0, theirs > 0)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert (ours > 0).sum() == min(k, france_logits.size)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 8, 20])
def test_top_k_ties_at_the_boundary_equal_transformers(k):
    ours = sampling.top_k_keep(TIES.astype(np.float64), k)
    theirs = reference([TopKLogitsWarper(k)], TIES) > 0
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("p", [1.0, 0.999, 0.95, 0.9, 0.5, 0.1, 1e-6, 0.0])
@pytest.mark.parametrize("temperature", [1.0, 0.7, 2.5])
def test_top_p_equals_transformers(france_logits, p, temperature):
    settings = SamplingSettings(temperature=temperature, top_p=p)
    ours = sampling.candidate_probs(france_logits, settings)
    theirs = reference([TemperatureLogitsWarper(temperature), TopPLogitsWarper(p)], france_logits)
    np.testing.assert_array_equal(ours > 0, theirs > 0)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    if p <= 1e-6:
        assert (ours > 0).sum() == 1


@pytest.mark.parametrize("p", [0.3, 0.5, 0.6, 0.75, 0.8, 0.9, 1.0])
def test_top_p_ties_at_the_boundary_equal_transformers(p):
    ours = sampling.top_p_keep(TIES.astype(np.float64), p)
    theirs = reference([TopPLogitsWarper(p)], TIES) > 0
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("min_p", [0.0, 0.01, 0.05, 0.1, 0.5, 1.0])
def test_min_p_equals_transformers(france_logits, min_p):
    ours = sampling.candidate_probs(france_logits, SamplingSettings(min_p=min_p))
    theirs = reference([MinPLogitsWarper(min_p)], france_logits)
    np.testing.assert_array_equal(ours > 0, theirs > 0)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize("temperature", [1e-4, 0.05, 1.0, 3.0])
def test_temperature_and_the_whole_chain_equal_transformers(france_logits, temperature):
    settings = SamplingSettings(temperature=temperature, top_k=50, top_p=0.9, min_p=0.02)
    ours = sampling.candidate_probs(france_logits, settings)
    theirs = reference(
        [TemperatureLogitsWarper(temperature), TopKLogitsWarper(50), TopPLogitsWarper(0.9), MinPLogitsWarper(0.02)],
        france_logits,
    )
    np.testing.assert_array_equal(ours > 0, theirs > 0)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert ours.sum() == pytest.approx(1.0)
    if temperature < 0.01:  # temperature near 0 is greedy
        assert ours.argmax() == france_logits.argmax() and ours.max() == pytest.approx(1.0)


def test_greedy_keeps_only_the_argmax(france_logits):
    probs = sampling.candidate_probs(france_logits, SamplingSettings(strategy=GREEDY))
    assert probs[france_logits.argmax()] == 1.0 and (probs > 0).sum() == 1


def test_filter_view_shows_the_top_tokens_and_the_cut(lm, france_logits):
    view = sampling.filter_view(lm, france_logits, SamplingSettings(top_p=0.9), top_n=15)
    before = torch.softmax(torch.from_numpy(france_logits).double(), -1)
    top = torch.topk(before, 15)
    assert view.token_ids == top.indices.tolist()
    np.testing.assert_allclose(view.probs_before, top.values.numpy(), atol=1e-9)
    np.testing.assert_allclose(view.cumulative, np.cumsum(top.values.numpy()), atol=1e-9)
    assert view.pieces[0].text == " Paris"
    theirs = reference([TopPLogitsWarper(0.9)], france_logits)
    assert view.n_kept == (theirs > 0).sum()
    np.testing.assert_allclose(view.probs_after, theirs[top.indices.numpy()], atol=1e-6)
    assert view.kept_mass == pytest.approx(float(before[torch.from_numpy(theirs > 0)].sum()), abs=1e-6)
    assert view.kept_mass >= 0.9


def test_choose_token_is_reproducible_and_stays_in_the_candidate_set(france_logits):
    settings = SamplingSettings(temperature=1.5, top_k=5)
    draws = [sampling.choose_token(france_logits, settings, sampling.step_generator(7, s)).token_id for s in range(30)]
    again = [sampling.choose_token(france_logits, settings, sampling.step_generator(7, s)).token_id for s in range(30)]
    assert draws == again
    top5 = set(np.argsort(-france_logits)[:5].tolist())
    assert set(draws) <= top5 and len(set(draws)) > 1
    choice = sampling.choose_token(france_logits, settings, sampling.step_generator(7, 0))
    probs = torch.softmax(torch.from_numpy(france_logits).double(), -1)
    assert choice.prob == pytest.approx(float(probs[choice.token_id]))
    assert choice.rank == int((torch.argsort(probs, descending=True) == choice.token_id).nonzero()) + 1
    assert choice.n_candidates == 5


def test_step_by_step_equals_generate_n_and_reuses_the_cache(lm, full_logits):
    ids = tokens.encode(lm, "Once upon a time")
    settings = SamplingSettings(temperature=0.8, top_p=0.95)
    one_go = generation.IncrementalLogits(lm)
    all_ids, trace, _ = generation.generate_steps(one_go, ids, settings, 6, seed=3, first_step=1)
    clicks = generation.IncrementalLogits(lm)
    clicked: list[int] = []
    for step in range(1, 7):
        new, _, _ = generation.generate_steps(clicks, ids + clicked, settings, 1, seed=3, first_step=step)
        clicked += new
    assert clicked == all_ids
    # The cache means each token is fed once: the prompt, then one token per step (not the prefix).
    assert clicks.tokens_fed == len(ids) + 5
    # The stepper's probabilities are the model's own at each position.
    probs = torch.softmax(full_logits(ids + all_ids[:-1]), -1)
    for row in trace:
        assert row.prob == pytest.approx(probs[row.piece.index - 1, row.piece.id].item(), abs=1e-4)
    # A new prompt starts over.
    clicks.logits_after(tokens.encode(lm, "Hello"))
    assert clicks.ids == tokens.encode(lm, "Hello")


def test_greedy_steps_equal_generate(lm):
    ids = tokens.encode(lm, "The capital of France is")
    new_ids, trace, _ = generation.generate_steps(
        generation.IncrementalLogits(lm), ids, SamplingSettings(strategy=GREEDY), 8, seed=0, first_step=1
    )
    reference_ids, _, _ = generation.greedy_ids(lm, ids, 8)
    assert new_ids == reference_ids
    assert all(row.rank == 1 and row.n_candidates == 1 for row in trace)


def test_sample_continuations_are_seeded_and_greedy_matches(lm):
    ids = tokens.encode(lm, "My favourite food is")
    settings = SamplingSettings(temperature=1.2, top_k=40)
    first = generation.sample_continuations(lm, ids, settings, 3, 4, seed=11)
    again = generation.sample_continuations(lm, ids, settings, 3, 4, seed=11)
    assert first.new_ids == again.new_ids and len(first.new_ids) == 3
    greedy = generation.sample_continuations(lm, ids, SamplingSettings(strategy=GREEDY), 3, 4, seed=0)
    assert greedy.new_ids == [generation.greedy_ids(lm, ids, 4)[0]]


def test_samples_run_the_prompt_once_and_score_every_token_as_a_plain_forward_does(lm, monkeypatch):
    """Ten rows of one prompt: the prompt runs through the model once (one `forward`, the prefill;
    every later step is the fast decoder's), and each chosen token's log-probability is the one a
    plain forward over the prompt and the tokens before it gives (T = 1, no filter)."""
    ids = tokens.encode(lm, "The cat sat on the mat because it was")
    calls, original = [], lm.model.forward

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(lm.model, "forward", counted)
    samples = generation.sample_continuations(lm, ids, SamplingSettings(), 10, 6, seed=3)
    assert len(calls) == 1
    monkeypatch.undo()
    for row in samples.new_ids[:3]:
        with torch.inference_mode():
            logp = torch.log_softmax(lm.model(torch.tensor([ids + row])).logits[0].double(), -1)
        expected = np.mean([float(logp[len(ids) - 1 + i, t]) for i, t in enumerate(row)])
        assert samples.mean_logprob[samples.new_ids.index(row)] == pytest.approx(expected, abs=1e-4)


# The Sampling page's comparison (ui/sampling.py COMPARED) and the classroom bench's prompt among them.
COMPARED = [SamplingSettings(strategy=GREEDY), SamplingSettings(top_k=10), SamplingSettings(top_p=0.9),
            SamplingSettings(temperature=1.6)]


@pytest.mark.parametrize(("text", "seed"), [
    ("My grandmother keeps a small garden behind her house, where she grows", 42),
    ("Le petit chat dort sur le canapé parce qu'il", 7),
])
def test_strategies_written_in_one_batch_equal_their_own_runs(lm, text, seed):
    """The page writes the three samplers in one batch: each writes the very texts of its own run
    (its own seeded generator, the same draws), and the same log-probabilities to float tolerance."""
    ids = tokens.encode(lm, text)
    together = generation.sample_continuations_batch(lm, ids, COMPARED[1:], 3, 15, seed)
    alone = [generation.sample_continuations(lm, ids, settings, 3, 15, seed) for settings in COMPARED[1:]]
    for batched, own in zip(together, alone):
        assert batched.settings == own.settings and batched.seed == own.seed
        assert batched.new_ids == own.new_ids and batched.texts == own.texts
        np.testing.assert_allclose(batched.mean_logprob, own.mean_logprob, atol=1e-4)
    # With greedy in the batch too (one row): still each strategy's own run.
    everything = generation.sample_continuations_batch(lm, ids, COMPARED, 3, 15, seed)
    assert [s.new_ids for s in everything[1:]] == [s.new_ids for s in alone]
    assert everything[0].new_ids == [generation.greedy_ids(lm, ids, 15)[0]]


@pytest.mark.parametrize(
    ("text", "num_beams", "max_new_tokens"),
    [("The capital of France is", 3, 5), ("1, 2, 3,", 2, 4)],
)
def test_beam_search_equals_transformers_generate(lm, text, num_beams, max_new_tokens):
    ids = tokens.encode(lm, text)
    ours = generation.beam_search(lm, ids, num_beams=num_beams, max_new_tokens=max_new_tokens)
    with torch.inference_mode():
        out = lm.model.generate(
            torch.tensor([ids]), num_beams=num_beams, do_sample=False, max_new_tokens=max_new_tokens,
            pad_token_id=lm.tokenizer.eos_token_id, output_scores=True, return_dict_in_generate=True,
        )
    assert ours.best_ids == out.sequences[0, len(ids):].tolist()
    assert ours.best_score == pytest.approx(float(out.sequences_scores[0]), abs=1e-4)
    kept = [n for n in ours.nodes if n.status == "kept"]
    assert kept and all(sum(1 for n in kept if n.step == s) <= num_beams for s in range(1, max_new_tokens + 1))
    assert ours.nodes[ours.best_path[-1]].status == "finished"


def test_beam_search_with_an_end_token_equals_generate(lm):
    text = "<|im_start|>user\nSay yes.<|im_end|>\n<|im_start|>assistant\n"
    ids = tokens.encode(lm, text)
    ours = generation.beam_search(lm, ids, num_beams=2, max_new_tokens=6)
    with torch.inference_mode():
        reference = lm.model.generate(
            torch.tensor([ids]), num_beams=2, do_sample=False, max_new_tokens=6, pad_token_id=lm.tokenizer.eos_token_id
        )[0, len(ids):].tolist()
    assert ours.best_ids == reference
    assert any(n.status == "finished" and n.token_id == lm.tokenizer.eos_token_id for n in ours.nodes)


def test_beam_search_on_a_second_architecture(lm, tiny_gpt2):
    # The tiny GPT-2 has no tokenizer; SmolLM2's decodes its ids (< 100) for the tree's labels.
    tiny = LoadedModel(name="tiny", model=tiny_gpt2.model, tokenizer=lm.tokenizer, source="", load_seconds=0.0)
    ids = [5, 17, 42, 8]
    ours = generation.beam_search(tiny, ids, num_beams=3, max_new_tokens=5)
    with torch.inference_mode():
        reference = tiny.model.generate(
            torch.tensor([ids]), num_beams=3, do_sample=False, max_new_tokens=5, pad_token_id=0
        )[0, len(ids):].tolist()
    assert ours.best_ids == reference
