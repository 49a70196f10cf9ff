"""Drawing the precomputed Home snapshot (explain.snapshot) while the live model loads.

Its top five are drawn as a bar chart like the live one: besides looking like the page to come,
this makes the browser fetch and start Plotly (a 4.7 MB script, loaded with the first chart) while
the server is still loading the model, instead of after the live chart arrives (measured on a cold
start: the live chart then appeared ~2.5 s sooner).
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st

from explain.snapshot import HomeSnapshot
from explain.tokens import TokenPiece
from ui import palette
from ui.html import token_spans, visible_text
from ui.i18n import _, format_percent


def show_snapshot(snapshot: HomeSnapshot) -> None:
    st.info(_(
        "⏳ **The live model is loading** (the very first start converts it: about 20 s). "
        "Meanwhile, this is what it computed earlier for the default prompt — a *precomputed* "
        "result, not a live one."
    ))
    pieces = [
        TokenPiece(index=i, id=token_id, text=text, display=text, is_partial_character=False)
        for i, (text, token_id) in enumerate(zip(snapshot.tokens, snapshot.ids))
    ]
    st.markdown(_("**Prompt:** {count} tokens").format(count=len(pieces)))
    st.html(token_spans(pieces))
    st.markdown(_("**The five most likely next tokens (precomputed):**"))
    st.plotly_chart(top_five_bars(snapshot), width="stretch", key="snapshot_top5", config={"displayModeBar": False})
    st.table(
        {
            _("token"): [repr(token) for token in snapshot.top_tokens],
            _("probability"): [format_percent(p, 2) for p in snapshot.top_probs],
        }
    )
    st.markdown(_("**Greedy continuation (precomputed):**"))
    st.code(snapshot.prompt + snapshot.continuation, language=None, wrap_lines=True)


def top_five_bars(snapshot: HomeSnapshot) -> go.Figure:
    """The snapshot's top five as horizontal bars, most likely on top (as Home's live chart)."""
    labels = [f"{rank + 1}. '{html.escape(visible_text(token), quote=False)}'" for rank, token in enumerate(snapshot.top_tokens)]
    fig = go.Figure(go.Bar(x=snapshot.top_probs, y=labels, orientation="h", marker_color=palette.CATEGORICAL[4],
                           text=[format_percent(p) for p in snapshot.top_probs], textposition="auto", hoverinfo="skip"))
    fig.update_layout(yaxis=dict(autorange="reversed"), height=60 + 34 * len(labels), margin=dict(l=10, r=10, t=10, b=40),
                      xaxis=dict(title=_("probability"), tickformat=".0%", range=[0, max(snapshot.top_probs, default=1) * 1.1]))
    return fig
