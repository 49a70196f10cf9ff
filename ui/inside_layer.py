"""Streamlit glue for the Inside-a-layer page: cached runs and the Plotly figures it draws.

The hooked forward (`explain.residual.trace_residual`) is cached per (model, prompt ids); the other
sections read the shared forward pass (`state.cached_analysis`). The generation in section 7 is
cached per (model, ids, number of tokens). Figures only draw `explain` results; every token label
is escaped, because Plotly renders a little HTML in labels and hover text.
"""

from __future__ import annotations

import html
import re

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explain import encoder_decoder, layer_parts, residual, rope, writing_attention
from explain.tokens import TokenPiece
from ui.attention import axis_labels, token_label
from ui.html import visible_text
from ui.state import cached_analysis, get_model

BLUE, ORANGE, GREEN, VERMILION, GREY, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#999999", "#56B4E9"
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: str) -> str:
    """Visitor-derived text made literal inside Markdown (every special character backslashed)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", visible_text(text))


def quoted(piece: TokenPiece) -> str:
    """A token for a Markdown sentence: “·cat”."""
    return f"“{md(token_label(piece))}”"


# ---------------------------------------------------------------------------------------------
# Cached computations (keyed by plain values)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_trace(model_name: str, ids: tuple[int, ...]) -> residual.ResidualTrace:
    """The hooked forward: what every block writes for the last token (one run per prompt)."""
    return residual.trace_residual(get_model(model_name), list(ids))


@st.cache_data(max_entries=32, show_spinner=False)
def cached_readout(model_name: str, ids: tuple[int, ...]) -> residual.StreamReadout:
    return residual.read_stream(get_model(model_name), cached_trace(model_name, ids), top_k=3)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_rope(model_name: str, ids: tuple[int, ...], layer: int, head: int, i: int, j: int) -> rope.RopeDemo:
    layer_input = cached_analysis(model_name, ids).hidden_states[layer]
    return rope.rope_demo(get_model(model_name), layer_input, layer, head, i, j, shifts=list(range(0, 201, 10)))


@st.cache_resource(max_entries=1, show_spinner=False)
def cached_encoder() -> encoder_decoder.LoadedEncoder:
    return encoder_decoder.load_encoder()


@st.cache_data(max_entries=64, show_spinner=False)
def cached_encoder_attention(text: str) -> encoder_decoder.EncoderAttention:
    return encoder_decoder.encoder_attention(cached_encoder(), text)


@st.cache_data(max_entries=8, show_spinner=False)
def cached_writing(model_name: str, ids: tuple[int, ...], n_new: int) -> writing_attention.WritingAttention:
    return writing_attention.attention_while_writing(get_model(model_name), list(ids), n_new)


# ---------------------------------------------------------------------------------------------
# Figures


def _layout(fig: go.Figure, height: int, **axes) -> go.Figure:
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=40, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), **axes,
    )
    return fig


def writes_figure(writes: residual.BlockWrites) -> go.Figure:
    """Per layer: the length of each block's write (bars) and of the stream (line)."""
    layers = list(range(len(writes.attn_norm)))
    fig = go.Figure()
    fig.add_trace(go.Bar(x=layers, y=writes.attn_norm, name="attention adds (length)", marker_color=BLUE,
                         hovertemplate="layer %{x}: attention wrote a vector of length %{y:.1f}<extra></extra>"))
    fig.add_trace(go.Bar(x=layers, y=writes.ffn_norm, name="feed-forward adds (length)", marker_color=ORANGE,
                         marker_pattern_shape="/",
                         hovertemplate="layer %{x}: the feed-forward wrote length %{y:.1f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=list(range(len(writes.stream_norm))), y=writes.stream_norm, mode="lines+markers",
                             name="stream entering the layer (length)", line=dict(color=GREY, dash="dot"),
                             marker_symbol="diamond",
                             hovertemplate="entering layer %{x}: stream length %{y:.1f}<extra></extra>"))
    return _layout(fig, 380, barmode="group", xaxis=dict(title="layer", dtick=2), yaxis=dict(title="length (L2 norm)"))


def cosine_figure(writes: residual.BlockWrites) -> go.Figure:
    """Per layer: the cosine of each write with the stream it was added to."""
    layers = list(range(len(writes.attn_norm)))
    fig = go.Figure()
    for values, name, colour, symbol in ((writes.attn_cosine, "attention", BLUE, "circle"),
                                         (writes.ffn_cosine, "feed-forward", ORANGE, "square")):
        fig.add_trace(go.Scatter(x=layers, y=values, mode="lines+markers", name=name, line_color=colour,
                                 marker_symbol=symbol,
                                 hovertemplate=f"layer %{{x}}: {name} write · stream, cosine %{{y:.2f}}<extra></extra>"))
    fig.add_hline(y=0, line_color=GREY, line_width=1)
    return _layout(fig, 300, xaxis=dict(title="layer", dtick=2), yaxis=dict(title="cosine with the stream", range=[-1, 1]))


def norm_figure(step: layer_parts.NormStep) -> go.Figure:
    """The vector before the norm and after it, dimension by dimension."""
    dims = np.arange(step.before.shape[0])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=dims, y=step.before, mode="markers", name="before (the stream)",
                             marker=dict(color=GREY, size=5, symbol="circle-open"),
                             hovertemplate="dimension %{x}: %{y:.3f} before<extra></extra>"))
    fig.add_trace(go.Scatter(x=dims, y=step.after, mode="markers", name=f"after {step.kind}",
                             marker=dict(color=BLUE, size=5),
                             hovertemplate="dimension %{x}: %{y:.3f} after<extra></extra>"))
    return _layout(fig, 320, xaxis=dict(title="dimension"), yaxis=dict(title="value"))


def gain_figure(step: layer_parts.NormStep) -> go.Figure:
    dims = np.arange(step.gain.shape[0])
    fig = go.Figure(go.Bar(x=dims, y=step.gain, marker_color=GREEN, name="learned gain",
                           hovertemplate="dimension %{x}: gain %{y:.3f}<extra></extra>"))
    return _layout(fig, 240, xaxis=dict(title="dimension"), yaxis=dict(title="gain"), bargap=0)


def gqa_figure(layout: layer_parts.GroupedQueryLayout, highlight: int | None = None) -> go.Figure:
    """Query heads (top row) joined to the key/value head they read (bottom row)."""
    n_q, n_kv = layout.n_head, layout.n_kv_head
    q_x = np.arange(n_q, dtype=float)
    kv_x = np.array([np.mean(layout.queries_of(g)) for g in range(n_kv)])
    fig = go.Figure()
    for h, g in enumerate(layout.kv_of_query):
        on = highlight is None or g == highlight
        fig.add_trace(go.Scatter(x=[q_x[h], kv_x[g]], y=[1, 0], mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(color=VERMILION if on and highlight is not None else GREY, width=3 if on else 1)))
    fig.add_trace(go.Scatter(x=q_x, y=[1] * n_q, mode="markers+text", text=[f"Q{h}" for h in range(n_q)],
                             textposition="middle center", marker=dict(symbol="square", size=34, color=SKY),
                             name="query heads", textfont=dict(color="#111"),
                             hovertemplate="query head %{x}<extra></extra>"))
    fig.add_trace(go.Scatter(x=kv_x, y=[0] * n_kv, mode="markers+text", text=[f"K/V{g}" for g in range(n_kv)],
                             textposition="middle center", marker=dict(symbol="diamond", size=48, color=ORANGE),
                             name="key/value heads", textfont=dict(color="#111"),
                             customdata=[", ".join(f"Q{h}" for h in layout.queries_of(g)) for g in range(n_kv)],
                             hovertemplate="key/value head shared by %{customdata}<extra></extra>"))
    fig.update_layout(height=230, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      xaxis=dict(visible=False, range=[-0.8, n_q - 0.2]),
                      yaxis=dict(visible=False, range=[-0.45, 1.35]), dragmode=False)
    return fig


def pair_figure(demo: rope.RopeDemo, pair: int, positions: np.ndarray) -> go.Figure:
    """The query's pair of numbers (p, p + d/2) turned to every position, and the key's at its own."""
    path = demo.pair_path(pair, positions)
    radius = float(np.linalg.norm(path[0])) or 1.0
    key = demo.key_pair(pair)
    limit = 1.25 * max(radius, float(np.linalg.norm(key)))
    fig = go.Figure()
    fig.add_shape(type="circle", x0=-radius, y0=-radius, x1=radius, y1=radius, line=dict(color=GREY, width=1))
    labelled = [p if p % 10 == 0 else "" for p in positions.tolist()]
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="markers+text", text=labelled, textposition="top center",
                             marker=dict(size=7, color=positions, colorscale="Viridis", colorbar=dict(title="position")),
                             customdata=positions, name="the query's pair at each position",
                             hovertemplate="position %{customdata}: (%{x:.2f}, %{y:.2f})<extra></extra>"))
    i, j = demo.query_position, demo.key_position
    fig.add_trace(go.Scatter(x=[0, path[i, 0]], y=[0, path[i, 1]], mode="lines+markers",
                             line=dict(color=VERMILION, width=3), marker=dict(size=[1, 12], color=VERMILION),
                             name=f"query at its position {i}", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[0, key[0]], y=[0, key[1]], mode="lines+markers", line=dict(color=BLUE, width=3, dash="dash"),
                             marker=dict(size=[1, 12], color=BLUE, symbol="diamond"),
                             name=f"key at its position {j}", hoverinfo="skip"))
    return _layout(fig, 440, xaxis=dict(title=f"dimension {pair}", range=[-limit, limit], scaleanchor="y"),
                   yaxis=dict(title=f"dimension {pair + demo.head_dim // 2}", range=[-limit, limit]))


def rope_score_figure(demo: rope.RopeDemo) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=demo.shifts, y=demo.score_both_moved, mode="lines+markers", name="both moved by s",
                             line=dict(color=BLUE, width=3), marker_symbol="circle",
                             hovertemplate="both moved by %{x}: score %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=demo.shifts, y=demo.score_query_moved, mode="lines+markers", name="only the query moved by s",
                             line=dict(color=ORANGE, dash="dash"), marker_symbol="x",
                             hovertemplate="query moved by %{x}: score %{y:.4f}<extra></extra>"))
    return _layout(fig, 340, xaxis=dict(title="shift s (positions)"), yaxis=dict(title="score q·k/√d"))


def units_figure(units: layer_parts.FeedForwardUnits) -> go.Figure:
    labels = [f"unit {u}" for u in units.units]
    fig = go.Figure(go.Bar(x=units.value, y=labels, orientation="h",
                           marker_color=[BLUE if v > 0 else VERMILION for v in units.value],
                           marker_pattern_shape=["" if v > 0 else "x" for v in units.value],
                           customdata=np.stack([units.gate, units.up], axis=-1),
                           text=[f"{v:+.2f}" for v in units.value], textposition="auto",
                           hovertemplate="%{y}: value %{x:.3f}<br>gate %{customdata[0]:.3f}, up %{customdata[1]:.3f}<extra></extra>"))
    return _layout(fig, 60 + 30 * len(labels), yaxis=dict(autorange="reversed"), xaxis=dict(title="the unit's value (what goes into the down projection)"))


def mean_map_figure(weights: np.ndarray, labels: list[str], title: str) -> go.Figure:
    """(T, T) head-averaged attention; every cell drawn, so an empty upper triangle is the mask."""
    t = weights.shape[0]
    shown = [html.escape(f"{i} {visible_text(label)}") for i, label in enumerate(labels)]
    fig = go.Figure(go.Heatmap(z=weights, x=shown, y=shown, colorscale="Blues", zmin=0,
                               zmax=float(weights.max()) or 1.0, xgap=1, ygap=1, colorbar=dict(title="weight"),
                               hovertemplate="%{y} → %{x}: %{z:.3f}<extra></extra>"))
    size = max(320, min(700, 60 + 20 * t))
    fig.update_layout(title=dict(text=html.escape(title), y=0.99, yanchor="top"), height=size + 120,
                      margin=dict(l=10, r=10, t=130, b=10), plot_bgcolor="rgba(0,0,0,0)",
                      xaxis=dict(title="looks at", side="top", tickangle=-60, type="category"),
                      yaxis=dict(title="token that looks", autorange="reversed", type="category"))
    return fig


def writing_figure(written: writing_attention.WritingAttention, all_pieces: list[TokenPiece],
                   layer: int | None, head: int | None, step: int) -> go.Figure:
    """Rows = generated tokens, columns = prompt + generated tokens; the chosen step outlined."""
    n, width = written.n_steps, len(written.prompt_ids) + written.n_steps - 1
    z = np.full((n, width), np.nan)
    for s in range(n):
        row = written.row(s, layer, head)
        z[s, : row.shape[0]] = row
    columns = axis_labels(all_pieces[:width])
    rows = [html.escape(f"{s + 1}: {token_label(p)}") for s, p in enumerate(written.new_pieces)]
    fig = go.Figure(go.Heatmap(z=z, x=columns, y=rows, colorscale="Blues", zmin=0, xgap=1, ygap=1,
                               colorbar=dict(title="weight"),
                               hovertemplate="writing %{y}: looks at %{x} with %{z:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[columns[0], columns[-1]], y=[rows[step], rows[step]], mode="lines",
                             line=dict(color=VERMILION, width=2), hoverinfo="skip", showlegend=False))
    fig.add_vline(x=len(written.prompt_ids) - 0.5, line_color=VERMILION, line_dash="dash")
    fig.update_layout(height=140 + 26 * n, margin=dict(l=10, r=10, t=110, b=10), plot_bgcolor="rgba(0,0,0,0)",
                      xaxis=dict(title="looks at (dashed line: end of the prompt)", side="top", tickangle=-60, type="category"),
                      yaxis=dict(title="token being written", autorange="reversed", type="category"))
    return fig
