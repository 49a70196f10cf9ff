"""The start-up warm-up: after it, the examples' and lesson steps' analyses are cache hits."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from explain import cache_budget, tokens
from explain.engine import analysis, models
from explain.lessons import load_lessons
from ui import startup, state


@pytest.fixture
def fresh_site(lm, monkeypatch):
    """ui.state with the session's model, an empty analysis cache, and every forward recorded."""
    cache = cache_budget.AnalysisCache(cache_budget.ANALYSIS_CACHE_MB * 2**20)
    monkeypatch.setattr(state, "get_model", lambda name: lm)
    monkeypatch.setattr(state, "_analysis_cache", lambda: cache)
    forwards = []
    original = analysis.analyze_prompt

    def recording(lm_, ids, background=False):
        forwards.append((tuple(ids), background))
        return original(lm_, ids, background)

    monkeypatch.setattr(analysis, "analyze_prompt", recording)
    return forwards


def test_the_warm_up_covers_every_example_and_every_lesson_step():
    prompts = startup.warm_up_prompts()
    assert set(state.PRESETS.values()) <= set(prompts)
    steps = [str(s.controls["prompt"]) for lesson in load_lessons() for s in lesson.steps if "prompt" in s.controls]
    assert steps and set(steps) <= set(prompts)
    assert len(prompts) == len(set(prompts))


def test_after_the_warm_up_an_example_is_a_cache_hit_equal_to_a_plain_forward(lm, fresh_site):
    examples = [state.PRESETS["Capital of France"], state.PRESETS["Emoji"]]
    startup.warm_up(models.EMBEDDED_MODEL, examples)
    assert [background for _, background in fresh_site] == [True, True]  # the worker's lowest priority
    fresh_site.clear()
    for text in examples:
        ids = tuple(tokens.tokenize_prompt(lm, text).ids)
        shown = state.cached_analysis(models.EMBEDDED_MODEL, ids)  # what a page asks for
        with torch.inference_mode():
            reference = lm.model(torch.tensor([ids])).logits[0, -1].numpy()
        np.testing.assert_allclose(shown.last_logits, reference, atol=1e-4, rtol=1e-5)
    assert fresh_site == []  # no forward: both were cache hits


def test_start_warm_up_runs_once_in_the_background_and_only_when_asked(lm, fresh_site, monkeypatch):
    monkeypatch.setattr(startup, "_warm_up_started", threading.Event())
    monkeypatch.setattr(startup, "warm_up_finished", threading.Event())
    monkeypatch.setattr(startup, "warm_up_prompts", lambda: [state.PRESETS["French"]])
    monkeypatch.setattr(state, "_loaded_models", {models.EMBEDDED_MODEL})
    monkeypatch.setenv(startup.WARMUP_ENV, "0")
    startup.start_warm_up()
    assert not startup._warm_up_started.is_set()
    monkeypatch.setenv(startup.WARMUP_ENV, "1")
    startup.start_warm_up()
    startup.start_warm_up()  # a second page run starts nothing more
    assert startup.warm_up_finished.wait(300)
    ids = tuple(tokens.tokenize_prompt(lm, state.PRESETS["French"]).ids)
    assert fresh_site == [(ids, True)]


def test_the_first_page_served_with_the_model_freezes_the_long_lived_objects(monkeypatch):
    """Streamlit collects garbage after every run: frozen objects (the model, the libraries) are
    no longer walked each time."""
    monkeypatch.setattr(startup, "_heap_frozen", threading.Event())
    monkeypatch.setattr(startup, "_warm_up_started", threading.Event())
    monkeypatch.setenv(startup.WARMUP_ENV, "0")
    gc.unfreeze()
    monkeypatch.setattr(state, "_loaded_models", set())
    startup.start_warm_up()  # no model loaded yet: a later run freezes
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(state, "_loaded_models", {models.EMBEDDED_MODEL})
    startup.start_warm_up()
    assert gc.get_freeze_count() > 100_000 and startup._heap_frozen.is_set()
    assert len(gc.get_objects()) < gc.get_freeze_count()  # what a collection still walks


_EXIT_MID_WARM_UP = """
import sys, time
from explain.engine import inference_queue, models
from ui import startup, state

state.get_model(models.EMBEDDED_MODEL)
state._loaded_models.add(models.EMBEDDED_MODEL)
startup.warm_up_prompts = lambda: [f"Prompt number {i} of a long warm-up is about" for i in range(200)]
worker = inference_queue.shared()
startup.start_warm_up()
while len(worker.batch_sizes) < 2:  # the warm-up is under way: its next forward is (almost) running
    time.sleep(0.001)
print("exiting after", len(worker.batch_sizes), "forwards", flush=True)
"""


def test_a_process_that_exits_during_the_warm_up_exits_cleanly():
    """The warm-up and the inference worker are daemon threads inside torch: the exit must stop
    them first, or the process aborts ("terminate called without an active exception")."""
    env = {"PATH": "/usr/bin:/bin", "LLM_EXPLAINER_WARMUP": "1", "HF_HUB_OFFLINE": "1",
           "HOME": os.environ.get("HOME", "/root")} | {
        key: os.environ[key] for key in ("LLM_EXPLAINER_CACHE", "LLM_EXPLAINER_THREADS") if key in os.environ}
    done = subprocess.run([sys.executable, "-c", _EXIT_MID_WARM_UP], capture_output=True, text=True,
                          timeout=600, env=env, cwd=Path(__file__).resolve().parents[1])
    assert "terminate called" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]
    assert "exiting after" in done.stdout
    assert re.search(r"warm-up: stopped after \d+ of 200 prompts", done.stderr), done.stderr[-2000:]


def test_the_worker_shuts_down_after_the_forward_in_progress_and_fails_the_rest(tiny_llama, monkeypatch):
    from explain.engine import inference_queue

    worker = inference_queue.InferenceQueue()
    started, release = threading.Event(), threading.Event()
    original = analysis.analyze_batch

    def slow(lm_, batch):
        started.set()
        release.wait(60)
        return original(lm_, batch)

    monkeypatch.setattr(analysis, "analyze_batch", slow)
    running = worker.submit(tiny_llama, [1, 2, 3])
    assert started.wait(60)
    waiting = worker.submit(tiny_llama, [4, 5], background=True)
    stopping = threading.Thread(target=worker.shutdown)
    stopping.start()
    deadline = time.monotonic() + 60
    while worker._jobs.qsize() < 2 and time.monotonic() < deadline:  # the STOP is queued too
        time.sleep(0.001)
    release.set()
    stopping.join(60)
    assert worker.shutdown(timeout=1)  # idempotent; the worker has ended
    assert running.result().ids == [1, 2, 3]  # the forward in progress finished
    with pytest.raises(inference_queue.WorkerStopped):
        waiting.result(timeout=1)
    with pytest.raises(inference_queue.WorkerStopped):
        worker.submit(tiny_llama, [6]).result(timeout=1)
