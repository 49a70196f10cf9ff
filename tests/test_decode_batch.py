"""Batched greedy continuations (explain.engine.decode_batch) against one-row decoding and `generate`.

Each test runs its own batcher on its own inference worker (shut down at the end), so the rows it
counts are its own. The references are `generation.greedy_stream` (one row, `LlamaDecoder`) and
transformers' `model.generate(do_sample=False)`, one prompt at a time.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest
import torch

from explain import generation, tokens
from explain.engine import decode_batch
from explain.engine.analysis import analyze_batch
from explain.engine.inference_queue import InferenceQueue, WorkerStopped

# 22 prompts of 1 to ~60 tokens: prose, questions, lists, code, chat markup, CJK, emoji, numbers.
PROMPTS = [
    "The",
    "Once upon a time",
    "The capital of France is",
    "1, 2, 3, 4,",
    "My grandmother keeps a small garden behind her house, where she grows",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
    "<|im_start|>user\nSay yes.<|im_end|>\n<|im_start|>assistant\nYes",
    "Photosynthesis is the process by which plants",
    "Le chat est assis sur",
    "東京は日本の",
    "I love pizza 🍕 because",
    "Q: What is 12 times 12?\nA:",
    "The history of the printing press begins in the fifteenth century, when a goldsmith in Mainz "
    "combined movable metal type with an oil-based ink and a wooden screw press. Within fifty years,",
    "Roses are red, violets are",
    "In 1969, the first humans to walk on the Moon were",
    "SELECT name FROM students WHERE",
    "A haiku about autumn:\n",
    "The mitochondria is the",
    "To make a cup of tea, first",
    "Water boils at 100 degrees",
    "Student number 7 thinks the answer is",
    "The quick brown fox jumps over the lazy dog. The quick brown fox",
]
NEW = 12


@pytest.fixture
def batcher():
    worker = InferenceQueue()
    yield decode_batch.GreedyBatcher(worker)
    assert worker.shutdown(), "the inference worker did not stop"


def _reference(lm, ids, n=NEW):
    return list(generation.greedy_stream(lm, ids, n))


def _settled(batcher, timeout=10.0) -> bool:
    """Whether every row has left (the round that delivered a last token removes it just after)."""
    deadline = time.perf_counter() + timeout
    while batcher.live_rows() and time.perf_counter() < deadline:
        time.sleep(0.01)
    return batcher.live_rows() == 0


def _assert_same(got, want, tolerance=1e-5):
    assert [t for t, _ in got] == [t for t, _ in want]
    for (_, p), (_, q) in zip(got, want):
        assert p == pytest.approx(q, abs=tolerance)


def _generated(lm, ids: list[int]) -> list[tuple[int, float]]:
    """transformers' own greedy `generate` after `ids`, alone: (token, probability) per new token."""
    with torch.inference_mode():
        out = lm.model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=NEW, output_logits=True,
                                return_dict_in_generate=True, pad_token_id=lm.tokenizer.eos_token_id)
    generated = out.sequences[0, len(ids):].tolist()
    return [(token, float(torch.softmax(step[0].float(), -1)[token])) for step, token in zip(out.logits, generated)]


def test_twenty_prompts_decoded_together_equal_transformers_generate(lm, batcher):
    prompts = [tokens.tokenize_prompt(lm, text).ids for text in PROMPTS]
    assert len(prompts) >= 20 and len({len(p) for p in prompts}) >= 15 and min(map(len, prompts)) == 1
    streams = [batcher.stream(lm.model, ids, NEW, generation._eos_ids(lm)) for ids in prompts]
    together = [list(stream) for stream in streams]
    assert max(batcher.step_rows) >= 20  # (the chat prompt ends after 3 tokens, maybe before the last joins)
    for ids, got in zip(prompts, together):  # against transformers' own generate, one prompt at a time
        _assert_same(got, _generated(lm, ids))
    assert _settled(batcher)


def test_a_row_stops_at_the_end_token_and_yields_it(lm, batcher):
    eos = generation._eos_ids(lm)
    ids = tokens.tokenize_prompt(lm, PROMPTS[6]).ids  # "Yes" then "." then <|im_end|> (measured)
    got = list(batcher.stream(lm.model, ids, 40, eos))
    assert got[-1][0] in eos and len(got) < 40
    _assert_same(got, _reference(lm, ids, 40))


def test_rows_join_while_others_are_decoding(lm, batcher):
    eos = generation._eos_ids(lm)
    first, second, third = (tokens.tokenize_prompt(lm, PROMPTS[i]).ids for i in (4, 1, 12))
    long_run = batcher.stream(lm.model, first, 30, eos)
    head = [next(long_run) for _ in range(5)]
    joined_at = len(batcher.step_rows)
    others = [batcher.stream(lm.model, ids, NEW, eos) for ids in (second, third)]
    rest = [list(stream) for stream in others]
    head += list(long_run)
    assert joined_at < 29 and max(list(batcher.step_rows)[joined_at:]) == 3  # they joined the first row mid-way
    _assert_same(head, _reference(lm, first, 30))
    for ids, got in zip((second, third), rest):
        _assert_same(got, _reference(lm, ids))


def test_a_consumer_that_stops_early_frees_its_row_at_the_next_step(lm, batcher):
    eos = generation._eos_ids(lm)
    quitter_ids, stayer_ids = (tokens.tokenize_prompt(lm, PROMPTS[i]).ids for i in (2, 7))
    quitter = batcher.stream(lm.model, quitter_ids, 40, eos)
    stayer = batcher.stream(lm.model, stayer_ids, 20, eos)
    taken = [next(quitter) for _ in range(3)]
    quitter.close()  # what a Streamlit rerun does to the page's generator
    assert list(stayer) and _settled(batcher)
    assert batcher.step_rows[-1] == 1 and len(batcher.step_rows) < 40  # the quitter left long before its 40
    _assert_same(taken, _reference(lm, quitter_ids, 3))
    # A stream dropped before it was ever iterated is freed too.
    dropped = batcher.stream(lm.model, quitter_ids, 40, eos)
    steps_before = len(batcher.step_rows)
    del dropped
    gc.collect()
    again = list(batcher.stream(lm.model, stayer_ids, 5, eos))
    assert len(again) == 5 and len(batcher.step_rows) - steps_before < 20


def test_the_key_value_buffers_are_freed_once_the_last_row_has_left(tiny_llama, batcher, monkeypatch):
    """Nothing of a finished batch stays alive while the worker waits for its next job: a batch's
    buffers are up to KV_BUDGET_BYTES (the soak found the last ones kept for as long as the site
    stayed idle)."""
    from explain.engine import fast_decode

    made = []

    class Recorded(fast_decode.KVSlots):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(weakref.ref(self))

    monkeypatch.setattr(fast_decode, "KVSlots", Recorded)
    streams = [batcher.stream(tiny_llama.model, ids, 10, set()) for ids in ([5, 9, 7], [40, 3])]
    assert all(len(list(stream)) == 10 for stream in streams) and _settled(batcher)
    assert made  # (the batch's buffers, and any `grow` made)
    deadline = time.perf_counter() + 10
    while any(ref() is not None for ref in made) and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert all(ref() is None for ref in made), "the idle worker still holds a finished batch's buffers"


def test_many_threads_at_once_share_steps_and_leave_no_thread_behind(lm):
    eos = generation._eos_ids(lm)
    before = set(threading.enumerate())
    worker = InferenceQueue()
    batcher = decode_batch.GreedyBatcher(worker)
    prompts = [tokens.tokenize_prompt(lm, f"Pupil {i} on the home page says the sky is").ids for i in range(6)]
    results: dict[int, list] = {}
    start = threading.Barrier(len(prompts))

    def visitor(i):
        start.wait()
        results[i] = list(batcher.stream(lm.model, prompts[i], 8, eos))

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert max(batcher.step_rows) > 1 and len(batcher.step_rows) < 7 * len(prompts)  # fewer steps than rows × tokens
    for i, ids in enumerate(prompts):
        _assert_same(results[i], _reference(lm, ids, 8))
    assert _settled(batcher)
    assert worker.shutdown()
    assert set(threading.enumerate()) == before  # the batcher starts no thread of its own


def test_a_stopped_worker_fails_the_stream_instead_of_hanging(tiny_llama):
    worker = InferenceQueue()
    assert worker.shutdown()
    stream = decode_batch.GreedyBatcher(worker).stream(tiny_llama.model, [3, 4, 5], 5, set())
    with pytest.raises(WorkerStopped):
        next(stream)


def test_the_batcher_is_used_only_where_it_reproduces_the_model(tiny_gpt2, tiny_llama, lm):
    shared = decode_batch.shared()
    assert shared.applies(lm.model) and shared.applies(tiny_llama.model)
    assert not shared.applies(tiny_gpt2.model)  # GPT-2: generation.greedy_stream's generic loop
    got = list(generation.greedy_stream_together(tiny_gpt2, [5, 17, 42], 6))
    assert got == list(generation.greedy_stream(tiny_gpt2, [5, 17, 42], 6))
    # Called from the inference worker itself (which runs the rounds), it decodes inline.
    worker = InferenceQueue()
    inline = decode_batch.GreedyBatcher(worker)
    assert worker.call(lambda: inline.applies(tiny_llama.model)).result() is False
    assert worker.shutdown()


def test_a_prompt_too_long_for_the_buffer_budget_waits_and_then_decodes_alone(tiny_llama, batcher, monkeypatch):
    from explain.engine import fast_decode

    per_position = fast_decode.KVSlots.bytes_per_position(fast_decode.LlamaWeights(tiny_llama.model))
    monkeypatch.setattr(decode_batch, "KV_BUDGET_BYTES", decode_batch.SLOT_STEP * 20 * per_position)
    # 5 + 10 positions at most: 8 slots of 15 fit. The first ends at its first token (tiny_llama's end
    # token, 2), in the prefill: the rows after it must keep their own slots.
    short = [[5, 9, 2, 7, 30], [40, 3], [8, 8, 8, 1]]
    long = [(7 * t + 3) % 96 for t in range(30)]  # 40 positions: over the budget beside anyone
    eos = generation._eos_ids(tiny_llama)
    streams = [batcher.stream(tiny_llama.model, ids, 10, eos) for ids in short + [long]]
    first = next(streams[-1])  # the long row joins only once the batch has emptied
    assert batcher.live_rows() <= 1  # no short row is left beside it
    got = [list(stream) for stream in streams[:-1]] + [[first, *streams[-1]]]
    for ids, tokens_and_probs in zip(short + [long], got):
        _assert_same(tokens_and_probs, _reference(tiny_llama, ids, 10))


def _counting_forwards(model, monkeypatch) -> list[int]:
    """Count `model.forward` calls from now on (a prefill is one, fast_decode.prefill)."""
    calls, original = [], model.forward

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "forward", counted)
    return calls


def test_analysed_prompts_skip_the_prefill_and_decode_what_generate_does(lm, batcher, monkeypatch):
    """Home analyses the prompt before continuing it: handed that analysis (a right-padded batch,
    as the inference worker runs it), a row runs no model forward before its decode steps, and its
    tokens and probabilities are still transformers' `generate`'s."""
    eos = generation._eos_ids(lm)
    prompts = [tokens.tokenize_prompt(lm, PROMPTS[i]).ids for i in (0, 2, 9, 10, 12)]
    with torch.inference_mode():
        analyses = analyze_batch(lm, prompts)
    forwards = _counting_forwards(lm.model, monkeypatch)
    streams = [batcher.stream(lm.model, ids, NEW, eos, analysed=a) for ids, a in zip(prompts, analyses)]
    together = [list(stream) for stream in streams]
    assert not forwards  # no prefill: every key/value came from the analyses
    monkeypatch.undo()
    for ids, got in zip(prompts, together):
        _assert_same(got, _generated(lm, ids))
    assert _settled(batcher)


def test_analysed_and_unanalysed_rows_join_one_round_and_equal_the_prefill_path(lm, batcher, monkeypatch):
    """Rows handed their analysis and rows that need a prefill join the same round: one forward
    (the others' prefill), one decode step for all, and the same tokens and probabilities as when
    every row is prefilled."""
    eos = generation._eos_ids(lm)
    prompts = [tokens.tokenize_prompt(lm, PROMPTS[i]).ids for i in (1, 3, 5, 8, 11, 14)]
    prefilled = [list(stream) for stream in [batcher.stream(lm.model, ids, NEW, eos) for ids in prompts]]
    assert _settled(batcher)
    with torch.inference_mode():
        analyses = analyze_batch(lm, prompts[::2])
    gate = threading.Event()
    batcher.worker.call(gate.wait)  # the worker waits, so every row asks before the first round
    forwards = _counting_forwards(lm.model, monkeypatch)
    steps_before = len(batcher.step_rows)
    streams = [batcher.stream(lm.model, ids, NEW, eos, analysed=analyses[i // 2] if i % 2 == 0 else None)
               for i, ids in enumerate(prompts)]
    gate.set()
    mixed = [list(stream) for stream in streams]
    assert len(forwards) == 1 and batcher.step_rows[steps_before] == len(prompts)
    for got, want in zip(mixed, prefilled):
        _assert_same(got, want)
    with pytest.raises(ValueError, match="another prompt"):
        batcher.stream(lm.model, prompts[1], NEW, eos, analysed=analyses[0])
    assert _settled(batcher)
