"""Streamlit glue for the Embeddings page: cached look-ups, the Plotly figures it draws, and the
sentences and tables that say what each figure shows (for screen readers and for the class).

The embedding index (the model's own matrix and its row norms, no normalised copy) is built once
per model (`st.cache_resource`), so a neighbour query is one matrix–vector product. Figures only
draw `explain.embeddings` results. Every shown string is translated (`ui.i18n`), numbers in the
locale's format.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explain import embeddings, limits, positions
from explain.tokens import TokenPiece, text_direction, token_pieces
from explain.engine.models import LoadedModel
from ui import palette
from ui.figures import TITLE_ABOVE_PLOT
from ui.html import chip, chip_row, markdown_escape, readable_label, token_spans, visible_text
from ui.i18n import _, babel_locale, format_number, format_percent
from ui.state import BY_MODEL_NAME

WORD_COLOUR = palette.categorical(5)  # vermillion: the learner's words
BASELINE_COLOUR = palette.categorical(4)  # blue: the reference line
LAYER_COLOUR = palette.categorical(2)  # bluish green: the chosen layer
BACKGROUND_COLOUR = "#9AA5B1"  # grey dots (neutral, not a category)
VECTOR_COLUMNS = 48  # the vector picture folds a vector into rows of this many numbers
MAP_LEGEND_ROOM_PX = 28  # above the map: its one-line legend, clear of the export title's model line
DRIFT_LEGEND_ROOM_PX = 64  # above the drift plot: its legend wraps to three lines on a phone, under the export title


def plotly_separators() -> str:
    """Plotly's `separators` for the session's locale: decimal mark, then thousands separator."""
    symbols = babel_locale().number_symbols["latn"]
    return symbols["decimal"] + symbols["group"]


def table_toggle(key: str) -> bool:
    """The "show as table" switch under a chart (in the URL, so a shared link keeps it)."""
    return st.toggle(_("Show as table"), key=key, bind="query-params",
                     help=_("The chart's numbers as a table, for screen readers and for copying."))


# ---------------------------------------------------------------------------------------------
# Cached computations (keyed by plain values)


@st.cache_resource(max_entries=limits.EMBEDDING_INDEX_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_index(lm: LoadedModel) -> embeddings.EmbeddingIndex:
    """The embedding index of one model (its matrix and row norms), shared read-only by every visitor."""
    return embeddings.embedding_index(lm)


@st.cache_data(max_entries=limits.WORD_VECTOR_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_word_vector(lm: LoadedModel, word: str, leading_space: bool) -> embeddings.WordVector:
    return embeddings.word_vector(lm, word, leading_space)


@st.cache_data(max_entries=limits.COMMON_WORDS_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_common_words(lm: LoadedModel, n: int) -> list[TokenPiece]:
    return token_pieces(lm, embeddings.common_word_ids(lm, n))


@st.cache_data(max_entries=limits.LOCATE_WORD_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_locate_word(lm: LoadedModel, sentence: str, word: str) -> embeddings.WordInSentence:
    return embeddings.locate_word(lm, sentence, word)


@st.cache_resource(max_entries=limits.POSITION_SCHEME_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_position_scheme(lm: LoadedModel) -> positions.PositionScheme:
    return positions.position_scheme(lm)


@st.cache_data(max_entries=limits.SINUSOIDS_CACHE_ENTRIES, max_size=f"{limits.SINUSOIDS_CACHE_MB}MB", show_spinner=False)
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
        how = _("one token: its vector is that row of the embedding matrix")
    else:
        how = _("{count} tokens: the word's vector is the mean of their {count} rows").format(count=word.n_pieces)
    return (  # the explanation in the theme's own text colour, so it stays readable in the dark theme
        f'<div><b>{html.escape(word.word)}</b> → {token_spans(word.pieces)}'
        f'<span style="opacity:0.85">{html.escape(how)}</span></div>'
    )


def sentence_html(found: embeddings.WordInSentence) -> str:
    """The sentence's tokens as chips; the pieces that make up the shared word are outlined."""
    chips = [
        chip(readable_label(piece.display), piece.index, title=_("token #{index}, id {id}").format(index=piece.index, id=piece.id),
             kind="chosen" if piece.index in found.positions else "plain", bold=piece.index in found.positions)
        for piece in found.pieces
    ]
    return chip_row(chips, text_direction("".join(piece.text for piece in found.pieces)))


def neighbours_table(neighbours: embeddings.Neighbours) -> dict[str, list]:
    return {
        _("rank"): list(range(1, len(neighbours.pieces) + 1)),
        _("token"): [f"'{piece_label(p)}'" for p in neighbours.pieces],
        _("id"): neighbours.ids,
        _("cosine similarity"): [round(s, 3) for s in neighbours.similarities],
        _("angle (°)"): [round(a, 1) for a in neighbours.angles_deg],
    }


def neighbour_columns() -> dict:
    """One precision per column (a rounded 1.0 would otherwise show as "1" beside "0.815"); short
    headers (the full name in the header's tooltip), so a 390 px phone shows every column whole."""
    return {
        _("rank"): st.column_config.NumberColumn("#", help=_("rank"), width=40),
        _("id"): st.column_config.NumberColumn(_("id"), width=64),
        _("cosine similarity"): st.column_config.NumberColumn("cos", help=_("cosine similarity"), format="%.3f", width=64),
        _("angle (°)"): st.column_config.NumberColumn("∠ °", help=_("angle (°)"), format="%.1f", width=56),
    }


def table_height(n_rows: int) -> int:
    """Pixels for a dataframe that shows every row without scrolling (35 px rows + header)."""
    return 38 + 35 * n_rows


def excluded_reason(excluded: embeddings.ExcludedToken) -> str:
    """Why a token was left out, in the session's language (Markdown: the input word escaped)."""
    if not excluded.role:
        return excluded.reason  # given by the page, already translated
    message = _("another form of input {role} ({word})") if excluded.other_form else _("input {role} ({word})")
    return message.format(role=excluded.role, word=markdown_escape(excluded.word))


def excluded_note(neighbours: embeddings.Neighbours) -> str:
    """Markdown saying which tokens were left out and what they scored (empty when none)."""
    if not neighbours.excluded:
        return ""
    parts = [
        _("`{token}` ({reason}, similarity {similarity})").format(
            token=piece_label(e.piece), reason=excluded_reason(e),
            similarity=format_number(e.similarity, 3))
        for e in neighbours.excluded
    ]
    return _("Left out on purpose: {tokens}.").format(tokens="; ".join(parts))


def drift_sentence(drift: embeddings.ContextDrift, word: str) -> str:
    """What the similarity curve does, in computed numbers (markdown; `word` escaped)."""
    values = drift.similarities
    summary = embeddings.summarize_curve(values)
    last = len(values) - 1

    def where(i: int) -> str:
        if i == 0:
            return _("at the input embeddings")
        return _("after the last layer") if i == last else _("after layer {layer}").format(layer=i)

    sentences = [_(
        "Here the similarity of the two “{word}” vectors is **{start}** at the input embeddings and "
        "lowest {where} (**{lowest}**)."
    ).format(word=markdown_escape(visible_text(word)), start=format_number(summary.start, 3),
             where=where(summary.lowest_index), lowest=format_number(summary.lowest, 3))]
    if summary.rise is None:
        sentences.append(_("It never rises again by more than {tolerance}.").format(
            tolerance=format_number(embeddings.RISE_TOLERANCE, 2)))
    else:
        (low, high), (i, j) = summary.rise_values, summary.rise
        sentences.append(_("It does not move one way only: from {low} {where_low} it rises again to {high} {where_high}.").format(
            low=format_number(low, 3), where_low=where(i), high=format_number(high, 3), where_high=where(j)))
    if summary.lowest_index != last:
        sentences.append(_("After the last layer it is **{final}**.").format(final=format_number(summary.final, 3)))
    return " ".join(sentences)


def position_statement(scheme: positions.PositionScheme, model_name: str) -> str:
    """How the live model encodes word order, in one sentence (from `positions.position_scheme`)."""
    if scheme.kind == "rotary":
        return _(
            "{model} uses rotary position embeddings (RoPE, base θ = {theta}): nothing is added to the "
            "token vectors; inside every attention layer, queries and keys are rotated by an angle "
            "proportional to their position, so the attention score depends on how far apart two "
            "tokens are. Its config allows {positions} positions."
        ).format(model=model_name, theta=format_number(scheme.rope_theta), positions=format_number(scheme.max_positions))
    if scheme.kind == "learned absolute":
        n, d = scheme.learned.shape
        return _(
            "{model} adds a learned position vector to every token vector: row p of its position matrix "
            "({positions} positions × {dims} numbers), trained like the token embeddings, is added at "
            "position p before the first layer."
        ).format(model=model_name, positions=format_number(n), dims=d)
    return _("The config of {model} names no position scheme this page knows.").format(model=model_name)


# ---------------------------------------------------------------------------------------------
# What each chart shows, as a sentence and as a table


def vector_sentence(word: embeddings.WordVector) -> str:
    low, high = int(np.argmin(word.vector)), int(np.argmax(word.vector))
    return _(
        "The {dims} numbers of “{word}” run from {low} (dimension {low_dim}) to {high} (dimension {high_dim})."
    ).format(dims=word.vector.shape[0], word=markdown_escape(word.word), low=format_number(float(word.vector[low]), 3),
             low_dim=low, high=format_number(float(word.vector[high]), 3), high_dim=high)


def vector_table(word: embeddings.WordVector) -> dict:
    return {_("dimension"): list(range(word.vector.shape[0])), _("value"): [round(float(v), 4) for v in word.vector]}


def rows_table(row_labels: list[str], values: np.ndarray, first_column: str, digits: int = 3) -> dict:
    """A (rows, columns) array as a table: a label column, then one column per dimension."""
    table: dict[str, list] = {first_column: row_labels}
    for j in range(values.shape[1]):
        table[str(j)] = [round(float(v), digits) for v in values[:, j]]
    return table


def prompt_vectors_sentence(pieces: list[TokenPiece], vectors: np.ndarray) -> str:
    norms = np.linalg.norm(vectors, axis=1)
    longest, shortest = int(norms.argmax()), int(norms.argmin())
    return _(
        "{count} rows of {dims} numbers. The longest vector is token {long_index} “{long_token}” (length "
        "{long_norm}); the shortest is token {short_index} “{short_token}” ({short_norm})."
    ).format(count=len(pieces), dims=vectors.shape[1],
             long_index=longest, long_token=markdown_escape(piece_label(pieces[longest])),
             long_norm=format_number(float(norms[longest]), 2),
             short_index=shortest, short_token=markdown_escape(piece_label(pieces[shortest])),
             short_norm=format_number(float(norms[shortest]), 2))


def similarity_sentence(matrix: embeddings.SimilarityMatrix) -> str:
    (a, b), (c, d) = embeddings.closest_and_farthest(matrix)
    names = [markdown_escape(visible_text(label)) for label in matrix.labels]
    return _(
        "The most similar pair is “{a}” and “{b}” (cosine {best}, angle {best_angle}°); the least "
        "similar is “{c}” and “{d}” (cosine {worst}, angle {worst_angle}°)."
    ).format(a=names[a], b=names[b], best=format_number(matrix.cosines[a, b], 3),
             best_angle=format_number(matrix.angles_deg[a, b], 1), c=names[c], d=names[d],
             worst=format_number(matrix.cosines[c, d], 3), worst_angle=format_number(matrix.angles_deg[c, d], 1))


def similarity_table(matrix: embeddings.SimilarityMatrix) -> dict:
    """The cosine matrix as a table: one row and one column per word."""
    labels = [visible_text(label) for label in matrix.labels]
    table: dict[str, list] = {_("word"): labels}
    for j, label in enumerate(labels):
        table[label] = [round(float(v), 3) for v in matrix.cosines[:, j]]
    return table


def map_sentence(word_map: embeddings.WordMap) -> str:
    left, right = int(word_map.coords[:, 0].argmin()), int(word_map.coords[:, 0].argmax())
    bottom, top = int(word_map.coords[:, 1].argmin()), int(word_map.coords[:, 1].argmax())
    names = [markdown_escape(visible_text(label)) for label in word_map.labels]
    return _(
        "Along the first direction (left to right) the words run from “{left}” to “{right}”; along the "
        "second (bottom to top) from “{bottom}” to “{top}”."
    ).format(left=names[left], right=names[right], bottom=names[bottom], top=names[top])


def map_table(word_map: embeddings.WordMap) -> dict:
    return {
        _("word"): [visible_text(label) for label in word_map.labels],
        "PC1": [round(float(x), 3) for x in word_map.coords[:, 0]],
        "PC2": [round(float(y), 3) for y in word_map.coords[:, 1]],
    }


def drift_table(drift: embeddings.ContextDrift) -> dict:
    return {
        _("layer"): list(range(len(drift.similarities))),
        _("A vs B"): [round(float(v), 3) for v in drift.similarities],
        _("A vs the other tokens of B"): [round(float(v), 3) for v in drift.baseline],
    }


def sinusoids_sentence(d_model: int) -> str:
    lengths = positions.wavelengths(d_model)
    return _(
        "The first pair of dimensions repeats every {fast} positions; the last pair ({last_dims}) "
        "changes so slowly that it repeats only every {slow} positions: together they give each "
        "position its own pattern."
    ).format(fast=format_number(lengths[0], 1), slow=format_number(lengths[-1]),
             last_dims=f"{2 * (len(lengths) - 1)}–{min(2 * len(lengths) - 1, d_model - 1)}")


# ---------------------------------------------------------------------------------------------
# Figures


def vector_picture(word: embeddings.WordVector, columns: int = VECTOR_COLUMNS) -> go.Figure:
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
            colorscale=palette.DIVERGING,
            reversescale=True,  # blue negative, red positive
            hovertemplate=_("dimension %{customdata}<br>value %{z:.4f}") + "<extra></extra>",
            colorbar=dict(title=_("value"), thickness=12),
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
            colorscale=palette.DIVERGING,
            reversescale=True,  # blue negative, red positive
            hovertemplate=_("%{y}<br>dimension %{x}<br>value %{z:.4f}") + "<extra></extra>",
            colorbar=dict(title=_("value"), thickness=12),
        )
    )
    fig.update_layout(
        height=80 + 24 * len(labels),
        margin=dict(l=10, r=10, t=10, b=40),
        xaxis=dict(title=_("dimension")),
        yaxis=dict(autorange="reversed", type="category", automargin=True),
        separators=plotly_separators(),
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
            colorscale=palette.DIVERGING,
            reversescale=True,  # blue negative, red positive
            texttemplate="%{z:.2f}" if n <= 15 else None,  # "1.00", not "1", beside "0.35"
            hovertemplate=_("%{y} · %{x}<br>cosine %{z:.3f}<br>angle %{customdata:.1f}°") + "<extra></extra>",
            colorbar=dict(title=_("cosine"), thickness=12),
        )
    )
    fig.update_layout(
        height=min(900, 160 + 32 * n),
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis=dict(autorange="reversed", automargin=True),
        xaxis=dict(tickangle=-45, automargin=True),
        separators=plotly_separators(),
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
                hovertemplate=_("'%{text}' (common token)") + "<extra></extra>",
                name=_("common tokens"),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=word_map.coords[:, 0],
            y=word_map.coords[:, 1],
            mode="markers+text",
            marker=dict(size=11, color=WORD_COLOUR, line=dict(width=1, color=palette.CHIP_TEXT)),
            text=[visible_text(label) for label in word_map.labels],
            textposition=label_positions(word_map.coords),
            textfont=dict(size=14),
            hovertemplate="%{text}<br>PC1 %{x:.3f}<br>PC2 %{y:.3f}<extra></extra>",
            name=_("your words"),
        )
    )
    pc1, pc2 = word_map.explained_variance_ratio
    fig.update_layout(
        height=560,
        margin=dict(l=10, r=10, t=MAP_LEGEND_ROOM_PX, b=10),
        xaxis=dict(title=_("PC1 ({share} of the variance)").format(share=format_percent(pc1, 0)), zeroline=False),
        yaxis=dict(title=_("PC2 ({share} of the variance)").format(share=format_percent(pc2, 0)), zeroline=False,
                   automargin=True),
        separators=plotly_separators(),
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
            name=_("“{word}” in A vs “{word}” in B").format(word=html.escape(visible_text(word))),
            line=dict(color=WORD_COLOUR, width=3),
            hovertemplate=_("after layer %{x}: cosine %{y:.3f}") + "<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=layers,
            y=drift.baseline,
            mode="lines",
            name=_("“{word}” in A vs the other tokens of B (mean)").format(word=html.escape(visible_text(word))),
            line=dict(color=BASELINE_COLOUR, dash="dash"),
            hovertemplate=_("after layer %{x}: cosine %{y:.3f}") + "<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[layers[0], layers[-1]],
            y=[drift.input_similarity] * 2,
            mode="lines",
            name=_("input embeddings (the same row)"),
            line=dict(color="#888", dash="dot"),
            hovertemplate=_("input embeddings: cosine %{y:.3f}") + "<extra></extra>",
        )
    )
    fig.add_vline(x=layer, line=dict(color=LAYER_COLOUR, width=2))
    fig.update_layout(
        height=420 + DRIFT_LEGEND_ROOM_PX,
        margin=dict(l=10, r=10, t=DRIFT_LEGEND_ROOM_PX, b=10),
        xaxis=dict(title=_("layer (0 = input embeddings)"), dtick=5 if len(layers) > 12 else 1),
        yaxis=dict(title=_("cosine similarity"), range=[min(0.0, float(np.nanmin(drift.baseline)) - 0.05), 1.05],
                   automargin=True),
        separators=plotly_separators(),
        legend=dict(orientation="h", y=1.02, yanchor="bottom"),
    )
    return fig


def positions_heatmap(table: np.ndarray, title: str) -> go.Figure:
    """(positions, dimensions) values as a heatmap, position 0 at the top."""
    fig = go.Figure(
        go.Heatmap(
            z=table,
            colorscale=palette.DIVERGING,
            reversescale=True,  # blue negative, red positive
            zmid=0,
            hovertemplate=_("position %{y}<br>dimension %{x}<br>value %{z:.3f}") + "<extra></extra>",
            colorbar=dict(title=_("value"), thickness=12),
        )
    )
    fig.update_layout(
        height=380,
        margin=dict(l=10, r=10, t=30, b=10),
        title=dict(text=html.escape(title), font=dict(size=14), **TITLE_ABOVE_PLOT),
        xaxis=dict(title=_("dimension")),
        yaxis=dict(title=_("position"), autorange="reversed", automargin=True),
        separators=plotly_separators(),
    )
    return fig
