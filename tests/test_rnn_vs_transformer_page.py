"""The RNN vs Transformer page: AppTest (presets, odd prompts, widgets) and a real browser."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from streamlit.testing.v1 import AppTest

from explain.small_models import checkpoints, compare
from explain.small_models.vocab import split_words_keep
from tests import pages
from tests.pages import chart
from ui import rnn_vs_transformer as ui
from ui.state import DEFAULT_PROMPT

PAGE = "views/rnn_vs_transformer.py"

pytestmark = pytest.mark.skipif(not checkpoints.METRICS_PATH.is_file(), reason="no shipped models")


def run_page(prompt: str | None, **state) -> AppTest:
    return pages.run_page(PAGE, prompt, timeout=180, **state)



def text_of(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def test_default_story_prompt_shows_both_models_and_the_big_one():
    at = run_page(ui.PRESETS["Story opening"])
    assert not at.exception
    models = compare.load_small_models()
    ids = compare.prompt_words(models.vocab, ui.PRESETS["Story opening"]).ids
    lstm, gpt = compare.next_words(models, "lstm", ids), compare.next_words(models, "gpt", ids)
    bars = chart(at, "rvt_bars")["data"]
    assert bars[0]["customdata"] == lstm.words and bars[1]["customdata"] == gpt.words
    assert bars[0]["x"] == pytest.approx(lstm.probs) and bars[1]["x"] == pytest.approx(gpt.probs)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["LSTM's top word"] == f"{lstm.words[0]} · {lstm.probs[0]:.0%}"
    assert metrics["Transformer's top word"] == f"{gpt.words[0]} · {gpt.probs[0]:.0%}"
    assert "The live SmolLM2's next token" in metrics
    for key in ("rvt_bars", "rvt_hidden", "rvt_attention", "rvt_occlusion", "rvt_context", "rvt_training",
                "rvt_probe", "rvt_steps"):
        assert chart(at, key)["data"], key
        title = chart(at, key)["layout"]["title"]  # issue 20.10: a saved PNG says what it shows
        assert title["text"] and title["subtitle"]["text"].endswith(("two small models", "held-out stories")), key
    p = models.metrics["parameters"]
    assert f"{p['lstm']:,} parameters" in text_of(at) and f"{p['gpt']:,} parameters" in text_of(at)


def vocabulary() -> set[str]:
    return set(json.loads(checkpoints.VOCAB_PATH.read_text())["itos"])


@pytest.mark.parametrize("preset", list(ui.PRESETS))
def test_presets_use_only_words_in_the_small_models_vocabulary(preset):
    words = split_words_keep(ui.PRESETS[preset])
    assert words and [w for w in words if w not in vocabulary()] == []


def test_default_prompt_says_which_words_are_read_as_unknown_next_to_the_result():
    unknown = [w for w in split_words_keep(DEFAULT_PROMPT) if w not in vocabulary()]
    assert unknown  # 'capital', 'france': the site's default prompt is not a story prompt
    at = run_page(DEFAULT_PROMPT)
    assert not at.exception
    near_result = [c.value for c in at.caption if "actually read" in c.value]
    assert len(near_result) == 1 and all(f"'{w}'" in near_result[0] for w in unknown)
    read = " ".join("⟨unk⟩" if w in unknown else w for w in split_words_keep(DEFAULT_PROMPT))
    assert read in near_result[0]
    html = "".join(pages.page_html(at))
    assert html.count("⟨unk⟩") >= 2 * len(unknown)  # both continuations start from what was read


def test_measured_lesson_states_what_was_measured():
    at = run_page(ui.PRESETS["A name far back"])
    assert not at.exception
    text = text_of(at)
    m = json.loads(checkpoints.METRICS_PATH.read_text())
    cov, h = m["heldout"]["coverage"], m["heldout"]
    assert f"all {cov['stories']} held-out stories" in text
    assert f"{cov['targets']:,} predictions per model" in text
    assert f"{cov['context']} words before it" in text
    for kind in ("lstm", "gpt"):
        assert f"**{h[kind]['heldout_loss']:.3f}**" in text
        assert f"top-1 right {h[kind]['heldout_accuracy']:.1%}" in text
    assert "Honest note" not in text and "Only " not in text and "hover" not in text
    assert "**320 numbers** in all" in text
    assert f"{m['corpus']['curve_sample']['first_ids']:,} words (and story markers)" in text


@pytest.mark.parametrize("group", list(ui.PROBE_LABELS))
def test_probe_chart_shows_the_chosen_group_with_readable_ticks(group):
    at = run_page("Lily had a red ball", rvt_probe_group=group)
    assert not at.exception
    m = json.loads(checkpoints.METRICS_PATH.read_text())
    probe = chart(at, "rvt_probe")
    for trace, kind in zip(probe["data"], ("lstm", "gpt")):
        assert trace["y"] == m["heldout"][kind]["distance_probe"][group]["mean_prob"]
    axis = probe["layout"]["yaxis"]
    assert max(y for t in probe["data"] for y in t["y"] if y is not None) <= axis["range"][1]
    assert len(set(tick_labels(axis))) == len(tick_labels(axis)) >= 3


def tick_labels(axis: dict) -> list[str]:
    """The labels Plotly prints for a linear axis with tick0 = 0, dtick and a d3 '.N%' format."""
    decimals = int(axis["tickformat"].strip(".%"))
    n = int(axis["range"][1] / axis["dtick"] + 1e-9) + 1
    return [f"{i * axis['dtick']:.{decimals}%}" for i in range(n)]


@pytest.mark.parametrize("top", [0.004, 0.012, 0.02, 0.06, 0.13, 0.5, 1.0])
def test_percent_axis_ticks_are_distinct_and_cover_the_range(top):
    axis = ui.percent_axis(top)
    labels = tick_labels(axis)
    assert 2 <= len(labels) <= 7 and len(set(labels)) == len(labels)
    assert labels[0].startswith("0")


def test_sequential_steps_chart_is_linear_and_counts_steps():
    at = run_page("Once upon a time")
    assert not at.exception
    steps = compare.sequential_steps(compare.load_small_models())
    drawn = chart(at, "rvt_steps")
    assert drawn["layout"]["xaxis"].get("type", "linear") == "linear"
    assert drawn["data"][0]["x"] == steps.lengths == list(range(1, 65))
    assert drawn["data"][0]["y"] == steps.lstm and drawn["data"][1]["y"] == steps.gpt
    assert f"**{steps.lstm[-1]} steps one after another**" in text_of(at)
    assert " ms" not in text_of(at)  # no wall-clock timing on the page


@pytest.mark.parametrize("preset", list(ui.PRESETS))
def test_every_preset_runs(preset):
    at = run_page(None)
    at.selectbox(key="rvt_preset").set_value(preset).run()
    assert not at.exception
    assert at.session_state["prompt"] == ui.PRESETS[preset]


def test_greedy_and_sampled_continuations():
    at = run_page("Once upon a time", rvt_mode="sampled (shared seed)", rvt_seed=11)
    assert not at.exception
    models = compare.load_small_models()
    ids = compare.prompt_words(models.vocab, "Once upon a time").ids
    sampled = compare.continue_words(models, "gpt", ids, seed=11)
    html = "".join(pages.page_html(at))
    from explain.small_models.vocab import join_words

    words = compare.prompt_words(models.vocab, "Once upon a time").words
    tail = join_words(words + sampled)[len(join_words(words)):]
    assert f">{tail}</b>" in html.replace("&quot;", '"').replace("&#x27;", "'")
    assert join_words(words + sampled).startswith("Once upon a time")


@pytest.mark.parametrize("prompt", ["", "   \n "])
def test_empty_prompt_gets_a_hint(prompt):
    at = run_page(prompt)
    assert not at.exception
    assert any("Type a prompt" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_all_unknown_words_and_hostile_text_are_safe():
    at = run_page("<script>alert(1)</script> 今天 🍕 xyzzy <img src=x onerror=alert(2)>")
    assert not at.exception
    assert any("None of these words" in w.value for w in at.warning) or \
        any("not in the vocabulary" in c.value for c in at.caption)
    html = "".join(pages.page_html(at))
    assert "<script" not in html and "<img" not in html
    assert "&lt;" in html and "xyzzy" in html and "🍕" in html


def test_long_prompt_is_cut_with_a_notice():
    at = run_page("the dog ran to the park . " * 30)
    assert not at.exception
    assert any("read only the last 63" in w.value for w in at.warning)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1440, 390])
def test_page_in_a_real_browser(site, browser, width):
    from tests.browser import ARTIFACTS, open_page, wait_until_idle

    # Opened from Home and reached through the navigation, as a visitor would: the shared prompt
    # from the URL is kept in the sidebar widget across the page switch.
    prompt = quote(ui.PRESETS["A name far back"])
    context, page, blocked = open_page(browser, f"{site}/?prompt={prompt}", width=width,
                                       height=3000)
    try:
        if width < 600:  # the sidebar starts collapsed on a phone
            page.locator('[data-testid="stExpandSidebarButton"]').first.click()
        page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="RNN vs Transformer").click()
        page.wait_for_timeout(300)
        wait_until_idle(page)
        if width < 600 and page.locator('[data-testid="stSidebarCollapseButton"]').count():
            page.locator('[data-testid="stSidebarCollapseButton"] button').first.click()
            page.wait_for_timeout(500)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_role("heading", name="RNN vs Transformer").is_visible()
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 8
        bars = page.locator('[data-testid="stPlotlyChart"]').first.text_content() or ""
        assert "LSTM (recurrent)" in bars and "Transformer" in bars and "%" in bars
        assert "lily" in page.locator('[data-testid="stHtml"]').first.text_content()
        charts = page.locator('[data-testid="stPlotlyChart"]')
        probe_ticks = charts.nth(6).locator(".ytick text").all_text_contents()
        assert len(probe_ticks) >= 3 and len(set(probe_ticks)) == len(probe_ticks)  # not 0%,1%,1%
        step_ticks = [int(t) for t in charts.nth(7).locator(".xtick text").all_text_contents()]
        assert len({b - a for a, b in zip(step_ticks, step_ticks[1:])}) == 1  # a linear axis
        page.screenshot(path=str(ARTIFACTS / f"rnn_vs_transformer-{width}.png"), full_page=True)
        assert not [url for url in blocked if "/_stcore/" in url]
    finally:
        context.close()


def test_predict_then_reveal_hides_both_models_until_revealed():
    at = run_page("the little girl was very", rvt_game=True)
    assert not at.exception and not at.get("plotly_chart")
    at.text_input(key="rvt_guess").set_value("happy").run()
    assert not at.get("plotly_chart")
    at.button(key="rvt_reveal").click().run()
    assert not at.exception and at.get("plotly_chart")
    models = compare.load_small_models()
    ids = compare.prompt_words(models.vocab, "the little girl was very").ids
    for kind in ("lstm", "gpt"):
        score = compare.guess_score(models.vocab, compare.next_words(models, kind, ids), "happy")
        assert any(f"**{ui.NAMES[kind]}**" in s.value and f"**{score.prob:.2%}**" in s.value for s in at.success)


def test_a_new_prompt_empties_the_guess_and_hides_the_answer_again():
    at = run_page("the little girl was very", rvt_game=True)
    at.text_input(key="rvt_guess").set_value("happy").run()
    at.button(key="rvt_reveal").click().run()
    assert at.get("plotly_chart") and at.success
    at.session_state["prompt"] = "the dog ran to the"
    at.run()
    assert not at.exception
    assert at.text_input(key="rvt_guess").value == ""
    assert not at.get("plotly_chart") and not at.success and not at.metric


def test_page_in_spanish_says_the_small_models_read_english():
    at = run_page(ui.PRESETS["The red ball"], lang="es")
    assert not at.exception
    assert at.title[0].value == "🔁 RNN frente a Transformer"
    assert any("solo aprendieron inglés" in i.value for i in at.info)
    assert [h.value for h in at.header][0] == "1 · Lado a lado: la palabra siguiente"
    bars = chart(at, "rvt_bars")
    assert bars["layout"]["separators"] == ",."  # decimal comma, full-stop thousands
    assert "Transformer" in json.dumps(bars["layout"]["annotations"])
    assert "Mostrar como tabla" in [e.label for e in at.expander]
    # The prompt stays English: the same words, the same predictions as in English.
    models = compare.load_small_models()
    lstm = compare.next_words(models, "lstm", compare.prompt_words(models.vocab, ui.PRESETS["The red ball"]).ids)
    assert chart(at, "rvt_bars")["data"][0]["customdata"] == lstm.words


def test_every_chart_has_a_sentence_and_a_table():
    at = run_page(ui.PRESETS["The shiny key"])
    assert not at.exception
    assert len([e for e in at.expander if e.label == "Show as table"]) == len(at.get("plotly_chart")) == 8
    models = compare.load_small_models()
    ids = compare.prompt_words(models.vocab, ui.PRESETS["The shiny key"]).ids
    lstm, gpt = compare.next_words(models, "lstm", ids), compare.next_words(models, "gpt", ids)
    summary = next(c.value for c in at.caption if "most likely next word" in c.value)
    assert f"“{lstm.words[0]}” at {lstm.probs[0]:.1%}" in summary and f"“{gpt.words[0]}” at {gpt.probs[0]:.1%}" in summary
    assert len(at.table) == 8


def test_the_link_restores_the_controls():
    at = AppTest.from_file(pages.APP, default_timeout=180)
    for key, value in {"prompt": "Lily had a red ball", "rvt_mode": "sampled (shared seed)", "rvt_seed": "11",
                       "rvt_probe_group": "places"}.items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert at.radio(key="rvt_mode").value == "sampled (shared seed)" and at.number_input(key="rvt_seed").value == 11
    assert at.radio(key="rvt_probe_group").value == "places"
