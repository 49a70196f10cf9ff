"""Figures and tables shared by every session (ui/drawn.py): they send exactly what a fresh drawing
sends, one build per key, and a session never gets another prompt's, control's or language's drawing."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io
import pytest
from streamlit import dataframe_util

from tests import pages
from ui import charts, drawn


def test_a_finished_figure_sends_the_same_spec_as_the_figure():
    fig = go.Figure(go.Bar(x=[1, 2, 3], y=[0.5, 0.25, 0.125], name="a"))
    fig.add_trace(go.Heatmap(z=[[0.1, 0.2], [0.3, 0.4]]))
    fig.update_layout(title="t", height=300)
    finished = charts.FinishedFigure(fig)
    assert finished.to_dict() == fig.to_dict()
    # what st.plotly_chart sends (the figure itself through plotly.io), and the height it sizes the chart by
    assert plotly.io.to_json(finished, validate=False) == plotly.io.to_json(fig, validate=False)
    assert finished.layout.height == 300


def test_an_arrow_table_is_the_bytes_st_table_sends_for_the_rows():
    rows = [{"layer": k, "value": f"{k / 3:.3f}", "token": "·cat"} for k in range(50)]
    table = drawn.arrow_table(rows)
    assert dataframe_util.convert_anything_to_arrow_bytes(table) == dataframe_util.convert_anything_to_arrow_bytes(rows)


def test_one_build_per_key_language_and_presenter_mode(monkeypatch):
    drawn._store.clear()
    language, presenting = ["en"], [False]
    monkeypatch.setattr(drawn, "current_language", lambda: language[0])
    monkeypatch.setattr(drawn.presenter, "presenter_mode", lambda: presenting[0])
    builds = []

    def build(value):
        builds.append(value)
        return [value, language[0], presenting[0]]

    first = drawn.shared(("k", 1), lambda: build(1))
    assert drawn.shared(("k", 1), lambda: build(99)) is first and builds == [1]
    assert drawn.shared(("k", 2), lambda: build(2)) == [2, "en", False]
    language[0] = "fr"
    assert drawn.shared(("k", 1), lambda: build(1)) == [1, "fr", False]
    presenting[0] = True
    assert drawn.shared(("k", 1), lambda: build(1)) == [1, "fr", True]
    assert builds == [1, 2, 1, 1]


def _drawn_elements(at) -> dict[str, list]:
    return {"charts": [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")],
            "tables": [table.proto.arrow_data.data for table in at.get("table")],
            "dataframes": [frame.proto.arrow_data.data for frame in at.dataframe]}


PAGE_CONTROLS = {  # page → URL-bound controls set in the second session, so its drawings differ from the first's
    "views/home.py": {},
    "views/tokenization.py": {},
    "views/hallucinations.py": {},
    "views/sampling.py": {"sampling_strategy": "Top-p (nucleus)", "sampling_temperature": 1.7, "sampling_top_p": 0.5},
    "views/inside_layer.py": {"layer_norm_layer": 7, "layer_gqa_layer": 5, "layer_gqa_kv": 1, "layer_rope_layer": 2,
                              "layer_rope_pair": 3, "layer_ffn_layer": 20},
    "views/softmax.py": {"softmax_top_n": 9, "softmax_temperature": 1.5},
    "views/attention.py": {"attn_layer": 4, "attn_head": 2, "attn_scores_layer": 8, "attn_scores_head": 1},
    "views/embeddings.py": {"emb_word": "queen", "emb_layer": 3, "emb_positions": 20},
    "views/rnn_vs_transformer.py": {"rvt_probe_group": "places"},
}


@pytest.mark.parametrize("page", list(PAGE_CONTROLS))
def test_a_session_gets_what_a_fresh_drawing_of_its_own_inputs_sends(page):
    """Two sessions fill the store: one with the other prompt and these controls, one with this prompt
    at the defaults. A third with this prompt and these controls must get exactly what it gets from
    an empty store: a key that left out the prompt or a control would hand it one of their drawings."""
    cat, lily = "The cat sat on the mat because it was warm.", "Lily had a red ball. She played with the red"
    view = dict(lang="fr", present=True)  # both in the key too (test above); here the same for every session
    drawn._store.clear()
    pages.run_page(page, cat, **view, **PAGE_CONTROLS[page])
    pages.run_page(page, lily, **view)
    from_store = _drawn_elements(pages.run_page(page, lily, **view, **PAGE_CONTROLS[page]))
    drawn._store.clear()
    fresh = _drawn_elements(pages.run_page(page, lily, **view, **PAGE_CONTROLS[page]))
    assert from_store["charts"] and from_store == fresh


def test_a_figure_counts_against_the_budget_as_the_memory_it_holds():
    """Counted by its JSON, the 16 MB of figures held about 100 MB (measured in a soak)."""
    import gc
    import tracemalloc

    import numpy as np

    def build():
        fig = go.Figure([go.Bar(x=[f"tok{j}" for j in range(30)], y=np.random.rand(30), text=["x"] * 30)
                         for _ in range(3)])
        fig.add_trace(go.Heatmap(z=np.random.rand(30, 30)))
        return fig

    build()
    gc.collect()
    tracemalloc.start()
    kept = [charts.FinishedFigure(build()) for _ in range(10)]
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] / len(kept)
    tracemalloc.stop()
    assert 0.7 * held < drawn._bytes(kept[0]) < 1.5 * held
