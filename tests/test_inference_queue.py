"""The inference worker: batched forwards equal the unbatched ones, and many threads share it safely.

References are plain unbatched calls of the model (no padding, no mask, `logits_to_keep=1`).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from explain.engine.analysis import analyze_batch
from explain.engine.inference_queue import InferenceQueue


def _reference(lm, ids):
    with torch.inference_mode():
        out = lm.model(torch.tensor([ids]), output_attentions=True, output_hidden_states=True, use_cache=False)
    return (torch.stack(out.attentions)[:, 0].numpy(), torch.stack(out.hidden_states)[:, 0].numpy(),
            out.logits[0, -1].numpy())


def _assert_equals_reference(lm, result, ids, relative=None):
    """Equal to float tolerance. With `relative`, the tolerance is that share of each array's largest
    magnitude: over SmolLM2's 30 fp32 layers a batch's matrix products are blocked differently from
    one row's (only the order of additions changes), and its residual stream reaches values in the
    hundreds, so absolute differences of a few 1e-3 in a hidden state are rounding, not error."""
    attentions, hidden, logits = _reference(lm, ids)
    assert result.ids == ids
    assert result.attentions.shape == attentions.shape and result.hidden_states.shape == hidden.shape
    if relative is None:
        np.testing.assert_allclose(result.attentions, attentions, atol=1e-5)
        np.testing.assert_allclose(result.hidden_states, hidden, atol=1e-4, rtol=1e-5)
        np.testing.assert_allclose(result.last_logits, logits, atol=1e-4, rtol=1e-5)
        return
    np.testing.assert_allclose(result.attentions, attentions, atol=relative)  # weights are ≤ 1
    for layer, (got, want) in enumerate(zip(result.hidden_states, hidden)):
        np.testing.assert_allclose(got, want, atol=relative * np.abs(want).max(), err_msg=f"layer {layer}")
    np.testing.assert_allclose(result.last_logits, logits, atol=relative * np.abs(logits).max())
    shown = torch.softmax(torch.from_numpy(result.last_logits), -1)  # what the pages show
    np.testing.assert_allclose(shown, torch.softmax(torch.from_numpy(logits), -1), atol=1e-4)


def _prompts(vocab: int, lengths=(1, 5, 12, 7)) -> list[list[int]]:
    return [[(7 * i + 3 * t + 1) % vocab for t in range(n)] for i, n in enumerate(lengths)]


@pytest.fixture
def eager_tiny_gpt2(tiny_gpt2):
    """conftest's tiny GPT-2 with eager attention (sdpa returns no attention weights), restored after."""
    previous = tiny_gpt2.model.config._attn_implementation
    tiny_gpt2.model.set_attn_implementation("eager")
    yield tiny_gpt2
    tiny_gpt2.model.set_attn_implementation(previous)


@pytest.mark.parametrize("name", ["tiny_llama", "eager_tiny_gpt2"])
def test_a_padded_batch_equals_each_prompt_alone_on_tiny_models(request, name):
    lm = request.getfixturevalue(name)
    prompts = _prompts(lm.model.config.vocab_size)
    with torch.inference_mode():
        results = analyze_batch(lm, prompts)
    for result, ids in zip(results, prompts):
        _assert_equals_reference(lm, result, ids)


def test_a_padded_batch_equals_each_prompt_alone_on_smollm2(lm):
    prompts = _prompts(49152, lengths=(3, 17, 9))
    with torch.inference_mode():
        results = analyze_batch(lm, prompts)
    for result, ids in zip(results, prompts):
        _assert_equals_reference(lm, result, ids, relative=1e-4)  # measured: attentions ≤ 2.7e-5 apart
    # the padded positions exist in the batch but not in the slices: the last-position logits differ
    assert not np.allclose(results[0].last_logits, results[1].last_logits)


def test_many_threads_at_once_are_coalesced_and_each_gets_its_own_result(tiny_llama):
    worker = InferenceQueue(window_s=0.05, max_batch=4, max_batch_tokens=4 * 16)
    prompts = _prompts(tiny_llama.model.config.vocab_size, lengths=(2, 9, 4, 11, 6, 3, 8, 10, 1, 5))
    start = threading.Barrier(len(prompts))

    def call(ids):
        start.wait()
        return worker.analyze(tiny_llama, ids)

    with ThreadPoolExecutor(len(prompts)) as pool:
        results = list(pool.map(call, prompts))
    for result, ids in zip(results, prompts):
        _assert_equals_reference(tiny_llama, result, ids)
    assert sum(worker.batch_sizes) == len(prompts)
    assert max(worker.batch_sizes) > 1, worker.batch_sizes  # they did share forwards
    assert max(worker.batch_sizes) <= 4


def test_a_batch_never_exceeds_its_token_budget(tiny_llama):
    worker = InferenceQueue(window_s=0.05, max_batch=8, max_batch_tokens=20)
    prompts = _prompts(tiny_llama.model.config.vocab_size, lengths=(10, 10, 10, 3, 3))
    futures = [worker.submit(tiny_llama, ids) for ids in prompts]
    for future, ids in zip(futures, prompts):
        _assert_equals_reference(tiny_llama, future.result(timeout=60), ids)
    assert max(worker.batch_sizes) <= 2


def test_different_models_never_share_a_batch(tiny_llama, eager_tiny_gpt2):
    worker = InferenceQueue(window_s=0.05)
    jobs = [(tiny_llama, [1, 2, 3]), (eager_tiny_gpt2, [4, 5]), (tiny_llama, [6])]
    futures = [worker.submit(lm, ids) for lm, ids in jobs]
    for future, (lm, ids) in zip(futures, jobs):
        _assert_equals_reference(lm, future.result(timeout=60), ids)


def test_a_call_from_inside_the_worker_runs_inline_instead_of_deadlocking(tiny_llama):
    worker = InferenceQueue(window_s=0.0)
    inner: list = []
    original = tiny_llama.model.forward

    def forward_that_calls_back(*args, **kwargs):
        if not inner:
            inner.append(None)
            inner[0] = worker.analyze(tiny_llama, [5, 6])  # from the worker thread itself
        return original(*args, **kwargs)

    tiny_llama.model.forward = forward_that_calls_back
    try:
        outer = worker.submit(tiny_llama, [1, 2, 3]).result(timeout=60)
    finally:
        tiny_llama.model.forward = original
    _assert_equals_reference(tiny_llama, outer, [1, 2, 3])
    _assert_equals_reference(tiny_llama, inner[0], [5, 6])


def test_an_error_reaches_every_caller_of_the_batch_and_the_worker_lives_on(tiny_llama):
    worker = InferenceQueue(window_s=0.05)
    bad = worker.submit(tiny_llama, [10_000])  # outside the tiny vocabulary
    with pytest.raises(IndexError):
        bad.result(timeout=60)
    _assert_equals_reference(tiny_llama, worker.submit(tiny_llama, [1, 2]).result(timeout=60), [1, 2])
    with pytest.raises(ValueError):
        worker.submit(tiny_llama, [])


def test_the_worker_runs_in_inference_mode(tiny_llama):
    worker = InferenceQueue(window_s=0.0)
    seen = []
    original = tiny_llama.model.forward

    def spy(*args, **kwargs):
        seen.append(torch.is_inference_mode_enabled())
        return original(*args, **kwargs)

    tiny_llama.model.forward = spy
    try:
        worker.submit(tiny_llama, [1, 2]).result(timeout=60)
    finally:
        tiny_llama.model.forward = original
    assert seen == [True]


def test_a_lone_request_runs_at_once_without_waiting_for_company(tiny_llama):
    worker = InferenceQueue(window_s=30.0)  # a window no test could sit out
    worker.submit(tiny_llama, [1]).result(timeout=60)  # the worker thread is started
    start = time.perf_counter()
    result = worker.submit(tiny_llama, [1, 2, 3]).result(timeout=60)
    assert time.perf_counter() - start < 10
    _assert_equals_reference(tiny_llama, result, [1, 2, 3])


def _worker_held_by_a_first_forward(lm, worker):
    """Submit [1] and hold its forward until the returned event is set; record every forward's ids."""
    release, running, order = threading.Event(), threading.Event(), []
    original = lm.model.forward

    def holding_forward(input_ids, *args, **kwargs):
        order.append([row.tolist() for row in input_ids])
        if len(order) == 1:
            running.set()
            release.wait(60)
        return original(input_ids, *args, **kwargs)

    lm.model.forward = holding_forward
    first = worker.submit(lm, [1])
    assert running.wait(60)
    return first, release, order, original


def test_background_work_waits_for_every_visitor_and_runs_alone(tiny_llama):
    worker = InferenceQueue(window_s=0.05)
    first, release, order, original = _worker_held_by_a_first_forward(tiny_llama, worker)
    try:
        background = [worker.submit(tiny_llama, [4, t], background=True) for t in range(3)]
        visitors = [worker.submit(tiny_llama, [7, 8]), worker.submit(tiny_llama, [9, 10])]
        release.set()
        for future in [first, *visitors, *background]:
            future.result(timeout=60)
    finally:
        tiny_llama.model.forward = original
    assert order[1] == [[7, 8], [9, 10]]  # the visitors, batched, before any background job
    assert order[2:] == [[[4, 0]], [[4, 1]], [[4, 2]]]  # then each background job in its own forward
    for future, t in zip(background, range(3)):
        _assert_equals_reference(tiny_llama, future.result(), [4, t])


def test_calls_run_alone_on_the_worker_taking_turns_with_the_analyses(tiny_llama):
    worker = InferenceQueue(window_s=0.05)
    finished: list[str] = []
    release = threading.Event()

    def held_call():
        release.wait(10)
        return threading.current_thread().name

    first = worker.call(held_call)  # the worker is busy with it while the others queue up
    a = worker.submit(tiny_llama, [1, 2, 3])
    second = worker.call(lambda: "second")
    b = worker.submit(tiny_llama, [4, 5])
    for name, future in (("first", first), ("a", a), ("second", second), ("b", b)):
        future.add_done_callback(lambda _, name=name: finished.append(name))
    release.set()
    assert first.result(timeout=60) == "inference-worker" and second.result(timeout=60) == "second"
    _assert_equals_reference(tiny_llama, b.result(timeout=60), [4, 5])
    assert finished == ["first", "a", "second", "b"]  # arrival order: a call is never skipped
    assert list(worker.batch_sizes) == [1, 1]  # a and b did not share a forward across the call between them
    failing = worker.call(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=60)
    assert worker.call(lambda: "alive").result(timeout=60) == "alive"  # the worker lives on
    assert worker.shutdown()
    from explain.engine.inference_queue import WorkerStopped

    with pytest.raises(WorkerStopped):
        worker.call(lambda: None).result(timeout=1)
