"""The start-up warm-up: after it, the examples' and lesson steps' analyses are cache hits."""

from __future__ import annotations

import gc
import threading

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
