"""Streamlit glue for the Inside-a-layer page: cached runs and the Plotly figures it draws.

The hooked forward (`explain.residual.trace_residual`) is cached per (model, prompt ids); the other
sections read the shared forward pass (`state.cached_analysis`). The generation in section 7 is
cached per (model, ids, number of tokens). Figures only draw `explain` results; every token label
is escaped, because Plotly renders a little HTML in labels and hover text. Beside each figure: table
rows with its data (its text equivalent, with the page's computed sentence).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Hashable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explain import encoder_decoder, layer_parts, limits, residual, rope, writing_attention
from explain.anatomy import ModelAnatomy, model_anatomy
from explain.tokens import TokenPiece
from explain.engine.models import LoadedModel
from ui import charts, drawn, palette
from ui.attention import axis_labels, token_label
from ui.figures import VALUE_LABEL_ROOM
from ui.html import visible_text
from ui.i18n import _, format_number, format_percent, plotly_separators
from ui.presenter import show_table
from ui.state import BY_MODEL_NAME, cached_analysis, current_prompt_text, selected_model_name

ORANGE, SKY, GREEN, BLUE, VERMILION, PURPLE = (palette.CATEGORICAL[i] for i in (0, 1, 2, 4, 5, 6))
GREY = "rgba(128, 128, 128, 0.7)"  # neutral guides (a circle, the zero line): readable on light and dark
LONG_TABLE = 40  # rows; longer tables scroll in a data grid instead of filling the page
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: str) -> str:
    """Visitor-derived text made literal inside Markdown (every special character backslashed)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", visible_text(text))


def quoted(piece: TokenPiece) -> str:
    """A token for a Markdown sentence: “·cat”."""
    return _("“{token}”").format(token=md(token_label(piece)))


def signed(value: float, digits: int = 2) -> str:
    """+0.12 / −0.30 in the session's locale (a sign on positive numbers too)."""
    return ("+" if value >= 0 else "") + format_number(value, digits)


def localised(fig: go.Figure) -> go.Figure:
    """`fig` with the locale's decimal and group signs on its ticks and hover numbers."""
    fig.update_layout(separators=plotly_separators())
    return fig


def show_titled(build: Callable[[], go.Figure], key: str, title: str, *, inputs: Hashable) -> None:
    """The chart `build()` draws, titled `title` with the prompt and model under it, so a saved PNG
    says what it shows. Built once per process for these `inputs` (everything `build` reads that
    differs between sessions: model name, prompt ids, control values; see `ui.drawn`)."""
    charts.show_shared_chart(lambda: localised(build()), inputs, key, page="inside_layer", title=title,
                             prompt=current_prompt_text(), model_name=selected_model_name())


def described_chart(build: Callable[[], go.Figure], key: str, summary: str, rows: Callable[[], list[dict]], title: str,
                    table_label: str | None = None, *, inputs: Hashable) -> None:
    """The chart, the computed sentence saying what it shows, and its data behind "Show as table"
    (`rows()`, read from the same `inputs` as the chart: both are built once per process)."""
    show_titled(build, key, title, inputs=inputs)
    st.markdown(summary)
    with st.expander(table_label or _("Show as table")):
        show_rows(rows, key, inputs)


def show_rows(rows: Callable[[], list[dict]], key: str, inputs: Hashable) -> None:
    """The table of `rows()`, built once per process for these `inputs` (ui.drawn); a long one scrolls."""
    table = drawn.shared_table(("inside_layer", key, inputs), rows)
    if table.num_rows > LONG_TABLE:
        show_table(table, key=f"{key}_table")
    else:
        st.table(table, hide_index=True)


# ---------------------------------------------------------------------------------------------
# Cached computations (keyed by plain values)


@st.cache_resource(max_entries=limits.MODEL_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_anatomy(lm: LoadedModel) -> ModelAnatomy:
    """The model's parts and sizes, counted once per model (it walks every parameter); read-only."""
    return model_anatomy(lm)


@st.cache_resource(max_entries=limits.MODEL_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_parameter_shares(lm: LoadedModel) -> layer_parts.ParameterShares:
    return layer_parts.parameter_shares(lm)


@st.cache_resource(max_entries=limits.MODEL_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_layout(lm: LoadedModel) -> layer_parts.GroupedQueryLayout:
    """The model's query and key/value heads (read-only)."""
    return layer_parts.grouped_query_layout(lm)


@st.cache_data(max_entries=limits.RESIDUAL_TRACE_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_trace(lm: LoadedModel, ids: tuple[int, ...]) -> residual.ResidualTrace:
    """The hooked forward: what every block writes for the last token (one run per prompt)."""
    return residual.trace_residual(lm, list(ids))


@st.cache_data(max_entries=limits.STREAM_READOUT_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_readout(lm: LoadedModel, ids: tuple[int, ...]) -> residual.StreamReadout:
    return residual.read_stream(lm, cached_trace(lm, ids), top_k=3)


@st.cache_data(max_entries=limits.ROPE_DEMO_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_rope(lm: LoadedModel, ids: tuple[int, ...], layer: int, head: int, i: int, j: int) -> rope.RopeDemo:
    layer_input = cached_analysis(lm, ids).hidden_states[layer]
    return rope.rope_demo(lm, layer_input, layer, head, i, j, shifts=list(range(0, 201, 10)))


@st.cache_resource(max_entries=limits.ENCODER_MODEL_CACHE_ENTRIES, show_spinner=False)
def cached_encoder() -> encoder_decoder.LoadedEncoder:
    return encoder_decoder.load_encoder()


@st.cache_data(max_entries=limits.ENCODER_ATTENTION_CACHE_ENTRIES, max_size=f"{limits.ENCODER_ATTENTION_CACHE_MB}MB", show_spinner=False)
def cached_encoder_attention(text: str) -> encoder_decoder.EncoderAttention:
    return encoder_decoder.encoder_attention(cached_encoder(), text)


@st.cache_data(max_entries=limits.WRITING_ATTENTION_CACHE_ENTRIES, max_size=f"{limits.WRITING_ATTENTION_CACHE_MB}MB", hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_writing(lm: LoadedModel, ids: tuple[int, ...], n_new: int) -> writing_attention.WritingAttention:
    return writing_attention.attention_while_writing(lm, list(ids), n_new)


# ---------------------------------------------------------------------------------------------
# Figures


LEGEND_ROOM_PX = 90  # above the plot: a legend that wraps to three lines on a phone, under the export title


def _layout(fig: go.Figure, height: int, **axes) -> go.Figure:
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=LEGEND_ROOM_PX, b=60),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), **axes,
    )
    return fig


def readout_steps(n_layer: int) -> list[str]:
    """The half-layer names of `residual.read_stream`'s steps, translated: the embedding, then
    each layer's attention and feed-forward."""
    steps = [_("the embedding")]
    for layer in range(n_layer):
        steps += [_("layer {layer} attention").format(layer=layer), _("layer {layer} feed-forward").format(layer=layer)]
    return steps


def readout_rows(readout: residual.StreamReadout, steps: list[str]) -> list[dict]:
    return [{_("after"): step, **{_("guess {rank}").format(rank=k + 1): f"'{token_label(p)}' {format_percent(q)}"
                                 for k, (p, q) in enumerate(zip(pieces, probs))}}
            for step, pieces, probs in zip(steps, readout.top_pieces, readout.top_probs)]


def writes_figure(writes: residual.BlockWrites) -> go.Figure:
    """Per layer: the length of each block's write (bars, the feed-forward's hatched) and of the stream (line)."""
    layers = list(range(len(writes.attn_norm)))
    fig = go.Figure()
    fig.add_trace(go.Bar(x=layers, y=writes.attn_norm, name=_("attention writes"), marker_color=BLUE,
                         hovertemplate=_("layer %{x}: attention wrote a vector of length %{y:.1f}") + "<extra></extra>"))
    fig.add_trace(go.Bar(x=layers, y=writes.ffn_norm, name=_("feed-forward writes"), marker_color=ORANGE,
                         marker_pattern_shape="/",
                         hovertemplate=_("layer %{x}: the feed-forward wrote length %{y:.1f}") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=list(range(len(writes.stream_norm))), y=writes.stream_norm, mode="lines+markers",
                             name=_("stream entering"), line=dict(color=PURPLE, dash="dot"),
                             marker_symbol="diamond",
                             hovertemplate=_("entering layer %{x}: stream length %{y:.1f}") + "<extra></extra>"))
    return _layout(fig, 380, barmode="group", xaxis=dict(title=_("layer"), dtick=2), yaxis=dict(title=_("length")))


def writes_rows(writes: residual.BlockWrites) -> list[dict]:
    return [{_("layer"): layer, _("stream entering"): format_number(s, 1), _("attention writes"): format_number(a, 1),
             _("feed-forward writes"): format_number(f, 1)}
            for layer, (s, a, f) in enumerate(zip(writes.stream_norm, writes.attn_norm, writes.ffn_norm))]


def cosine_figure(writes: residual.BlockWrites) -> go.Figure:
    """Per layer: the cosine of each write with the stream it was added to."""
    layers = list(range(len(writes.attn_norm)))
    fig = go.Figure()
    for values, name, colour, symbol, dash in ((writes.attn_cosine, _("attention"), BLUE, "circle", "solid"),
                                               (writes.ffn_cosine, _("feed-forward"), ORANGE, "square", "dash")):
        fig.add_trace(go.Scatter(x=layers, y=values, mode="lines+markers", name=name, line=dict(color=colour, dash=dash),
                                 marker_symbol=symbol,
                                 hovertemplate=_("layer %{x}: cosine %{y:.2f}") + f"<extra>{html.escape(name)}</extra>"))
    fig.add_hline(y=0, line_color=GREY, line_width=1)
    return _layout(fig, 300, xaxis=dict(title=_("layer"), dtick=2), yaxis=dict(title=_("cosine"), range=[-1, 1]))


def cosine_rows(writes: residual.BlockWrites) -> list[dict]:
    return [{_("layer"): layer, _("attention: cosine"): signed(a), _("feed-forward: cosine"): signed(f)}
            for layer, (a, f) in enumerate(zip(writes.attn_cosine, writes.ffn_cosine))]


def norm_figure(step: layer_parts.NormStep) -> go.Figure:
    """The vector before the norm and after it, dimension by dimension."""
    dims = np.arange(step.before.shape[0])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=dims, y=step.before, mode="markers", name=_("before (the stream)"),
                             marker=dict(color=GREY, size=5, symbol="circle-open"),
                             hovertemplate=_("dimension %{x}: %{y:.3f} before") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=dims, y=step.after, mode="markers", name=_("after {kind}").format(kind=step.kind),
                             marker=dict(color=BLUE, size=5),
                             hovertemplate=_("dimension %{x}: %{y:.3f} after") + "<extra></extra>"))
    return _layout(fig, 320, xaxis=dict(title=_("dimension")), yaxis=dict(title=_("value")))


def gain_figure(step: layer_parts.NormStep) -> go.Figure:
    dims = np.arange(step.gain.shape[0])
    fig = go.Figure(go.Bar(x=dims, y=step.gain, marker_color=GREEN, name=_("learned gain"),
                           hovertemplate=_("dimension %{x}: gain %{y:.3f}") + "<extra></extra>"))
    return _layout(fig, 240, xaxis=dict(title=_("dimension")), yaxis=dict(title=_("gain")), bargap=0)


def norm_rows(step: layer_parts.NormStep) -> list[dict]:
    return [{_("dimension"): k, _("before"): format_number(float(b), 3), _("after"): format_number(float(a), 3),
             _("gain"): format_number(float(g), 3)}
            for k, (b, a, g) in enumerate(zip(step.before, step.after, step.gain))]


def gqa_figure(layout: layer_parts.GroupedQueryLayout, highlight: int | None = None) -> go.Figure:
    """Query heads (top row) joined to the key/value head they read (bottom row)."""
    n_q, n_kv = layout.n_head, layout.n_kv_head
    q_x = np.arange(n_q, dtype=float)
    kv_x = np.array([np.mean(layout.queries_of(g)) for g in range(n_kv)])
    fig = go.Figure()
    for h, g in enumerate(layout.kv_of_query):
        on = highlight is None or g == highlight
        fig.add_trace(go.Scatter(x=[q_x[h], kv_x[g]], y=[1, 0], mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(color=VERMILION if on and highlight is not None else GREY, width=4 if on else 1,
                                           dash="solid" if on else "dot")))
    fig.add_trace(go.Scatter(x=q_x, y=[1] * n_q, mode="markers+text", text=[f"Q{h}" for h in range(n_q)],
                             textposition="middle center", marker=dict(symbol="square", size=34, color=SKY),
                             name=_("query heads"), textfont=dict(color=palette.CHIP_TEXT),
                             hovertemplate=_("query head %{x}") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=kv_x, y=[0] * n_kv, mode="markers+text", text=[f"K/V{g}" for g in range(n_kv)],
                             textposition="middle center", marker=dict(symbol="diamond", size=48, color=ORANGE),
                             name=_("key/value heads"), textfont=dict(color=palette.CHIP_TEXT),
                             customdata=[", ".join(f"Q{h}" for h in layout.queries_of(g)) for g in range(n_kv)],
                             hovertemplate=_("key/value head shared by %{customdata}") + "<extra></extra>"))
    fig.update_layout(height=230, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      xaxis=dict(visible=False, range=[-0.8, n_q - 0.2]),
                      yaxis=dict(visible=False, range=[-0.45, 1.35]), dragmode=False)
    return fig


def gqa_rows(layout: layer_parts.GroupedQueryLayout) -> list[dict]:
    return [{_("key/value head"): f"K/V{g}", _("query heads that read it"): ", ".join(f"Q{h}" for h in layout.queries_of(g))}
            for g in range(layout.n_kv_head)]


def shared_heads_rows(shared: layer_parts.SharedKeyHeads, pieces: list[TokenPiece]) -> list[dict]:
    """The last shown token's attention row in each of the heads that share one key/value head."""
    last = len(pieces) - 1
    return [{_("position"): k, _("token"): token_label(p),
             **{_("head {head}").format(head=h): format_number(float(pattern[last, k]), 3)
                for h, pattern in zip(shared.heads, shared.patterns)}}
            for k, p in enumerate(pieces)]


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
                             marker=dict(size=7, color=positions, colorscale=palette.SEQUENTIAL,
                                         colorbar=dict(title=_("position"))),
                             customdata=positions, name=_("the query's pair at each position"),
                             hovertemplate=_("position %{customdata}: (%{x:.2f}, %{y:.2f})") + "<extra></extra>"))
    i, j = demo.query_position, demo.key_position
    fig.add_trace(go.Scatter(x=[0, path[i, 0]], y=[0, path[i, 1]], mode="lines+markers",
                             line=dict(color=VERMILION, width=3), marker=dict(size=[1, 12], color=VERMILION),
                             name=_("query at its position {i}").format(i=i), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[0, key[0]], y=[0, key[1]], mode="lines+markers", line=dict(color=BLUE, width=3, dash="dash"),
                             marker=dict(size=[1, 12], color=BLUE, symbol="diamond"),
                             name=_("key at its position {j}").format(j=j), hoverinfo="skip"))
    fig = _layout(fig, 440, showlegend=False,  # the sentence under the chart says what dots and arrows are
                  xaxis=dict(title=_("dimension {dim}").format(dim=pair), range=[-limit, limit], scaleanchor="y"),
                  yaxis=dict(title=_("dimension {dim}").format(dim=pair + demo.head_dim // 2), range=[-limit, limit]))
    return fig


def pair_rows(demo: rope.RopeDemo, pair: int, positions: np.ndarray) -> list[dict]:
    path = demo.pair_path(pair, positions)
    return [{_("position"): int(p), _("dimension {dim}").format(dim=pair): format_number(float(x), 3),
             _("dimension {dim}").format(dim=pair + demo.head_dim // 2): format_number(float(y), 3)}
            for p, (x, y) in zip(positions, path)]


def rope_score_figure(demo: rope.RopeDemo) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=demo.shifts, y=demo.score_both_moved, mode="lines+markers", name=_("both moved by s"),
                             line=dict(color=BLUE, width=3), marker_symbol="circle",
                             hovertemplate=_("both moved by %{x}: score %{y:.4f}") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=demo.shifts, y=demo.score_query_moved, mode="lines+markers", name=_("only the query moved by s"),
                             line=dict(color=ORANGE, dash="dash"), marker_symbol="x",
                             hovertemplate=_("query moved by %{x}: score %{y:.4f}") + "<extra></extra>"))
    return _layout(fig, 340, xaxis=dict(title=_("shift s (positions)")), yaxis=dict(title=_("score q·k/√d")))


def rope_score_rows(demo: rope.RopeDemo) -> list[dict]:
    return [{_("shift s"): s, _("both moved"): format_number(float(a), 4), _("only the query moved"): format_number(float(b), 4)}
            for s, a, b in zip(demo.shifts, demo.score_both_moved, demo.score_query_moved)]


def units_figure(units: layer_parts.FeedForwardUnits) -> go.Figure:
    labels = [_("unit {unit}").format(unit=u) for u in units.units]
    fig = go.Figure(go.Bar(x=units.value, y=labels, orientation="h",
                           marker_color=[BLUE if v > 0 else VERMILION for v in units.value],
                           marker_pattern_shape=["" if v > 0 else "x" for v in units.value],
                           customdata=np.stack([units.gate, units.up], axis=-1),
                           # Outside the bar end, in the theme's text colour: inside, Plotly's white was
                           # lost on a hatched bar over a white page, and shrunk to fit the others.
                           text=[signed(v) for v in units.value], textposition="outside", constraintext="none",
                           cliponaxis=False,
                           hovertemplate=_("%{y}: value %{x:.3f}<br>gate %{customdata[0]:.3f}, up %{customdata[1]:.3f}")
                           + "<extra></extra>"))
    pad = VALUE_LABEL_ROOM * max(abs(v) for v in units.value)  # room for the labels
    return _layout(fig, 60 + 30 * len(labels), yaxis=dict(autorange="reversed"),
                   xaxis=dict(title=_("value (into the down projection)"),
                              range=[min(0.0, min(units.value)) - pad, max(0.0, max(units.value)) + pad]))


def units_rows(units: layer_parts.FeedForwardUnits) -> list[dict]:
    if units.kind == "SwiGLU":
        return [{_("unit"): u, _("gate"): format_number(g, 3), _("up"): format_number(p, 3),
                 _("value (silu(gate) × up)"): format_number(v, 3)}
                for u, g, p, v in zip(units.units, units.gate, units.up, units.value)]
    return [{_("unit"): u, _("up"): format_number(p, 3), _("value (gelu(up))"): format_number(v, 3)}
            for u, p, v in zip(units.units, units.up, units.value)]


def mean_map_figure(weights: np.ndarray, labels: list[str], title: str) -> go.Figure:
    """(T, T) head-averaged attention; every cell drawn, so an empty upper triangle is the mask."""
    t = weights.shape[0]
    shown = [html.escape(f"{i} {visible_text(label)}") for i, label in enumerate(labels)]
    fig = go.Figure(go.Heatmap(z=weights, x=shown, y=shown, colorscale=palette.SEQUENTIAL, zmin=0,
                               zmax=float(weights.max()) or 1.0, xgap=1, ygap=1, colorbar=dict(title=_("weight")),
                               hovertemplate=_("%{y} → %{x}: %{z:.3f}") + "<extra></extra>"))
    size = max(320, min(700, 60 + 20 * t))
    fig.update_layout(title=dict(text=html.escape(title), y=0.99, yanchor="top"),
                      height=size + 150,  # the export title adds its own room
                      margin=dict(l=10, r=10, t=130, b=40), plot_bgcolor="rgba(0,0,0,0)",
                      xaxis=dict(title=_("looks at"), side="top", tickangle=-60, type="category"),
                      yaxis=dict(title=_("token that looks"), autorange="reversed", type="category"))
    return fig


def map_summary(weights: np.ndarray, labels: list[str]) -> str:
    """Which token the last one looks at most, and how much goes to tokens after it (the mask: 0)."""
    last = weights.shape[0] - 1
    k = int(weights[last].argmax())
    later = float(np.triu(weights, 1).sum() / weights.sum()) if weights.sum() else 0.0
    return _("The last token, {last}, looks most at {top} ({weight}); {later} of all the weight goes to later tokens.").format(
        last=_("“{token}”").format(token=md(labels[last])), top=_("“{token}”").format(token=md(labels[k])),
        weight=format_number(float(weights[last, k]), 2), later=format_percent(later, 0))


def map_rows(weights: np.ndarray, labels: list[str]) -> list[dict]:
    """Per token: the token it looks at most, and its share of weight on later tokens."""
    return [{_("position"): i, _("token"): label, _("looks most at"): labels[int(row.argmax())],
             _("weight"): format_number(float(row.max()), 2),
             _("on later tokens"): format_percent(float(row[i + 1:].sum() / row.sum()) if row.sum() else 0.0, 0)}
            for i, (label, row) in enumerate(zip(labels, weights))]


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
    fig = go.Figure(go.Heatmap(z=z, x=columns, y=rows, colorscale=palette.SEQUENTIAL, zmin=0, xgap=1, ygap=1,
                               colorbar=dict(title=_("weight")),
                               hovertemplate=_("writing %{y}: looks at %{x} with %{z:.3f}") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=[columns[0], columns[-1]], y=[rows[step], rows[step]], mode="lines",
                             line=dict(color=VERMILION, width=3), hoverinfo="skip", showlegend=False))
    fig.add_vline(x=len(written.prompt_ids) - 0.5, line_color=VERMILION, line_dash="dash")
    fig.update_layout(height=140 + 26 * n, margin=dict(l=10, r=10, t=110, b=10), plot_bgcolor="rgba(0,0,0,0)",
                      xaxis=dict(title=_("looks at (dashed line: end of the prompt)"), side="top", tickangle=-60, type="category"),
                      yaxis=dict(title=_("token being written"), autorange="reversed", type="category"))
    return fig


def writing_rows(row: np.ndarray, all_pieces: list[TokenPiece], n_prompt: int) -> list[dict]:
    return [{_("position"): k, _("token"): token_label(p), _("part"): _("prompt") if k < n_prompt else _("written"),
             _("weight"): format_number(float(w), 3)}
            for k, (p, w) in enumerate(zip(all_pieces, row))]
