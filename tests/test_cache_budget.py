"""Cache budgets: the analysis cache by bytes (sizes from real analyses, eviction, one compute per
key), and every other cache's worst entry × its entry count within its MB budget (explain/limits.py)."""

from __future__ import annotations

import pickle
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from explain import limits
from explain.engine.analysis import PromptAnalysis, analyze_batch
from explain.cache_budget import ANALYSIS_CACHE_MB, AnalysisCache, analysis_bytes, worst_case_bytes

ROOT = Path(__file__).resolve().parents[1]


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


def test_peek_returns_only_what_is_cached_and_counts_as_a_use():
    """Home's continuation peeks for the prompt's analysis (to skip its prefill): it never computes one."""
    one = analysis_bytes(_analysis(4))
    cache = AnalysisCache(budget_bytes=2 * one + one // 2)
    assert cache.peek("a") is None and len(cache) == 0
    kept = cache.get("a", lambda: _analysis(4))
    cache.get("b", lambda: _analysis(4))
    assert cache.peek("a") is kept  # a is now the most recent, so b goes first
    cache.get("c", lambda: _analysis(4))
    assert cache.peek("b") is None and cache.peek("a") is kept


# ---------------------------------------------------------------------------------------------
# Every other cache: its worst entry × its entry count within its MB budget (explain/limits.py)

MB = 2**20
SOURCES = sorted((ROOT / "ui").glob("*.py")) + sorted((ROOT / "views").glob("*.py"))
DECORATOR = re.compile(r"@st\.cache_(data|resource)(?:\((.*?)\))?\s*\n\s*def (\w+)", re.S)
# Caches the table below does not measure: what every page needs once (outside the growth allowance,
# inside the RSS after every page), and the two stores whose entries are budgeted themselves.
BASELINE = {
    "get_model": "MODEL",  # the loaded models themselves (≈ 540 MB for SmolLM2)
    "cached_index": "EMBEDDING_INDEX",  # one per model: a view of its matrix and its row norms
    "cached_position_scheme": "POSITION_SCHEME",  # one per model
    "cached_encoder": "ENCODER_MODEL",  # the encoder demo's MiniLM weights
    "cached_anatomy": "MODEL",  # one per model: its parts and sizes (a few hundred numbers)
    "cached_parameter_shares": "MODEL",  # one per model: a few numbers
    "cached_layout": "MODEL",  # one per model: its query and key/value heads
    "small_models": None,  # no arguments: the two small word models, loaded once
    "all_lessons": None,  # no arguments: the lessons' TOML, read once
    "shipped_results": None,  # no arguments: the hallucination page's shipped answers, read once
    "_analysis_cache": None,  # the byte-bounded AnalysisCache above (ANALYSIS_CACHE_MB)
    "_store": None,  # ui/drawn's shared figures and tables, an AnalysisCache bounded by DRAWN_CACHE_MB
    "results": None,  # no arguments: the one ResultStore, whose entries are measured below (RESULT_STORE)
}
LONG_TEXT = ("Tokenization splits unbelievable words into pieces, and the model reads every one of them "
             "before it guesses what comes next. ") * 200  # past PROMPT_CHAR_CAP: cut by characters, then tokens
CJK_TEXT = "今天天气很好，我们去公园散步，然后吃冰淇淋🍦。" * 1000  # many byte pieces per character


def _decorated() -> dict[str, tuple[str, str | None, str | None]]:
    """function name → (cache kind, the cache named by its max_entries, the cache named by its
    max_size, or None), from the source of ui/ and views/."""
    found = {}
    for path in SOURCES:
        for kind, arguments, name in DECORATOR.findall(path.read_text()):
            entries = re.search(r"max_entries=limits\.(\w+?)_CACHE_ENTRIES", arguments or "")
            size = re.search(r'max_size=f"\{limits\.(\w+?)_CACHE_MB\}MB"', arguments or "")
            found[name] = (kind, entries and entries.group(1), size and size.group(1))
    return found


def _by_bytes() -> set[str]:
    """The caches bounded by their MB budget itself (`max_size=`), not only by their entry count."""
    return {size for _, _, size in _decorated().values() if size}


def _limits(suffix: str) -> dict[str, int | float]:
    """limits' cache constants ending in `suffix` ("ENTRIES", "MB"), by cache (ResultStore included)."""
    names = {name: name[: -len(suffix) - 1] for name in dir(limits) if name.endswith("_" + suffix)}
    return {cache.removesuffix("_CACHE"): getattr(limits, name) for name, cache in names.items()
            if cache.endswith("_CACHE") or cache == "RESULT_STORE"}


def test_every_entry_count_has_an_mb_budget_and_the_budgets_fit_the_growth_allowance():
    counted, budgets = _limits("ENTRIES"), _limits("MB")
    missing = set(counted) - set(budgets) - set(BASELINE.values())
    assert not missing, f"entry counts without an MB budget: {sorted(missing)}"
    assert set(budgets) == set(CASES) | {"ANALYSIS", "DRAWN"}  # each measured below, or bounded by its bytes
    total = sum(budgets.values())  # the analyses' ANALYSIS_CACHE_MB included
    assert total <= limits.GROWTH_ALLOWANCE_MB, f"{total} MB of caches"


def test_every_cache_in_the_site_is_measured_or_named_as_baseline():
    from ui import attention, embeddings, inside_layer, softmax

    decorated = _decorated()
    assert len(decorated) >= 40  # the pattern still finds the decorators
    for name, (kind, constant, size) in decorated.items():
        if name in BASELINE:
            assert constant == BASELINE[name] or constant is None, name
        else:
            assert kind == "data" and constant in CASES, f"{name}: no measured budget ({kind}, {constant})"
            assert size in (None, constant), f"{name}: max_size names another cache's budget"
    assert {constant for _, constant, _ in decorated.values()} >= set(CASES) - {"RESULT_STORE"}
    # Streamlit reads "4MB" as 4 × 2**20 bytes: the bound it enforces is the budget.
    functions = {"HEAD_VIEW": attention.cached_head_view, "MODEL_VIEW": attention.cached_model_view,
                 "SINUSOIDS": embeddings.cached_sinusoids, "ENCODER_ATTENTION": inside_layer.cached_encoder_attention,
                 "WRITING_ATTENTION": inside_layer.cached_writing, "CHAIN_LOGITS": softmax.cached_chain_logits}
    assert set(functions) == _by_bytes()
    for name, function in functions.items():
        assert function._info.max_size_bytes == getattr(limits, f"{name}_CACHE_MB") * MB, name


@pytest.fixture(scope="module")
def worst(lm):
    """The largest inputs a visitor can send: prompts at the token cap, in English and in Chinese with emoji."""
    from ui import state

    prompts = [state._prompt_tokens._info.func(lm, text) for text in (LONG_TEXT, CJK_TEXT)]
    assert all(len(p.ids) == limits.PROMPT_TOKEN_CAP for p in prompts)
    return SimpleNamespace(lm=lm, prompts=prompts, ids=tuple(prompts[0].ids))


def _results_store_entries(w) -> list:
    """The ResultStore's kinds (ui/sampling.py) at their largest settings: (key, value) pairs. The
    keys hold the prompt's ids (at the cap); the values only what was generated (written after a
    short prompt, which is quicker), except the greedy continuation's, which holds the prompt's ids
    too and is assembled for the long prompt as ui.sampling.greedy_stream does."""
    from explain import generation
    from explain.sampling import SamplingSettings
    from ui import sampling

    lm, ids, short = w.lm, w.ids, list(w.ids[:8])
    settings = SamplingSettings(temperature=1.0, top_k=50, top_p=0.9)
    steps = list(generation.generate_steps_stream(generation.IncrementalLogits(lm), short, settings, 10, 0, 1))
    samples = generation.sample_continuations_batch(lm, short, list(sampling.COMPARED.values()), 3, 15, 0)
    new_ids, probs, _ = generation.greedy_ids(lm, short, 20)
    return [
        (("steps", lm.name, ids, settings, 10, 0, 1), steps),  # "Generate 10"
        *((sampling.samples_key(lm.name, ids, s, 3, 15, 0), value) for s, value in zip(sampling.COMPARED.values(), samples)),
        (sampling.beam_key(lm.name, ids, 4, 6), generation.beam_search(lm, short, 4, 6)),  # the sliders' maxima
        (("greedy", lm.name, ids, 20), generation.continuation_of(lm, list(ids), new_ids, probs)),  # Home's
    ]


def _worst_entries(name: str, w) -> list:
    """Candidates for the largest entry of cache `name` (its limits prefix), as the cache would store them."""
    from explain import bpe, hallucination as hal
    from explain.small_models import compare
    from ui import attention, embeddings, inside_layer, rnn_vs_transformer, sampling, softmax, state, tokenization

    lm, ids, texts = w.lm, w.ids, [p.text for p in w.prompts]
    labels = tuple(attention.token_label(p) for p in w.prompts[0].pieces[: limits.VIEW_CAP])
    small_ids = tuple(compare.prompt_words(rnn_vs_transformer.small_models().vocab, LONG_TEXT).ids)
    corpus = LONG_TEXT[: bpe.MAX_CORPUS_CHARS]
    short = list(ids[:8])
    f = {  # each cache's own function, uncached (`_info.func`)
        "PROMPT_TOKENS": lambda: [state._prompt_tokens._info.func(lm, t) for t in (LONG_TEXT, CJK_TEXT)],
        "CONTINUATION": lambda: [state._greedy_continuation._info.func(lm, ids, hal.MAX_NEW_TOKENS)],
        "LANGUAGE_COST": lambda: [state.cached_language_cost._info.func(lm, lang) for lang in ("es", "fr", "zh")],
        "LABEL_PROBS": lambda: [sampling.cached_label_probs._info.func(lm, "Great film!", (" positive", " negative"))],
        "WORD_VECTOR": lambda: [embeddings.cached_word_vector._info.func(lm, t[:60], True) for t in (LONG_TEXT, CJK_TEXT)],
        "COMMON_WORDS": lambda: [embeddings.cached_common_words._info.func(lm, 300)],
        "LOCATE_WORD": lambda: [embeddings.cached_locate_word._info.func(lm, ("the cat " * 60)[:400], "cat")],
        "SINUSOIDS": lambda: [embeddings.cached_sinusoids._info.func(200, lm.model.config.hidden_size)],
        "RESIDUAL_TRACE": lambda: [inside_layer.cached_trace._info.func(lm, ids)],
        "STREAM_READOUT": lambda: [inside_layer.cached_readout._info.func(lm, ids)],
        "ROPE_DEMO": lambda: [inside_layer.cached_rope._info.func(lm, ids, 29, 8, len(ids) - 1, 0)],
        "ENCODER_ATTENTION": lambda: [inside_layer.cached_encoder_attention._info.func(t) for t in (LONG_TEXT, CJK_TEXT)],
        "WRITING_ATTENTION": lambda: [inside_layer.cached_writing._info.func(lm, ids, 24)],
        "HEAD_STATISTICS": lambda: [attention.cached_statistics._info.func(lm, ids)],
        "ATTENTION_SCORES": lambda: [attention.cached_scores._info.func(lm, ids, 29)],
        "HEAD_VIEW": lambda: [attention.cached_head_view._info.func(lm, ids, labels, 29, 1.0)],
        "MODEL_VIEW": lambda: [attention.cached_model_view._info.func(lm, ids, labels, tuple(range(24, 30)))],
        "LOGIT_LENS": lambda: [softmax.cached_lens._info.func(lm, ids)],
        "POSITION_PREDICTIONS": lambda: [softmax.cached_positions._info.func(lm, ids)],
        "CHAIN_LOGITS": lambda: [softmax.cached_chain_logits._info.func(lm, ids, ids[: limits.WORD_TOKEN_CAP])],
        "PROMPT_SPANS": lambda: [tokenization.cached_spans._info.func(lm, tuple(p.ids)) for p in w.prompts],
        "TOKENIZER_COMPARISON": lambda: [tokenization.cached_comparison._info.func(lm, t) for t in texts],
        "SAMPLE_COUNTS": lambda: [tokenization.cached_sample_counts._info.func(lm)],
        "SENTENCE_COSTS": lambda: [tokenization.cached_language_costs._info.func(lm)],
        "BPE_REPLAY": lambda: [tokenization.cached_replay._info.func(lm, t[: bpe.MAX_WORD_CHARS]) for t in
                               ("antidisestablishmentarianism" * 3, CJK_TEXT)],
        "TRAINED_BPE": lambda: [tokenization.cached_training._info.func(corpus, bpe.MAX_TRAIN_VOCAB)],
        "TRAINED_TOKENIZE": lambda: [tokenization.cached_trained_tokenize._info.func(
            tokenization.cached_training._info.func(corpus, bpe.MAX_TRAIN_VOCAB).tokenizer_json, corpus)],
        "SMALL_NEXT_WORDS": lambda: [rnn_vs_transformer.cached_next_words._info.func(k, small_ids) for k in ("lstm", "gpt")],
        "SMALL_CONTINUATION": lambda: [rnn_vs_transformer.cached_continuation._info.func(k, small_ids, 0)
                                       for k in ("lstm", "gpt")],
        "SMALL_RNN_TRACE": lambda: [rnn_vs_transformer.cached_rnn_trace._info.func(small_ids)],
        "SMALL_ATTENTION": lambda: [rnn_vs_transformer.cached_attention._info.func(small_ids)],
        "SMALL_OCCLUSION": lambda: [rnn_vs_transformer.cached_occlusion._info.func(k, small_ids) for k in ("lstm", "gpt")],
        # views/hallucinations.py's caches. They keep only what was generated (as LABEL_PROBS keeps
        # two floats), never the prompt, so a short prompt's entry is as large and quicker to make.
        "REROLL": lambda: [hal.reroll(lm, short, seed=0)],
        "TEMPERATURE_SWEEP": lambda: [hal.temperature_sweep(lm, short)],
        "RESULT_STORE": lambda: _results_store_entries(w),
    }
    return f[name]()


CASES = ("PROMPT_TOKENS CONTINUATION LANGUAGE_COST LABEL_PROBS WORD_VECTOR COMMON_WORDS LOCATE_WORD SINUSOIDS "
         "RESIDUAL_TRACE STREAM_READOUT ROPE_DEMO ENCODER_ATTENTION WRITING_ATTENTION HEAD_STATISTICS "
         "ATTENTION_SCORES HEAD_VIEW MODEL_VIEW LOGIT_LENS POSITION_PREDICTIONS CHAIN_LOGITS PROMPT_SPANS "
         "TOKENIZER_COMPARISON SAMPLE_COUNTS SENTENCE_COSTS BPE_REPLAY TRAINED_BPE TRAINED_TOKENIZE "
         "SMALL_NEXT_WORDS SMALL_CONTINUATION SMALL_RNN_TRACE SMALL_ATTENTION SMALL_OCCLUSION REROLL "
         "TEMPERATURE_SWEEP RESULT_STORE").split()


def stored_bytes(value: object) -> int:
    """What st.cache_data keeps for one entry: the pickled value."""
    return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


@pytest.mark.slow  # a few forwards and generations at the token cap each
@pytest.mark.parametrize("name", CASES)
def test_the_worst_entry_times_the_entry_count_fits_the_cache_budget(name, worst):
    """A count-bounded cache full of worst entries fits its budget; a byte-bounded one
    (`_by_bytes`, where Streamlit evicts by the budget) can hold at least one worst entry."""
    entries, budget = _limits("ENTRIES")[name], _limits("MB")[name]
    largest = max(stored_bytes(value) for value in _worst_entries(name, worst))
    kept = 1 if name in _by_bytes() else entries
    assert kept * largest <= budget * MB, f"{name}: {kept} × {largest / MB:.3f} MB > {budget} MB"
