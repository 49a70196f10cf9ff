"""Plotly figure builders: they draw `explain` results and compute nothing the site teaches."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from explain.anatomy import ModelAnatomy, millions, share
from explain.next_token import NextTokenDistribution
from ui.html import visible_text


def probability_bars(dist: NextTokenDistribution) -> go.Figure:
    """Horizontal bars of the top-n next tokens, most likely on top."""
    # Plotly reads a little HTML in labels (<b>, <br>, <a>): escape, so a token shows as typed.
    labels = [f"{rank + 1}. '{html.escape(visible_text(p.display), quote=False)}'" for rank, p in enumerate(dist.pieces)]
    fig = go.Figure(
        go.Bar(
            x=dist.probs,
            y=labels,
            orientation="h",
            text=[f"{p:.1%}" for p in dist.probs],
            textposition="auto",
            marker_color="#0072B2",
            customdata=dist.logits,
            hovertemplate="%{y}<br>probability %{x:.2%}<br>logit %{customdata:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis=dict(autorange="reversed"),
        xaxis=dict(title="probability", tickformat=".0%", range=[0, max(1e-9, max(dist.probs)) * 1.1]),
        height=60 + 34 * len(labels),
        margin=dict(l=10, r=10, t=10, b=40),
    )
    return fig


def anatomy_bars(anatomy: ModelAnatomy) -> go.Figure:
    parts = sorted(anatomy.params_by_part.items(), key=lambda item: -item[1])
    fig = go.Figure(
        go.Bar(
            x=[count for _, count in parts],
            y=[name for name, _ in parts],
            orientation="h",
            text=[f"{millions(count)} ({share(count, anatomy.n_params)})" for _, count in parts],
            textposition="auto",
            marker_color="#009E73",
            hovertemplate="%{y}: %{x:,} parameters<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis=dict(autorange="reversed"),
        xaxis=dict(title="parameters"),
        height=60 + 40 * len(parts),
        margin=dict(l=10, r=10, t=10, b=40),
    )
    return fig
