"""Drawing a chart a teacher can save: titled with the prompt and model, PNG named by page and chart.

`show_shared_chart` is `ui.presenter.show_chart` plus the export title and file name from
`ui.figures` (enlarged in presenter mode, full width, PNG download in the mode bar), with the
finished figure built once per process for every session that shows the same inputs (`ui.drawn`):
the figure is passed as a function that builds it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import plotly.graph_objects as go
import streamlit as st

from ui import drawn, figures, presenter

PRESENTER_TOP_SCALE = 1.5  # presenter type is ~1.5× larger; the title and legend above the plot too


def exportable_figure(fig: go.Figure, *, title: str, prompt: str, model_name: str) -> go.Figure:
    """`fig` (just built; changed in place) titled `title` + prompt + model, enlarged in presenter mode."""
    fig = figures.with_export_title(fig, title, prompt, model_name)
    if presenter.presenter_mode():
        fig = presenter.presenter_figure(fig)
        fig.update_layout(margin_t=int(fig.layout.margin.t * PRESENTER_TOP_SCALE))  # larger title and legend
    return fig


class FinishedFigure(go.Figure):
    """A figure that is never changed again, so the dict `st.plotly_chart` sends (`to_dict()`, a deep
    copy with every array base64-encoded, half the cost of drawing a cached figure) is made once.

    Only that dict and the layout's width and height (which `st.plotly_chart` reads to size the
    chart) are kept: copying the validated figure itself cost twice as much as building it."""

    def __init__(self, fig: go.Figure) -> None:
        super().__init__(layout=dict(width=fig.layout.width, height=fig.layout.height))
        self._finished_dict = fig.to_dict()

    def to_dict(self) -> dict:
        return self._finished_dict


def show_shared_figure(build: Callable[[], go.Figure], inputs: Hashable, key: str, *, page: str, config: dict,
                       **kwargs):
    """`st.plotly_chart` of the finished figure `build()` returns, built once per process for
    (page, key, `inputs`): `inputs` holds everything `build` reads that differs between sessions
    (model, prompt ids, control values, titles; see `ui.drawn.shared`)."""
    fig = drawn.shared(("chart", page, key, inputs), lambda: FinishedFigure(build()))
    return st.plotly_chart(fig, width="stretch", key=key, config=config, **kwargs)


def show_shared_chart(build: Callable[[], go.Figure], inputs: Hashable, key: str, *, page: str, title: str,
                      prompt: str, model_name: str):
    """`st.plotly_chart` of `build()` titled `title` + prompt + model and saved as
    '<page>-<key>-<prompt>.png', the finished figure built once per process for these `inputs`
    (see `show_shared_figure`)."""
    return show_shared_figure(lambda: exportable_figure(build(), title=title, prompt=prompt, model_name=model_name),
                              (title, prompt, model_name, inputs), key, page=page,
                              config=figures.plotly_config(page, key.removesuffix("_chart"), prompt))


def show_shared_presenter_chart(build: Callable[[], go.Figure], inputs: Hashable, key: str, **kwargs):
    """`ui.presenter.show_chart(build(), key, …)`, with the finished figure built once per process
    for these `inputs` (see `show_shared_figure`); `build` draws any title itself."""
    page, config = presenter.chart_page(), presenter.chart_config(key)
    return show_shared_figure(
        lambda: presenter.presenter_figure(build()) if presenter.presenter_mode() else build(),
        inputs, key, page=page, config=config, **kwargs)
