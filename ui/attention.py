"""Streamlit glue for the Attention page: cached look-ups, bertviz HTML and the Plotly figures.

Everything comes from the shared forward pass (`ui.state.cached_analysis`): the weights, and the
hidden states from which the scores view recomputes one layer's queries and keys. Every token label is escaped: Plotly
renders a subset of HTML in tick labels and hover text.
"""

from __future__ import annotations

import hashlib
import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explain import attention
from explain.tokens import TokenPiece
from ui import bertviz_offline
from ui.html import visible_text
from ui.state import cached_analysis, get_model

VIEW_CAP = 48  # tokens shown in bertviz, heatmaps and the scores view
LABEL_CHARS = 14  # longer token labels are cut with "…"
SEQUENTIAL = "Blues"
HIGHLIGHT = "#D55E00"  # Okabe–Ito vermillion: the chosen head, the most attended token
# Square heatmaps: the title sits just above the plot and the key axis (rotated labels and its
# title) below it; automargin grows the margins to fit both, so presenter-size fonts never clip.
TITLE_ABOVE_PLOT = dict(yref="paper", y=1, yanchor="bottom", automargin=True, pad=dict(b=10))
GALLERY_SCALES = {"first": "Oranges", "previous": "Greens", "self": "Purples", "entropy": "Viridis"}


# ---------------------------------------------------------------------------------------------
# Cached computations (keyed by plain values)


def view_attentions(model_name: str, ids: tuple[int, ...]) -> np.ndarray:
    """(n_layer, n_head, t, t) for the first t ≤ VIEW_CAP tokens. The model is causal, so these
    rows equal what a forward pass over the first t tokens alone would give."""
    t = min(len(ids), VIEW_CAP)
    return cached_analysis(model_name, ids).attentions[:, :, :t, :t]


@st.cache_data(max_entries=64, show_spinner=False)
def cached_statistics(model_name: str, ids: tuple[int, ...]) -> attention.HeadStatistics:
    return attention.head_statistics(cached_analysis(model_name, ids).attentions)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_scores(model_name: str, ids: tuple[int, ...], layer: int) -> attention.AttentionScores:
    """Pre-softmax scores of one layer's heads, first VIEW_CAP tokens (no new forward pass)."""
    t = min(len(ids), VIEW_CAP)
    layer_input = cached_analysis(model_name, ids).hidden_states[layer, :t]
    return attention.attention_scores(get_model(model_name), layer_input, layer)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_head_view(
    model_name: str, ids: tuple[int, ...], labels: tuple[str, ...], layer: int, zoom: float = 1.0
) -> str:
    return bertviz_offline.head_view_html(view_attentions(model_name, ids), list(labels), [layer], layer, zoom=zoom)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_model_view(model_name: str, ids: tuple[int, ...], labels: tuple[str, ...], layers: tuple[int, ...]) -> str:
    return bertviz_offline.model_view_html(view_attentions(model_name, ids), list(labels), list(layers))


# ---------------------------------------------------------------------------------------------
# Labels


def prompt_key(name: str, ids: tuple[int, ...]) -> str:
    """A widget key that changes with the prompt, for controls that pick a token of the prompt:
    a new prompt (a preset, the sidebar, a link) gets a fresh widget with its own default."""
    digest = hashlib.blake2b(repr(ids).encode(), digest_size=6).hexdigest()
    return f"{name}_{digest}"


def token_label(piece: TokenPiece) -> str:
    """Raw (unescaped) short text for a token: spaces as ·, cut to LABEL_CHARS."""
    text = visible_text(piece.display)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def axis_labels(pieces: list[TokenPiece]) -> list[str]:
    """Escaped, unique axis labels: "3 ·mat" (position first, so repeated tokens stay apart)."""
    return [html.escape(f"{p.index} {token_label(p)}") for p in pieces]


# ---------------------------------------------------------------------------------------------
# Figures


def attention_heatmap(weights: np.ndarray, pieces: list[TokenPiece], title: str) -> go.Figure:
    """weights: (t, t) one head; rows = the token that looks, columns = the token looked at.
    Future cells (j > i) are left empty: the causal mask."""
    t = weights.shape[0]
    labels = axis_labels(pieces[:t])
    shown = np.where(np.tril(np.ones((t, t), dtype=bool)), weights, np.nan)
    names = [html.escape(token_label(p)) for p in pieces[:t]]
    custom = np.array([[[names[i], names[j]] for j in range(t)] for i in range(t)])
    fig = go.Figure(
        go.Heatmap(
            z=shown, x=labels, y=labels, customdata=custom, colorscale=SEQUENTIAL, zmin=0, zmax=1,
            colorbar=dict(title="weight"), xgap=1, ygap=1,
            hovertemplate="“%{customdata[0]}” attends to “%{customdata[1]}” with weight %{z:.3f}<extra></extra>",
        )
    )
    size = max(360, min(900, 60 + 22 * t))
    fig.update_layout(
        title=dict(text=title, **TITLE_ABOVE_PLOT), height=size + 130, margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(title="attends to (key)", tickangle=-60, type="category", automargin=True),
        yaxis=dict(title="token that looks (query)", autorange="reversed", type="category"),
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def gallery_figure(stats: attention.HeadStatistics, statistic: str, chosen: tuple[int, int]) -> go.Figure:
    """Every layer × head as a square marker coloured by `statistic`; click one to pick it."""
    values = stats.values(statistic)
    n_layer, n_head = values.shape
    layers, heads = np.meshgrid(np.arange(n_layer), np.arange(n_head), indexing="ij")
    kinds = np.array(stats.kinds)
    label, _ = attention.STATISTICS[statistic]
    fig = go.Figure(
        go.Scatter(
            x=heads.ravel(), y=layers.ravel(), mode="markers",
            marker=dict(
                symbol="square", size=22, color=values.ravel(), colorscale=GALLERY_SCALES[statistic],
                colorbar=dict(title=label.split(" (")[0]), line=dict(width=0.5, color="#888"),
                cmin=0, cmax=(stats.max_entropy if statistic == "entropy" else 1),
            ),
            customdata=np.stack([kinds.ravel(), values.ravel()], axis=-1),
            hovertemplate="layer %{y}, head %{x}<br>" + html.escape(label)
            + " = %{customdata[1]:.2f}<br>%{customdata[0]}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[chosen[1]], y=[chosen[0]], mode="markers", hoverinfo="skip", showlegend=False,
            marker=dict(symbol="square-open", size=30, color=HIGHLIGHT, line=dict(width=3)),
        )
    )
    fig.update_layout(
        height=max(420, 24 * n_layer + 120), margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
        xaxis=dict(title="head", dtick=1, range=[-0.7, n_head - 0.3]),
        yaxis=dict(title="layer", dtick=1 if n_layer <= 16 else 2, range=[n_layer - 0.3, -0.7]),
        clickmode="event+select", dragmode=False,
    )
    return fig


def follow_figure(focus: attention.TokenFocus, pieces: list[TokenPiece], head: int | None) -> go.Figure:
    """Layers (rows) × earlier tokens (columns): how much the followed token looks at each."""
    weights = focus.mean_over_heads if head is None else focus.per_head[:, head, :]
    n_layer, width = weights.shape
    labels = axis_labels(pieces[:width])
    who = html.escape(token_label(pieces[focus.position]))
    fig = go.Figure(
        go.Heatmap(
            z=weights, x=labels, y=list(range(n_layer)), colorscale=SEQUENTIAL, zmin=0, zmax=1,
            colorbar=dict(title="weight"), xgap=1, ygap=1,
            hovertemplate=f"layer %{{y}}: “{who}” → %{{x}} with weight %{{z:.3f}}<extra></extra>",
        )
    )
    best = weights.argmax(axis=1)
    fig.add_trace(
        go.Scatter(
            x=[labels[i] for i in best], y=list(range(n_layer)), mode="markers", hoverinfo="skip",
            marker=dict(symbol="circle-open", size=12, color=HIGHLIGHT, line=dict(width=2)),
            name="most attended",
        )
    )
    fig.update_layout(
        height=max(420, 20 * n_layer + 140), margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
        xaxis=dict(title="earlier token", side="top", tickangle=-60, type="category"),
        yaxis=dict(title="layer", range=[n_layer - 0.5, -0.5], dtick=2),
    )
    return fig


def scores_row_table(scores: attention.AttentionScores, head: int, row: int, pieces) -> dict:
    """One query row, column by column: raw score, the mask added to it, exp, weight."""
    masked = scores.masked(head)[row]
    weights = scores.weights(head)[row]
    finite = np.isfinite(masked)
    exp = np.where(finite, np.exp(np.where(finite, masked - masked[finite].max(), 0.0)), 0.0)
    t = masked.shape[0]
    return {
        "key token": [f"{j} {token_label(pieces[j])}" for j in range(t)],
        "q·k/√d": [float(scores.scores[head, row, j]) for j in range(t)],
        "+ mask": ["0" if finite[j] else "−∞ (future)" for j in range(t)],
        "e^(score − max)": [float(v) for v in exp],
        "weight": [float(w) for w in weights],
    }


def scores_heatmap(scores: attention.AttentionScores, head: int, pieces: list[TokenPiece]) -> go.Figure:
    """The masked scores q·k/√d of one head: future cells empty (−∞ before the softmax)."""
    layer = scores.layer
    masked = scores.masked(head)
    t = masked.shape[0]
    labels = axis_labels(pieces[:t])
    shown = np.where(np.isfinite(masked), masked, np.nan)
    fig = go.Figure(
        go.Heatmap(
            z=shown, x=labels, y=labels, colorscale="RdBu_r", zmid=0, xgap=1, ygap=1,
            colorbar=dict(title="score"),
            hovertemplate="query %{y} · key %{x} / √d = %{z:.2f}<extra></extra>",
        )
    )
    size = max(360, min(900, 60 + 22 * t))
    fig.update_layout(
        title=dict(text=f"Before the softmax: q·k/√d<br>layer {layer}, head {head}", **TITLE_ABOVE_PLOT),
        height=size + 130, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(title="key", tickangle=-60, type="category", automargin=True),
        yaxis=dict(title="query", autorange="reversed", type="category"),
    )
    return fig
