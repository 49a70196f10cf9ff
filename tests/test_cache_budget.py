"""The analysis cache's byte budget: sizes measured from real analyses, eviction, one compute per key."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from explain.engine.analysis import PromptAnalysis, analyze_batch
from explain.cache_budget import ANALYSIS_CACHE_MB, AnalysisCache, analysis_bytes, worst_case_bytes


def _analysis(n_tokens: int) -> PromptAnalysis:
    return PromptAnalysis(ids=list(range(n_tokens)), attentions=np.zeros((2, 3, n_tokens, n_tokens), np.float32),
                          hidden_states=np.zeros((3, n_tokens, 8), np.float32),
                          last_logits=np.zeros(10, np.float32))


def test_the_size_counts_every_array_byte_and_matches_the_formula(tiny_llama):
    with torch.inference_mode():
        result = analyze_batch(tiny_llama, [[1, 2, 3, 4, 5]])[0]
    config = tiny_llama.model.config
    arrays = sum(a.nbytes for a in (result.attentions, result.hidden_states, result.last_logits))
    assert arrays == 4 * (3 * 4 * 25 + 4 * 5 * 64 + 96)
    assert analysis_bytes(result) >= arrays
    assert worst_case_bytes(config.num_hidden_layers, config.num_attention_heads, config.hidden_size,
                            config.vocab_size, 5) == analysis_bytes(result)


def test_the_budget_holds_a_class_of_short_prompts_but_few_at_the_cap():
    budget = ANALYSIS_CACHE_MB * 2**20
    smollm2 = dict(n_layer=30, n_head=9, d_model=576, vocab=49152)
    assert budget // worst_case_bytes(**smollm2, n_tokens=32) >= 30
    assert budget // worst_case_bytes(**smollm2, n_tokens=256) == 1


def test_least_recently_used_entries_go_first_and_the_total_stays_in_budget():
    one = analysis_bytes(_analysis(4))
    cache = AnalysisCache(budget_bytes=2 * one + one // 2)
    for key in "abc":
        cache.get(key, lambda: _analysis(4))
        if key == "b":
            cache.get("a", lambda: pytest.fail("a is cached"))  # a is now the most recent
    assert len(cache) == 2 and cache.bytes <= cache.budget_bytes
    cache.get("a", lambda: pytest.fail("a was used last, b should have gone"))
    fresh = _analysis(4)
    assert cache.get("b", lambda: fresh) is fresh  # b was evicted, so it is computed again
    huge = _analysis(40)
    assert cache.get("huge", lambda: huge) is huge and len(cache) == 2  # bigger than the budget


def test_concurrent_requests_for_one_key_compute_it_once_and_errors_are_not_cached():
    cache = AnalysisCache(budget_bytes=10 * 2**20)
    calls = []

    def slow():
        calls.append(threading.current_thread().name)
        time.sleep(0.2)
        return _analysis(3)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: cache.get("same", slow), range(8)))
    assert len(calls) == 1 and all(r is results[0] for r in results)

    def fails():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get("bad", fails)
    assert cache.get("bad", lambda: _analysis(2)).ids == [0, 1]
