"""Streamlit glue for the Embeddings page: cached look-ups and the Plotly figures it draws.

The normalised embedding matrix is built once per model (`st.cache_resource`), so a neighbour
query is one matrix–vector product. Figures only draw `explain.embeddings` results.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explain import embeddings, positions
from explain.tokens import TokenPiece, text_direction, token_pieces
from ui.html import chip, chip_row, readable_label, token_spans, visible_text
from ui.state import get_model

DIVERGING = "RdBu_r"  # blue negative, red positive; readable for colour-blind viewers
WORD_COLOUR = "#D55E00"
BACKGROUND_COLOUR = "#9AA5B1"


# ---------------------------------------------------------------------------------------------
# Cached computations (keyed by plain values)


@st.cache_resource(max_entries=2, show_spinner=False)
def cached_index(model_name: str) -> embeddings.EmbeddingIndex:
    """The row-normalised embedding matrix of one model, shared read-only by every visitor."""
    return embeddings.embedding_index(get_model(model_name))


@st.cache_data(max_entries=1024, show_spinner=False)
def cached_word_vector(model_name: str, word: str, leading_space: bool) -> embeddings.WordVector:
    return embeddings.word_vector(get_model(model_name), word, leading_space)


@st.cache_data(max_entries=4, show_spinner=False)
def cached_common_words(model_name: str, n: int) -> list[TokenPiece]:
    lm = get_model(model_name)
    return token_pieces(lm, embeddings.common_word_ids(lm, n))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_locate_word(model_name: str, sentence: str, word: str) -> embeddings.WordInSentence:
    return embeddings.locate_word(get_model(model_name), sentence, word)


@st.cache_resource(max_entries=4, show_spinner=False)
def cached_position_scheme(model_name: str) -> positions.PositionScheme:
    return positions.position_scheme(get_model(model_name))


@st.cache_data(max_entries=16, show_spinner=False)
def cached_sinusoids(n_positions: int, d_model: int) -> np.ndarray:
    return positions.sinusoidal_encoding(n_positions, d_model)


# ---------------------------------------------------------------------------------------------
# Small HTML and text helpers (every visitor-derived string escaped)


def piece_label(piece: TokenPiece) -> str:
    """A token as text for a chart or table: leading spaces shown as ·."""
    return visible_text(piece.display)


def pieces_html(word: embeddings.WordVector) -> str:
    """The word's token pieces as coloured spans with ids, plus how the vector was formed."""
    if word.n_pieces == 1:
        how = "one token: its vector is that row of the embedding matrix"
    else:
        how = f"{word.n_pieces} tokens: the word's vector is the mean of their {word.n_pieces} rows"
    return (
        f'<div><b>{html.escape(word.word)}</b> → {token_spans(word.pieces)}'
        f'<span style="color:#444">{html.escape(how)}</span></div>'
    )


def sentence_html(found: embeddings.WordInSentence) -> str:
    """The sentence's tokens as chips; the pieces that make up the shared word are outlined."""
    chips = [
        chip(readable_label(piece.display), piece.index, title=f"token #{piece.index}, id {piece.id}",
             kind="chosen" if piece.index in found.positions else "plain", bold=piece.index in found.positions)
        for piece in found.pieces
    ]
    return chip_row(chips, text_direction("".join(piece.text for piece in found.pieces)))


def neighbours_table(neighbours: embeddings.Neighbours) -> dict[str, list]:
    return {
        "rank": list(range(1, len(neighbours.pieces) + 1)),
        "token": [f"'{piece_label(p)}'" for p in neighbours.pieces],
        "id": neighbours.ids,
        "cosine similarity": [round(s, 3) for s in neighbours.similarities],
        "angle (°)": [round(a, 1) for a in neighbours.angles_deg],
    }


# One precision per column (a rounded 1.0 would otherwise show as "1" beside "0.815").
NEIGHBOUR_COLUMNS = {
    "cosine similarity": st.column_config.NumberColumn(format="%.3f"),
    "angle (°)": st.column_config.NumberColumn(format="%.1f"),
}


def table_height(n_rows: int) -> int:
    """Pixels for a dataframe that shows every row without scrolling (35 px rows + header)."""
    return 38 + 35 * n_rows


def excluded_note(neighbours: embeddings.Neighbours) -> str:
    """Markdown saying which tokens were left out and what they scored (empty when none)."""
    if not neighbours.excluded:
        return ""
    parts = [
        f"`{piece_label(e.piece)}` ({e.reason}, similarity {e.similarity:.3f})" for e in neighbours.excluded
    ]
    return "Left out on purpose: " + "; ".join(parts) + "."


def drift_sentence(drift: embeddings.ContextDrift, word: str) -> str:
    """What the similarity curve does, in computed numbers (markdown; `word` escaped)."""
    values = drift.similarities
    summary = embeddings.summarize_curve(values)
    last = len(values) - 1

    def where(i: int) -> str:
        return "at the input embeddings" if i == 0 else ("after the last layer" if i == last else f"after layer {i}")

    text = (
        f"Here the similarity of the two “{html.escape(visible_text(word))}” vectors is "
        f"**{summary.start:.3f}** at the input embeddings and lowest {where(summary.lowest_index)} "
        f"(**{summary.lowest:.3f}**)"
    )
    if summary.rise is None:
        text += f"; it never rises again by more than {embeddings.RISE_TOLERANCE}"
    else:
        low, high = summary.rise_values
        i, j = summary.rise
        text += (
            f". It does not move one way only: from {low:.3f} {where(i)} it rises again to "
            f"{high:.3f} {where(j)}"
        )
    if summary.lowest_index != last:
        text += f". After the last layer it is **{summary.final:.3f}**"
    return text + "."


# ---------------------------------------------------------------------------------------------
# Figures


def vector_picture(word: embeddings.WordVector, columns: int = 48) -> go.Figure:
    """The d numbers of one vector folded into a grid (row-major), coloured by value."""
    d = word.vector.shape[0]
    rows = math.ceil(d / columns)
    grid = np.full(rows * columns, np.nan)
    grid[:d] = word.vector
    index = np.arange(rows * columns).reshape(rows, columns)
    limit = float(np.abs(word.vector).max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=grid.reshape(rows, columns),
            customdata=index,
            zmin=-limit,
            zmax=limit,
            colorscale=DIVERGING,
            hovertemplate="dimension %{customdata}<br>value %{z:.4f}<extra></extra>",
            colorbar=dict(title="value", thickness=12),
            xgap=1,
            ygap=1,
        )
    )
    fig.update_layout(
        height=40 + 22 * rows,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, autorange="reversed"),
    )
    return fig


def prompt_vectors_figure(pieces: list[TokenPiece], vectors: np.ndarray) -> go.Figure:
    """(T, d) prompt vectors as a heatmap: one row per token."""
    labels = [f"{p.index}: {visible_text(p.display)}" for p in pieces]
    limit = float(np.percentile(np.abs(vectors), 99)) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=vectors,
            y=labels,
            zmin=-limit,
            zmax=limit,
            colorscale=DIVERGING,
            hovertemplate="%{y}<br>dimension %{x}<br>value %{z:.4f}<extra></extra>",
            colorbar=dict(title="value", thickness=12),
        )
    )
    fig.update_layout(
        height=80 + 24 * len(labels),
        margin=dict(l=10, r=10, t=10, b=40),
        xaxis=dict(title="dimension"),
        yaxis=dict(autorange="reversed", type="category"),
    )
    return fig


def similarity_heatmap(matrix: embeddings.SimilarityMatrix) -> go.Figure:
    n = len(matrix.labels)
    labels = [visible_text(label) for label in matrix.labels]
    fig = go.Figure(
        go.Heatmap(
            z=matrix.cosines,
            x=labels,
            y=labels,
            customdata=matrix.angles_deg,
            zmin=-1,
            zmax=1,
            colorscale=DIVERGING,
            texttemplate="%{z:.2f}" if n <= 15 else None,  # "1.00", not "1", beside "0.35"
            hovertemplate="%{y} · %{x}<br>cosine %{z:.3f}<br>angle %{customdata:.1f}°<extra></extra>",
            colorbar=dict(title="cosine", thickness=12),
        )
    )
    fig.update_layout(
        height=min(900, 160 + 32 * n),
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis=dict(autorange="reversed"),
        xaxis=dict(tickangle=-45),
    )
    return fig


def label_positions(coords: np.ndarray) -> list[str]:
    """Where each point's label goes: crowded points take turns above, below, left and right."""
    places = ["top center", "bottom center", "middle left", "middle right"]
    span = float(np.ptp(coords, axis=0).max()) or 1.0
    positions = []
    for i, point in enumerate(coords):
        crowd = sum(1 for other in coords[:i] if np.linalg.norm(point - other) < 0.08 * span)
        positions.append(places[crowd % len(places)])
    return positions


def map_figure(word_map: embeddings.WordMap) -> go.Figure:
    fig = go.Figure()
    if word_map.background_pieces:
        fig.add_trace(
            go.Scattergl(
                x=word_map.background_coords[:, 0],
                y=word_map.background_coords[:, 1],
                mode="markers",
                marker=dict(size=5, color=BACKGROUND_COLOUR, opacity=0.5),
                text=[piece_label(p) for p in word_map.background_pieces],
                hovertemplate="'%{text}' (common token)<extra></extra>",
                name="common tokens",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=word_map.coords[:, 0],
            y=word_map.coords[:, 1],
            mode="markers+text",
            marker=dict(size=11, color=WORD_COLOUR, line=dict(width=1, color="#222")),
            text=[visible_text(label) for label in word_map.labels],
            textposition=label_positions(word_map.coords),
            textfont=dict(size=14),
            hovertemplate="%{text}<br>PC1 %{x:.3f}<br>PC2 %{y:.3f}<extra></extra>",
            name="your words",
        )
    )
    pc1, pc2 = word_map.explained_variance_ratio
    fig.update_layout(
        height=560,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title=f"PC1 ({pc1:.0%} of the variance)", zeroline=False),
        yaxis=dict(title=f"PC2 ({pc2:.0%} of the variance)", zeroline=False),
        legend=dict(orientation="h", y=1.02, yanchor="bottom"),
        dragmode="zoom",
    )
    return fig


def drift_figure(drift: embeddings.ContextDrift, word: str, layer: int) -> go.Figure:
    layers = list(range(len(drift.similarities)))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=layers,
            y=drift.similarities,
            mode="lines+markers",
            name=f"“{visible_text(word)}” in A vs “{visible_text(word)}” in B",
            line=dict(color=WORD_COLOUR, width=3),
            hovertemplate="after layer %{x}: cosine %{y:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=layers,
            y=drift.baseline,
            mode="lines",
            name=f"“{visible_text(word)}” in A vs the other tokens of B (mean)",
            line=dict(color="#0072B2", dash="dash"),
            hovertemplate="after layer %{x}: cosine %{y:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[layers[0], layers[-1]],
            y=[drift.input_similarity] * 2,
            mode="lines",
            name="input embeddings (the same row)",
            line=dict(color="#444", dash="dot"),
            hovertemplate="input embeddings: cosine %{y:.3f}<extra></extra>",
        )
    )
    fig.add_vline(x=layer, line=dict(color="#009E73", width=2))
    fig.update_layout(
        height=420,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="layer (0 = input embeddings)", dtick=5 if len(layers) > 12 else 1),
        yaxis=dict(title="cosine similarity", range=[min(0.0, float(np.nanmin(drift.baseline)) - 0.05), 1.05]),
        legend=dict(orientation="h", y=1.02, yanchor="bottom"),
    )
    return fig


def positions_heatmap(table: np.ndarray, title: str) -> go.Figure:
    """(positions, dimensions) values as a heatmap, position 0 at the top."""
    fig = go.Figure(
        go.Heatmap(
            z=table,
            colorscale=DIVERGING,
            zmid=0,
            hovertemplate="position %{y}<br>dimension %{x}<br>value %{z:.3f}<extra></extra>",
            colorbar=dict(title="value", thickness=12),
        )
    )
    fig.update_layout(
        height=380,
        margin=dict(l=10, r=10, t=30, b=10),
        title=dict(text=title, font=dict(size=14)),
        xaxis=dict(title="dimension"),
        yaxis=dict(title="position", autorange="reversed"),
    )
    return fig
