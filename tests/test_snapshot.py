import pytest

from explain.snapshot import DEFAULT_PROMPT, build_snapshot, load_snapshot


def test_shipped_snapshot_matches_the_live_model(lm):
    shipped = load_snapshot()
    assert shipped is not None, "run `python -m tools.build_snapshot` to write it"
    live = build_snapshot(lm, DEFAULT_PROMPT)
    assert shipped.prompt == DEFAULT_PROMPT
    assert (shipped.tokens, shipped.ids, shipped.top_tokens) == (live.tokens, live.ids, live.top_tokens)
    assert shipped.top_probs == pytest.approx(live.top_probs, abs=1e-5)
    assert shipped.continuation == live.continuation
    assert (shipped.n_params, shipped.n_layer, shipped.n_head) == (live.n_params, live.n_layer, live.n_head)


def test_missing_or_broken_snapshot_is_none(tmp_path):
    assert load_snapshot(tmp_path / "missing.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert load_snapshot(broken) is None
