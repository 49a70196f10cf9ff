"""Drawing a chart a teacher can save: titled with the prompt and model, PNG named by page and chart.

`show_exportable_chart` is `ui.presenter.show_chart` plus the export title and file name from
`ui.figures` (enlarged in presenter mode, full width, PNG download in the mode bar).
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from ui import figures, presenter

PRESENTER_TOP_SCALE = 1.5  # presenter type is ~1.5× larger; the title and legend above the plot too


def show_exportable_chart(fig: go.Figure, key: str, *, page: str, title: str, prompt: str, model_name: str):
    """`st.plotly_chart` of `fig` titled `title` + prompt + model; saved as '<page>-<key>-<prompt>.png'."""
    fig = figures.with_export_title(fig, title, prompt, model_name)
    if presenter.presenter_mode():
        fig = presenter.presenter_figure(fig)
        fig.update_layout(margin_t=int(fig.layout.margin.t * PRESENTER_TOP_SCALE))  # larger title and legend
    config = figures.plotly_config(page, key.removesuffix("_chart"), prompt)
    return st.plotly_chart(fig, width="stretch", key=key, config=config)
