"""Streamlit glue for the Softmax page: cached lens/position results and their figures.

Everything here reads the shared one-forward analysis (`state.cached_analysis`); nothing reruns
the model. The figures only draw `explain` results.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explain import logit_lens
from explain.next_token import NextTokenDistribution
from ui import state
from ui.html import visible_text

BLUE, ORANGE, GREEN, VERMILION, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#999999"


@st.cache_data(max_entries=64, show_spinner=False)
def cached_lens(model_name: str, ids: tuple[int, ...]) -> logit_lens.LogitLens:
    hidden = state.cached_analysis(model_name, ids).hidden_states
    return logit_lens.logit_lens(state.get_model(model_name), hidden, position=-1, top_k=3)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_positions(model_name: str, ids: tuple[int, ...]) -> logit_lens.PositionPredictions:
    hidden = state.cached_analysis(model_name, ids).hidden_states
    return logit_lens.position_predictions(state.get_model(model_name), list(ids), hidden)


def _label(rank: int, display: str) -> str:
    return f"{rank}. '{html.escape(visible_text(display), quote=False)}'"


def logit_bars(dist: NextTokenDistribution) -> go.Figure:
    """The raw scores (logits) of the top-n tokens, most likely on top."""
    labels = [_label(rank + 1, p.display) for rank, p in enumerate(dist.pieces)]
    fig = go.Figure(
        go.Bar(
            x=dist.logits, y=labels, orientation="h", marker_color=ORANGE,
            text=[f"{v:.2f}" for v in dist.logits], textposition="auto",
            hovertemplate="%{y}<br>logit %{x:.3f}<extra></extra>",
        )
    )
    low = min(dist.logits)
    fig.update_layout(
        yaxis=dict(autorange="reversed"),
        xaxis=dict(title="logit (raw score)", range=[min(0.0, low - 1), max(dist.logits) + 0.5]),
        height=60 + 26 * len(labels), margin=dict(l=10, r=10, t=10, b=40),
    )
    return fig


def logit_histogram(logits: np.ndarray, top_n: int) -> go.Figure:
    """How many of all the vocabulary's logits fall in each range; the top-n region shaded."""
    counts, edges = np.histogram(logits, bins=80)
    centres = (edges[:-1] + edges[1:]) / 2
    cut = float(np.sort(logits)[-top_n])
    fig = go.Figure(
        go.Bar(
            x=centres, y=counts, width=np.diff(edges), marker_color=[ORANGE if c >= cut else GREY for c in centres],
            hovertemplate="logit ≈ %{x:.1f}: %{y:,} tokens<extra></extra>",
        )
    )
    fig.add_vline(x=cut, line_dash="dash", line_color=VERMILION)
    fig.add_annotation(x=cut, y=1, yref="paper", text=f"top {top_n} →", showarrow=False, xanchor="left",
                       font=dict(color=VERMILION))
    fig.update_layout(
        xaxis=dict(title=f"logit (all {logits.size:,} tokens)"), yaxis=dict(title="tokens", type="log"),
        height=300, margin=dict(l=10, r=10, t=10, b=40), bargap=0,
    )
    return fig


def lens_figure(lens: logit_lens.LogitLens) -> go.Figure:
    """Per layer: the probability of the final answer, and the layer's own top guess (hover/labels)."""
    top1 = [pieces[0].display for pieces in lens.top_pieces]
    hover = [
        "<br>".join(f"{html.escape(visible_text(p.display), quote=False)} {prob:.1%}" for p, prob in zip(pieces, probs))
        for pieces, probs in zip(lens.top_pieces, lens.top_probs)
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=lens.layers, y=lens.final_token_probs, mode="lines+markers", line_color=BLUE,
            name=f"P('{visible_text(lens.final_token.display)}')", customdata=hover,
            hovertemplate="after layer %{x}<br>top guesses:<br>%{customdata}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=lens.layers, y=[probs[0] for probs in lens.top_probs], mode="markers+text",
            # Label a layer only where its top guess changes, so the labels stay readable.
            text=[visible_text(t)[:10] if i == 0 or t != top1[i - 1] else "" for i, t in enumerate(top1)],
            textposition="top center", textfont=dict(size=10),
            marker=dict(color=ORANGE, size=7), name="the layer's top guess", hoverinfo="skip",
        )
    )
    fig.update_layout(
        xaxis=dict(title="layer (0 = the token's embedding)", dtick=2),
        yaxis=dict(title="probability", tickformat=".0%", range=[0, 1.12]),
        height=380, margin=dict(l=10, r=10, t=10, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
    )
    return fig


def _surprise_colour(prob: float) -> str:
    """Green (expected) → yellow → red (surprising), on a log scale of the probability."""
    level = min(1.0, max(0.0, -np.log10(max(prob, 1e-12)) / 4))  # 1 → 0, 1e-4 or less → 1
    stops = [(0.0, (201, 235, 221)), (0.5, (251, 227, 181)), (1.0, (246, 190, 170))]
    for (a, ca), (b, cb) in zip(stops, stops[1:]):
        if level <= b:
            t = (level - a) / (b - a)
            rgb = [round(x + (y - x) * t) for x, y in zip(ca, cb)]
            return "#%02X%02X%02X" % tuple(rgb)
    return "#F6BEAA"


def _short_percent(prob: float) -> str:
    if prob >= 0.095:
        return f"{prob:.0%}"
    return f"{prob:.1%}" if prob >= 0.001 else "<0.1%"


def surprise_spans(first_piece_display: str, preds: logit_lens.PositionPredictions) -> str:
    """The prompt as spans coloured by how likely the model found each token (escaped HTML)."""
    spans = [
        '<span style="display:inline-block;border:1px dashed #0005;border-radius:4px;padding:1px 4px;'
        f'margin:2px 1px;font-family:monospace;white-space:pre" title="the first token has no prediction">'
        f"{html.escape(visible_text(first_piece_display))}</span>"
    ]
    for actual, guess, prob, gprob, rank in zip(
        preds.actual, preds.guesses, preds.actual_probs, preds.guess_probs, preds.actual_ranks
    ):
        tip = f"model gave it {prob:.1%} (rank {rank}); its top guess was '{visible_text(guess.display)}' ({gprob:.1%})"
        spans.append(
            f'<span title="{html.escape(tip)}" style="display:inline-block;background:{_surprise_colour(prob)};'
            'color:#111;border:1px solid #0003;border-radius:4px;padding:1px 4px;margin:2px 1px;'
            'font-family:monospace;white-space:pre;text-align:center">'
            f"{html.escape(visible_text(actual.display))}"
            f'<span style="display:block;font-size:0.7em;color:#444">{_short_percent(prob)}</span></span>'
        )
    legend = (
        '<div style="font-size:0.8em;color:#444;margin-top:4px">'
        f'<span style="background:{_surprise_colour(0.9)};padding:0 6px">expected (≥ 50%)</span> '
        f'<span style="background:{_surprise_colour(0.01)};padding:0 6px">surprising (≈ 1%)</span> '
        f'<span style="background:{_surprise_colour(1e-5)};padding:0 6px">very surprising (≤ 0.01%)</span>'
        " · hover a token for the model's own guess</div>"
    )
    return f'<div style="line-height:2.4;word-break:break-all" dir="ltr">{"".join(spans)}</div>{legend}'
