"""The soak bench's pure helpers (tools/site_bench.py): what a learner changes next, and the memory keys."""

from __future__ import annotations

import random

from tools.site_bench import PAGES, SOAK_PROMPTS, SOAK_SLIDERS, rss_summary, soak_action


def test_a_learner_moves_only_sliders_the_page_showed_and_otherwise_switches_page_or_prompt():
    rng = random.Random(0)
    shown = {label for label, _ in SOAK_SLIDERS["attention"][:1]}
    actions = [soak_action(rng, "attention", shown) for _ in range(400)]
    kinds = {kind for kind, _ in actions}
    assert kinds == {"slider", "page", "prompt"}
    for kind, value in actions:
        if kind == "slider":
            label, moved_to = value
            assert label in shown and moved_to in dict(SOAK_SLIDERS["attention"])[label]
        elif kind == "page":
            assert value in PAGES and value != "attention"
        else:
            assert value in SOAK_PROMPTS
    without_sliders = {soak_action(rng, "home", {"Temperature"})[0] for _ in range(200)}
    assert without_sliders == {"page", "prompt"}  # Home has no SOAK_SLIDERS, whatever it shows


def test_the_memory_keys_take_the_last_sample_of_each_minute_and_the_drift_from_the_start_and_from_warm():
    samples = [(0.5, 1000.0), (59.0, 1040.0), (61.0, 1100.0), (119.0, 1060.0), (125.0, 1030.4), (179.0, 1045.0)]
    summary = rss_summary(1010.0, samples, warm_s=120)
    assert summary == {"rss_start_mb": 1010, "rss_end_mb": 1045, "rss_max_mb": 1100, "rss_drift_mb": 35,
                       "rss_per_minute_mb": [1040, 1060, 1045], "rss_warm_mb": 1030, "rss_drift_from_warm_mb": 15}
    assert rss_summary(900.0, [])["rss_end_mb"] == 900
    short = rss_summary(900.0, samples[:3], warm_s=120)  # ended before it was warm: no second baseline
    assert short["rss_warm_mb"] is None and short["rss_drift_from_warm_mb"] is None
