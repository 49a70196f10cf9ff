"""Presenter mode: large type and bold charts readable from the back of a classroom.

Toggled in the sidebar and kept in the URL (`?present=true`), so a teacher can bookmark it.
Pages draw charts through `show_chart`, which enlarges fonts and lines in presenter mode.
"""

from __future__ import annotations

import functools
import numbers
from urllib.parse import urlparse

import plotly.graph_objects as go
import streamlit as st
from streamlit import dataframe_util

from ui import figures, state
from ui.html import markdown_escape

PRESENT_KEY = "present"
IFRAME_ZOOM = 1.6  # bertviz draws 15 px text inside its iframe, which the page's CSS can't reach
SMALL_PRINT_CLASS = "llmx-small-print"  # our HTML's notes at 0.7-0.75em: 15 px of 21, enlarged below

_PRESENTER_CSS = """
<style>
  html { font-size: 21px; }
  [data-testid="stMain"] h1 { font-size: 2.6rem; }
  [data-testid="stMain"] p, [data-testid="stMain"] li { line-height: 1.55; }
  .llmx-below { font-size: 0.8em !important; }  /* a token chip's id (ui.html.BELOW_CLASS) */
  .llmx-small-print { font-size: 0.85em !important; }  /* SMALL_PRINT_CLASS */
  /* Streamlit sets inline code at 0.75em: 16 px in a paragraph, 14 in a caption */
  [data-testid="stMain"] :not(pre) > code { font-size: 0.95em; }
  /* a formula's sub-subscripts (the i in e^{z_i}) are half its size */
  [data-testid="stMain"] .katex-display { font-size: 1.3em; }
  /* button and widget labels wrap to a second line instead of ending in "…" */
  [data-testid="stMain"] .stMarkdownEllipsis, [data-testid="stMain"] .stMarkdownEllipsis p { white-space: normal; overflow: visible; }
</style>
"""


def presenter_mode() -> bool:
    return bool(st.session_state.get(PRESENT_KEY, False))


def show_table(data, key: str | None = None, *, column_config: dict | None = None, height: int | str = "auto",
               alt: str | None = None):
    """A table without its index: `st.dataframe` (sortable) on a screen; in presenter mode `st.table`,
    whose cells take the page's large type and wrap long text (the data grid draws 14 px text on a
    canvas and cuts a long cell with "…"). `column_config`'s labels and number formats apply in both."""
    if presenter_mode():
        return st.table(presented_frame(data, column_config or {}), hide_index=True)
    return st.dataframe(data, hide_index=True, key=key, column_config=column_config, height=height, alt=alt)


def presented_frame(data, column_config: dict):
    """`data` styled as st.table should print it. Each column under its configured label; each number
    as the data grid shows it (its column's printf format, else at most 4 decimals: st.table alone
    prints 0.304 as "0.3040"), kept numeric so it stays right-aligned; text escaped, because
    st.table reads its cells and headers as Markdown (a "#" header or a "**" token would vanish)."""
    frame = dataframe_util.convert_anything_to_pandas_df(data)
    configs = {name: column_config.get(name) or {} for name in frame.columns}
    headers = {name: markdown_escape(str(config.get("label") or name)) for name, config in configs.items()}
    return frame.rename(columns=headers).style.format({
        headers[name]: functools.partial(_as_grid_shows, number_format=config.get("type_config", {}).get("format"))
        for name, config in configs.items()})


def _as_grid_shows(value, number_format: str | None):
    """A cell's `value` as the data grid prints it (text Markdown-escaped for st.table)."""
    if isinstance(value, str):
        return markdown_escape(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return value
    if number_format:
        return number_format % value
    if isinstance(value, numbers.Integral):
        return str(value)
    return f"{value:.4f}".rstrip("0").rstrip(".")


def side_by_side(spec: int | list[int]) -> list:
    """`st.columns(spec)`, except in presenter mode: there as many full-width blocks, one under
    another, because large type needs the page's width (a chart's title in half of it is cut)."""
    count = spec if isinstance(spec, int) else len(spec)
    return [st.container() for _ in range(count)] if presenter_mode() else st.columns(spec)


def iframe_zoom() -> float:
    """How much to scale HTML drawn in an iframe (which the page's CSS does not reach)."""
    return IFRAME_ZOOM if presenter_mode() else 1.0


def apply_presenter_style() -> None:
    """Call once per run (app.py): enlarges the whole page's type when presenter mode is on."""
    if presenter_mode():
        st.html(_PRESENTER_CSS)


def presenter_figure(fig: go.Figure) -> go.Figure:
    """A copy of `fig` with large fonts and thick lines (for projection)."""
    fig = go.Figure(fig)
    fig.update_layout(font=dict(size=20), hoverlabel=dict(font_size=20))
    # Streamlit's chart theme sets axis fonts of its own, so the layout font alone leaves them small.
    fig.update_xaxes(tickfont=dict(size=17), title_font=dict(size=20))
    fig.update_yaxes(tickfont=dict(size=17), title_font=dict(size=20))
    fig.update_traces(selector=dict(type="scatter"), line=dict(width=4))
    for trace in fig.select_traces(selector=dict(type="scatter")):
        size = trace.marker.size  # grow markers, never shrink them (a head-gallery square is 22)
        if size is None or isinstance(size, (int, float)):
            trace.marker.size = 12 if size is None else max(12, 1.3 * size)
        if trace.mode and "text" in trace.mode:  # labels beside points, e.g. words on a map
            trace.textfont.size = max(18, trace.textfont.size or 0)
    enlarge_small_print(fig)
    if fig.layout.title.text:  # a title given its own small font stays small otherwise
        fig.update_layout(title_font_size=22)
    if fig.layout.title.subtitle.text:  # the export title's prompt and model lines (ui.figures)
        fig.update_layout(title_subtitle_font_size=18)
    fig.update_layout(legend_font_size=18)  # Streamlit's chart theme gives legends a small font of their own
    if fig.layout.height:
        fig.update_layout(height=int(fig.layout.height * 1.35))
    return fig


def enlarge_small_print(fig: go.Figure) -> None:
    """Grow, in place, what a builder set smaller than the rest: notes on the plot given a small font
    of their own, and category labels' `<sup>` lines, which Plotly sets at 70 % (12 px here; a
    tokenizer's name under its method's, on Tokenization)."""
    for annotation in fig.layout.annotations:
        if annotation.font.size:
            annotation.font.size = max(18, annotation.font.size)
    for trace in fig.data:
        for axis in ("x", "y"):
            labels = trace[axis] if axis in trace else None
            if labels is not None and any("<sup>" in label for label in labels if isinstance(label, str)):
                trace[axis] = [label.replace("<sup>", "").replace("</sup>", "") if isinstance(label, str) else label
                               for label in labels]


def chart_page() -> str:
    """The page's name for a PNG's file name: the last part of its URL path ("home" on Home)."""
    return urlparse(st.context.url or "").path.strip("/").rsplit("/", 1)[-1] or "home"


def chart_config(key: str | None) -> dict:
    """The Plotly config of the chart `key` on this page (see `show_chart`)."""
    return figures.plotly_config(chart_page(), (key or "chart").removesuffix("_chart"), state.current_prompt_text())


def show_chart(fig: go.Figure, key: str | None = None, **kwargs):
    """`st.plotly_chart` at full width, enlarged in presenter mode; the PNG download in the toolbar
    is named by page, chart and prompt ('attention-gallery-the-cat-sat….png'), not 'newplot.png'."""
    if presenter_mode():
        fig = presenter_figure(fig)
    return st.plotly_chart(fig, width="stretch", key=key, config=chart_config(key), **kwargs)
