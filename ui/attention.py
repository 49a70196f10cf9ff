"""Streamlit glue for the Attention page: cached look-ups, bertviz HTML, the Plotly figures and
the sentences and tables that say what each figure shows (for screen readers and for the class).

Everything comes from the shared forward pass (`ui.state.cached_analysis`): the weights, and the
hidden states from which the scores view recomputes one layer's queries and keys. Every token
label is escaped: Plotly renders a subset of HTML in tick labels and hover text. Every shown
string is translated (`ui.i18n`), numbers in the locale's format.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explain import attention, limits
from explain.limits import VIEW_CAP
from explain.tokens import TokenPiece
from explain.engine.models import LoadedModel
from ui import bertviz_offline, palette
from ui.figures import TITLE_ABOVE_PLOT
from ui.html import markdown_escape, visible_text
from ui.i18n import N_, _, babel_locale, format_number, format_percent, ngettext
from ui.state import BY_MODEL_NAME, cached_analysis

LABEL_CHARS = 14  # longer token labels are cut with "…"
CELL_TEXT_CAP = 12  # heatmaps up to this many tokens print each weight in its cell (not colour alone)
HIGHLIGHT = palette.categorical(5)  # Okabe–Ito vermillion: the chosen head, the most attended token
# What the gallery can be coloured by, as shown: key of attention.STATISTICS -> (label, what it measures).
STATISTIC_TEXT: dict[str, tuple[str, str]] = {
    "first": (N_("attention to the first token"), N_("mean weight token i gives to token 0 (i ≥ 2)")),
    "previous": (N_("attention to the previous token"), N_("mean weight token i gives to token i−1 (i ≥ 2)")),
    "self": (N_("attention to itself"), N_("mean weight token i gives to itself (i ≥ 2)")),
    "entropy": (N_("spread (entropy, bits)"),
                N_("mean entropy of a row (i ≥ 2), in bits: 0 = one token gets everything")),
}
# attention.KIND_RULES, as shown: kind -> (name, rule); {threshold} is attention.KIND_THRESHOLD.
KIND_TEXT: dict[str, tuple[str, str]] = {
    "previous-token head": (N_("previous-token head"), N_("attention to the previous token > {threshold}")),
    "first-token head": (N_("first-token head"), N_("attention to the first token > {threshold}")),
    "self head": (N_("self head"), N_("attention to itself > {threshold}")),
    "spread-out head": (N_("spread-out head"),
                        N_("none of the above, and entropy above half its maximum (log₂ of the row length)")),
    "mixed head": (N_("mixed head"), N_("none of the above: weight goes to a few content-dependent tokens")),
}


# ---------------------------------------------------------------------------------------------
# Cached computations (keyed by plain values)


def view_attentions(lm: LoadedModel, ids: tuple[int, ...]) -> np.ndarray:
    """(n_layer, n_head, t, t) for the first t ≤ VIEW_CAP tokens. The model is causal, so these
    rows equal what a forward pass over the first t tokens alone would give."""
    t = min(len(ids), VIEW_CAP)
    return cached_analysis(lm, ids).attentions[:, :, :t, :t]


@st.cache_data(max_entries=limits.HEAD_STATISTICS_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_statistics(lm: LoadedModel, ids: tuple[int, ...]) -> attention.HeadStatistics:
    return attention.head_statistics(cached_analysis(lm, ids).attentions)


@st.cache_data(max_entries=limits.ATTENTION_SCORES_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_scores(lm: LoadedModel, ids: tuple[int, ...], layer: int) -> attention.AttentionScores:
    """Pre-softmax scores of one layer's heads, first VIEW_CAP tokens (no new forward pass)."""
    t = min(len(ids), VIEW_CAP)
    layer_input = cached_analysis(lm, ids).hidden_states[layer, :t]
    return attention.attention_scores(lm, layer_input, layer)


@st.cache_data(max_entries=limits.HEAD_VIEW_CACHE_ENTRIES, max_size=f"{limits.HEAD_VIEW_CACHE_MB}MB", hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_head_view(
    lm: LoadedModel, ids: tuple[int, ...], labels: tuple[str, ...], layer: int, zoom: float = 1.0
) -> str:
    return bertviz_offline.head_view_html(view_attentions(lm, ids), list(labels), [layer], layer, zoom=zoom)


@st.cache_data(max_entries=limits.MODEL_VIEW_CACHE_ENTRIES, max_size=f"{limits.MODEL_VIEW_CACHE_MB}MB", hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_model_view(lm: LoadedModel, ids: tuple[int, ...], labels: tuple[str, ...], layers: tuple[int, ...]) -> str:
    return bertviz_offline.model_view_html(view_attentions(lm, ids), list(labels), list(layers))


# ---------------------------------------------------------------------------------------------
# Labels and messages


def token_label(piece: TokenPiece) -> str:
    """Raw (unescaped) short text for a token: spaces as ·, cut to LABEL_CHARS."""
    text = visible_text(piece.display)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def axis_labels(pieces: list[TokenPiece]) -> list[str]:
    """Escaped, unique axis labels: "3 ·mat" (position first, so repeated tokens stay apart)."""
    return [html.escape(f"{p.index} {token_label(p)}") for p in pieces]


def quoted(label: str) -> str:
    """A token label for Markdown: “·it” (escaped, so a token is shown as typed)."""
    return f"“{markdown_escape(label)}”"


def statistic_label(key: str) -> str:
    return _(STATISTIC_TEXT[key][0])


def kind_name(kind: str) -> str:
    return _(KIND_TEXT[kind][0])


def kind_rule(kind: str) -> str:
    return _(KIND_TEXT[kind][1]).format(threshold=format_number(attention.KIND_THRESHOLD, 1))


def too_short_message(n_tokens: int) -> str:
    """Why a prompt of fewer than attention.MIN_TOKENS_FOR_KINDS tokens gets no head kinds."""
    return ngettext(
        "With {count} token, the first token, the previous token and the token itself are never three "
        "different tokens (for token 1 the previous token is the first one), so head types can't be "
        "told apart: use a prompt of at least {minimum} tokens.",
        "With {count} tokens, the first token, the previous token and the token itself are never three "
        "different tokens (for token 1 the previous token is the first one), so head types can't be "
        "told apart: use a prompt of at least {minimum} tokens.",
        n_tokens,
    ).format(count=n_tokens, minimum=attention.MIN_TOKENS_FOR_KINDS)


def plotly_separators() -> str:
    """Plotly's `separators` for the session's locale: decimal mark, then thousands separator."""
    locale = babel_locale()
    return locale.number_symbols["latn"]["decimal"] + locale.number_symbols["latn"]["group"]


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
            z=shown, x=labels, y=labels, customdata=custom, colorscale=palette.SEQUENTIAL, zmin=0, zmax=1,
            colorbar=dict(title=_("weight")), xgap=1, ygap=1,
            texttemplate="%{z:.2f}" if t <= CELL_TEXT_CAP else None,
            hovertemplate=_("“%{customdata[0]}” attends to “%{customdata[1]}” with weight %{z:.3f}") + "<extra></extra>",
        )
    )
    size = max(360, min(900, 60 + 22 * t))
    fig.update_layout(
        title=dict(text=html.escape(title), **TITLE_ABOVE_PLOT), height=size + 130,
        margin=dict(l=10, r=10, t=40, b=10), separators=plotly_separators(),
        xaxis=dict(title=_("attends to (key)"), tickangle=-60, type="category", automargin=True),
        yaxis=dict(title=_("token that looks (query)"), autorange="reversed", type="category", automargin=True),
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def gallery_figure(stats: attention.HeadStatistics, statistic: str, chosen: tuple[int, int]) -> go.Figure:
    """Every layer × head as a square marker coloured by `statistic`; click one to pick it."""
    values = stats.values(statistic)
    n_layer, n_head = values.shape
    layers, heads = np.meshgrid(np.arange(n_layer), np.arange(n_head), indexing="ij")
    kinds = np.array([[kind_name(kind) for kind in row] for row in stats.kinds])
    label = statistic_label(statistic)
    fig = go.Figure(
        go.Scatter(
            x=heads.ravel(), y=layers.ravel(), mode="markers",
            marker=dict(
                symbol="square", size=22, color=values.ravel(), colorscale=palette.SEQUENTIAL,
                colorbar=dict(title=html.escape(label.split(" (")[0])), line=dict(width=0.5, color="#888"),
                cmin=0, cmax=(stats.max_entropy if statistic == "entropy" else 1),
            ),
            customdata=np.stack([kinds.ravel(), values.ravel()], axis=-1),
            hovertemplate=_("layer %{y}, head %{x}") + "<br>" + html.escape(label)
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
        xaxis=dict(title=_("head"), dtick=1, range=[-0.7, n_head - 0.3]),
        yaxis=dict(title=_("layer"), dtick=1 if n_layer <= 16 else 2, range=[n_layer - 0.3, -0.7], automargin=True),
        clickmode="event+select", dragmode=False, separators=plotly_separators(),
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
            z=weights, x=labels, y=list(range(n_layer)), colorscale=palette.SEQUENTIAL, zmin=0, zmax=1,
            colorbar=dict(title=_("weight")), xgap=1, ygap=1,
            hovertemplate=_("layer %{{y}}: “{token}” → %{{x}} with weight %{{z:.3f}}").format(token=who)
            + "<extra></extra>",
        )
    )
    best = weights.argmax(axis=1)
    fig.add_trace(
        go.Scatter(
            x=[labels[i] for i in best], y=list(range(n_layer)), mode="markers", hoverinfo="skip",
            marker=dict(symbol="circle-open", size=12, color=HIGHLIGHT, line=dict(width=2)),
            name=_("most attended"),
        )
    )
    fig.update_layout(
        # The top margin holds the upright token labels and the axis title under the export title.
        height=max(420, 20 * n_layer + 200), margin=dict(l=10, r=10, t=110, b=10), showlegend=False,
        xaxis=dict(title=_("earlier token"), side="top", tickangle=-60, type="category"),
        yaxis=dict(title=_("layer"), range=[n_layer - 0.5, -0.5], dtick=2, automargin=True),
        separators=plotly_separators(),
    )
    return fig


def scores_heatmap(scores: attention.AttentionScores, head: int, pieces: list[TokenPiece]) -> go.Figure:
    """The masked scores q·k/√d of one head: future cells empty (−∞ before the softmax)."""
    masked = scores.masked(head)
    t = masked.shape[0]
    labels = axis_labels(pieces[:t])
    shown = np.where(np.isfinite(masked), masked, np.nan)
    fig = go.Figure(
        go.Heatmap(
            z=shown, x=labels, y=labels, colorscale=palette.DIVERGING, reversescale=True, zmid=0,
            xgap=1, ygap=1, colorbar=dict(title=_("score")),
            texttemplate="%{z:.1f}" if t <= CELL_TEXT_CAP else None,
            hovertemplate=_("query %{y} · key %{x} / √d = %{z:.2f}") + "<extra></extra>",
        )
    )
    size = max(360, min(900, 60 + 22 * t))
    title = _("Before the softmax: q·k/√d<br>layer {layer}, head {head}").format(layer=scores.layer, head=head)
    fig.update_layout(
        title=dict(text=title, **TITLE_ABOVE_PLOT), separators=plotly_separators(),
        height=size + 130, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(title=_("key"), tickangle=-60, type="category", automargin=True),
        yaxis=dict(title=_("query"), autorange="reversed", type="category", automargin=True),
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Tables (each figure's data, for "show as table") and the sentences that say what a figure shows


def scores_row_table(scores: attention.AttentionScores, head: int, row: int, pieces) -> dict:
    """One query row, column by column: raw score, the mask added to it, exp, weight."""
    masked = scores.masked(head)[row]
    weights = scores.weights(head)[row]
    finite = np.isfinite(masked)
    exp = np.where(finite, np.exp(np.where(finite, masked - masked[finite].max(), 0.0)), 0.0)
    t = masked.shape[0]
    return {
        _("key token"): [f"{j} {token_label(pieces[j])}" for j in range(t)],
        "q·k/√d": [float(scores.scores[head, row, j]) for j in range(t)],
        _("+ mask"): ["0" if finite[j] else _("−∞ (future)") for j in range(t)],
        "e^(score − max)": [float(v) for v in exp],
        _("weight"): [float(w) for w in weights],
    }


def matrix_table(values: np.ndarray, pieces: list[TokenPiece], digits: int = 3) -> dict:
    """A (t, t) heatmap as a table: one row per query token, one column per key token; the
    masked future is blank."""
    t = values.shape[0]
    table: dict[str, list] = {_("token that looks (query)"): [f"{p.index} {token_label(p)}" for p in pieces[:t]]}
    for j in range(t):
        table[f"{j} {token_label(pieces[j])}"] = [
            round(float(values[i, j]), digits) if j <= i and np.isfinite(values[i, j]) else None for i in range(t)
        ]
    return table


def heatmap_sentence(weights: np.ndarray, pieces: list[TokenPiece], position: int, layer: int, head: int) -> str:
    """What one head's heatmap shows, computed: where `position` looks, and how many rows look
    mostly at the first token (Markdown)."""
    best, weight = attention.strongest_keys(weights)
    t = weights.shape[0]
    position = min(position, t - 1)
    sinks = int((best == 0).sum())
    return _(
        "In layer {layer}, head {head}, {token} attends most to {target} ({weight}). "
        "{sinks} of {count} tokens give most of their weight to the first token {first}."
    ).format(
        layer=layer, head=head, token=quoted(token_label(pieces[position])),
        target=quoted(token_label(pieces[int(best[position])])), weight=format_percent(float(weight[position])),
        sinks=sinks, count=t, first=quoted(token_label(pieces[0])),
    )


def head_view_table(weights: np.ndarray, pieces: list[TokenPiece]) -> dict:
    """One layer's heads as a table: for each token, the token each head gives most weight to.
    weights: (n_head, t, t)."""
    n_head, t, _t = weights.shape
    table: dict[str, list] = {_("token"): [f"{p.index} {token_label(p)}" for p in pieces[:t]]}
    mean_best, mean_weight = attention.strongest_keys(weights.mean(axis=0))
    table[_("heads averaged")] = [
        f"{token_label(pieces[int(j)])} {format_percent(float(w), 0)}" for j, w in zip(mean_best, mean_weight)
    ]
    for h in range(n_head):
        best, weight = attention.strongest_keys(weights[h])
        table[_("head {head}").format(head=h)] = [
            f"{token_label(pieces[int(j)])} {format_percent(float(w), 0)}" for j, w in zip(best, weight)
        ]
    return table


def head_view_sentence(weights: np.ndarray, pieces: list[TokenPiece], position: int, layer: int) -> str:
    """The head view's text equivalent: where `position` looks in `layer`, heads averaged and per head."""
    mean_best, mean_weight = attention.strongest_keys(weights.mean(axis=0))
    position = min(position, weights.shape[1] - 1)
    per_head = [int(attention.strongest_keys(w)[0][position]) for w in weights]
    agree = per_head.count(int(mean_best[position]))
    return _(
        "The lines show layer {layer}. Averaged over its {n_head} heads, {token} attends most to {target} "
        "({weight}); {agree} of the {n_head} heads give it their largest weight."
    ).format(
        layer=layer, n_head=weights.shape[0], token=quoted(token_label(pieces[position])),
        target=quoted(token_label(pieces[int(mean_best[position])])),
        weight=format_percent(float(mean_weight[position])), agree=agree,
    )


def kinds_sentence(stats: attention.HeadStatistics, layers: tuple[int, ...]) -> str:
    """The model view's text equivalent: how many heads of `layers` are of each kind."""
    kinds = [kind for layer in layers for kind in stats.kinds[layer]]
    parts = [f"{kind_name(kind)}: {kinds.count(kind)}" for kind in attention.KIND_RULES if kinds.count(kind)]
    return _("Layers {first}–{last}, {count} heads by kind — {kinds}.").format(
        first=layers[0], last=layers[-1], count=len(kinds), kinds="; ".join(parts)
    )


def kinds_grid(stats: attention.HeadStatistics, layers: tuple[int, ...]) -> dict:
    """Layers (rows) × heads (columns): each head's kind."""
    table: dict[str, list] = {_("layer"): list(layers)}
    for h in range(len(stats.kinds[0])):
        table[_("head {head}").format(head=h)] = [kind_name(stats.kinds[layer][h]) for layer in layers]
    return table


def gallery_table(stats: attention.HeadStatistics, statistic: str) -> dict:
    """Every head, one row each: layer, head, the statistic, its kind."""
    values = stats.values(statistic)
    n_layer, n_head = values.shape
    return {
        _("layer"): [l for l in range(n_layer) for _h in range(n_head)],
        _("head"): [h for _l in range(n_layer) for h in range(n_head)],
        statistic_label(statistic): [round(float(v), 3) for v in values.ravel()],
        _("kind"): [kind_name(kind) for row in stats.kinds for kind in row],
    }


def gallery_sentence(stats: attention.HeadStatistics, statistic: str) -> str:
    values = stats.values(statistic)
    (hl, hh), (ll, lh) = attention.extreme_heads(values)
    return _(
        "Coloured by {statistic}: highest in layer {high_layer}, head {high_head} ({high}); lowest in "
        "layer {low_layer}, head {low_head} ({low})."
    ).format(
        statistic=statistic_label(statistic), high_layer=hl, high_head=hh, high=format_number(values[hl, hh], 2),
        low_layer=ll, low_head=lh, low=format_number(values[ll, lh], 2),
    )


def follow_table(focus: attention.TokenFocus, pieces: list[TokenPiece], head: int | None) -> dict:
    """The follow chart's data: for each layer, the most attended earlier token and its weight."""
    weights = focus.mean_over_heads if head is None else focus.per_head[:, head, :]
    best = weights.argmax(axis=1)
    return {
        _("layer"): list(range(weights.shape[0])),
        _("most attended token"): [f"{int(j)} {token_label(pieces[int(j)])}" for j in best],
        _("weight"): [round(float(weights[l, j]), 3) for l, j in enumerate(best)],
    }


def scores_sentence(scores: attention.AttentionScores, head: int, pieces: list[TokenPiece], row: int) -> str:
    masked = scores.masked(head)
    row = min(row, masked.shape[0] - 1)
    best = int(np.argmax(masked[row]))
    return _(
        "Before the softmax, in layer {layer}, head {head}, the highest score of {token} is for {target} "
        "({score}); the softmax turns it into a weight of {weight}."
    ).format(
        layer=scores.layer, head=head, token=quoted(token_label(pieces[row])),
        target=quoted(token_label(pieces[best])), score=format_number(float(masked[row, best]), 2),
        weight=format_percent(float(scores.weights(head)[row, best])),
    )
