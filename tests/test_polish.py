"""Classroom polish without a browser: export names and titles, the share list, the prompt bar, the
Sampling page's charts (titled with the prompt, PNGs named by page/chart/prompt, beam markers)."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from tests.pages import chart, chart_config, chart_keys, run_page
from ui import figures, share


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("The capital of France is", "sampling-filter-the-capital-of-france-is"),
        ("<script>alert(1)</script>", "sampling-filter-script-alert-1-script"),
        ("🍕🍕", "sampling-filter-prompt"),
        ("今天天气很好", "sampling-filter-今天天气很好"),
        ("word " * 100, "sampling-filter-" + ("word-" * 8)[:40].strip("-")),
    ],
)
def test_export_filename_names_page_chart_and_prompt(prompt, name):
    assert figures.export_filename("Sampling", "filter", prompt) == name
    config = figures.plotly_config("Sampling", "filter", prompt)
    assert config["toImageButtonOptions"] == {"format": "png", "scale": 2, "filename": name}
    assert "/" not in name and "." not in name


def test_export_title_carries_the_escaped_prompt_and_model_and_leaves_the_figure_alone():
    original = go.Figure(go.Bar(x=[1], y=[2]), layout=dict(height=300, margin=dict(t=30)))
    fig = figures.with_export_title(original, "Filter <b>", "<i>cat</i>\nsat " + "x" * 80, "SmolLM2")
    assert fig.layout.title.text == "Filter &lt;b&gt;"
    subtitle = fig.layout.title.subtitle.text
    assert subtitle.startswith("“&lt;i&gt;cat&lt;/i&gt; ⏎ sat x") and subtitle.endswith("…”<br>SmolLM2")
    assert len(subtitle) < 120
    assert fig.layout.margin.t == 30 + figures.EXPORT_TITLE_TOP_PX
    assert fig.layout.yaxis.automargin and fig.layout.xaxis.automargin
    assert original.layout.title.text is None  # a copy


@pytest.mark.parametrize(
    "title, lines",
    [
        ("The five most likely next tokens", ["The five most likely next tokens"]),
        ("¿Se transmite la información a lo largo del flujo residual?",
         ["¿Se transmite la información a lo largo", "del flujo residual?"]),
        ("Ce que chaque bloc écrit dans le flux\u00a0: la norme de la couche",
         ["Ce que chaque bloc écrit dans le flux\u00a0:", "la norme de la couche"]),  # ":" keeps to its word
        ("每个模块写入残差流的内容，以及方向是否一致", ["每个模块写入残差流的内容，以及方向是否一", "致"]),
        ("每个模块写入残差流的内容以及它们写入方向，是否一致", ["每个模块写入残差流的内容以及它们写入方向，", "是否一致"]),  # no line starts with "，"
        ("a" * 50 + " b", ["a" * 50, "b"]),
    ],
)
def test_long_titles_wrap_between_words_to_a_phone_s_width(title, lines):
    assert figures.wrapped_lines(title) == lines
    assert all(figures.columns(line) <= figures.EXPORT_TITLE_COLUMNS for line in lines if " " in line)


def test_a_wrapped_export_title_gets_the_room_of_its_lines():
    fig = figures.with_export_title(go.Figure(layout=dict(margin=dict(t=30))), "word " * 12, "今天" * 40, "SmolLM2")
    assert fig.layout.title.text.count("<br>") == 1
    assert fig.layout.margin.t == (30 + figures.EXPORT_TITLE_TOP_PX + figures.EXPORT_TITLE_LINE_PX
                                  + figures.WRAPPED_TITLE_DROP_PX)
    prompt_line = fig.layout.title.subtitle.text.split("<br>")[0]
    assert figures.columns(prompt_line) <= figures.EXPORT_PROMPT_COLUMNS + 2  # + the quotes


def test_share_list_is_read_from_the_link_and_escaped():
    lines = share.kept_lines({"prompt": "**bold** [x](y)\nnext", "sampling_top_p": "0.5", "odd_key": "1"})
    assert lines[0] == r"- prompt: “\*\*bold\*\* \[x\]\(y\) ⏎ next”"
    assert lines[1] == r"- p: “0\.5”"
    assert lines[2] == r"- odd\_key: “1”"
    assert share.short("a" * 100).endswith("…") and len(share.short("a" * 100)) == share.VALUE_CHARS


def sampling_page(query: dict[str, str] | None = None) -> AppTest:
    return run_page("views/sampling.py", "The capital of France is", timeout=240, query_params=query)


def test_sampling_charts_are_titled_named_and_mark_the_beams_by_shape(lm):
    at = sampling_page()
    at.button(key="sampling_beam_run").click().run()  # beam search runs when asked
    assert not at.exception
    assert len(chart_keys(at)) == 2
    drawn = {key: (chart(at, key), chart_config(at, key)) for key in ("filter_chart", "beam_tree")}
    for key, name in (("filter_chart", "sampling-filter-"), ("beam_tree", "sampling-beam-tree-")):
        spec, config = drawn[key]
        assert config["toImageButtonOptions"]["filename"] == name + "the-capital-of-france-is"
        title = spec["layout"]["title"]
        assert "The capital of France is" in title["subtitle"]["text"] and lm.name in title["subtitle"]["text"]
    assert drawn["filter_chart"][0]["layout"]["title"]["text"] == "Filter: sampling, T = 1, top-p = 0.9"
    beam = drawn["beam_tree"][0]["data"]
    symbols = {trace["name"]: trace["marker"]["symbol"] for trace in beam if trace.get("name")}
    assert symbols["winner ★"] == "star"
    assert len(set(symbols.values())) == len(symbols)  # one shape per status: colour is never alone
    winner_line = max((t for t in beam if t["mode"] == "lines"), key=lambda t: t["line"]["width"])
    assert winner_line["line"]["color"] == "#D55E00"  # vermilion: the words say orange
    assert "thick orange line" in " ".join(m.value for m in at.markdown)
    # Filter labels keep the figure's font size instead of shrinking to the bar.
    kept = drawn["filter_chart"][0]["data"][1]
    assert kept["constraintext"] == "none"
    assert all(float(t.rstrip("%")) >= 2 for t in kept["text"] if t)


def test_sampling_controls_come_back_from_the_link(lm):
    at = sampling_page({"sampling_strategy": "Top-k", "sampling_top_k": "3"})
    assert not at.exception
    assert at.radio(key="sampling_strategy").value == "Top-k"
    assert at.slider(key="sampling_top_k").value == 3
    assert any(m.label == "Candidates kept" and m.value == "3 of 49,152" for m in at.metric)
