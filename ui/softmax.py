"""Streamlit glue for the Softmax page: cached lens/position/word results and their figures.

Lens and positions read the shared one-forward analysis (`state.cached_analysis`); a typed word
of several tokens costs one more forward (cached per word). The figures only draw `explain` results.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explain import logit_lens, word_probability
from explain.next_token import NextTokenDistribution
from explain.tokens import text_direction
from explain.word_probability import WordProbability
from ui import state
from ui.figures import probability_bars
from ui.html import chip, chip_row, readable_label, visible_text

BLUE, ORANGE, GREEN, VERMILION, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#999999"


@st.cache_data(max_entries=64, show_spinner=False)
def cached_lens(model_name: str, ids: tuple[int, ...]) -> logit_lens.LogitLens:
    hidden = state.cached_analysis(model_name, ids).hidden_states
    return logit_lens.logit_lens(state.get_model(model_name), hidden, position=-1, top_k=3)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_positions(model_name: str, ids: tuple[int, ...]) -> logit_lens.PositionPredictions:
    hidden = state.cached_analysis(model_name, ids).hidden_states
    return logit_lens.position_predictions(state.get_model(model_name), list(ids), hidden)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_chain_logits(model_name: str, ids: tuple[int, ...], word_ids: tuple[int, ...]) -> np.ndarray:
    """(k, vocab) logits for the word's tokens; a one-token word reuses the prompt's own forward."""
    if len(word_ids) == 1:
        return state.cached_analysis(model_name, ids).last_logits[None]
    return word_probability.chain_logits(state.get_model(model_name), list(ids), list(word_ids))


def measured_word(lm, ids: tuple[int, ...], text: str, temperature: float) -> WordProbability | None:
    """The chain-rule probability of `text` after the prompt `ids`; None if it has no tokens."""
    word = word_probability.word_tokens(lm, text)
    if word is None:
        return None
    logits = cached_chain_logits(lm.name, ids, tuple(word.ids))
    return word_probability.word_probability_from_logits(lm, logits, word, temperature)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _scientific(log10_value: float) -> str:
    """10 ** log10_value written as '1.8 × 10⁻⁶' (one decimal)."""
    exponent = int(np.floor(log10_value))
    mantissa = 10 ** (log10_value - exponent)
    if round(mantissa, 1) >= 10:
        mantissa, exponent = 1.0, exponent + 1
    return f"{mantissa:.1f} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def probability_text(log10_prob: float) -> str:
    """'77.3%', '0.52%', or '1.8 × 10⁻⁶' below 0.01 %, from log10(p), so tiny products never underflow."""
    if log10_prob >= -1:
        return f"{10 ** log10_prob:.1%}"
    if log10_prob >= -4:
        return f"{10 ** log10_prob * 100:#.2g}".rstrip(".") + "%"  # 2 significant digits: '1.0%', '0.052%'
    return _scientific(log10_prob)


def one_in(log10_prob: float) -> str:
    """'1 in 560,000' for a probability given by its log10 (2 significant digits; '1 in 5.0 × 10²⁶' past a billion)."""
    if log10_prob <= -9:
        return f"1 in {_scientific(-log10_prob)}"
    return f"1 in {float(f'{10 ** -log10_prob:.2g}'):,.0f}"




def _givens(word: WordProbability) -> list[str]:
    """What each factor is conditioned on: the prompt, then the prompt + the word's earlier tokens."""
    return ["your prompt" + ("" if i == 0 else " + " + "".join(f.piece.display for f in word.factors[:i]))
            for i in range(len(word.factors))]


def _quoted(display: str) -> str:
    return "'" + html.escape(visible_text(display)) + "'"


def chain_html(word: WordProbability) -> str:
    """P(word) = P(t1) × P(t2 | t1) × … as token chips with their conditional probabilities (escaped HTML)."""
    chips = []
    for i, (factor, given) in enumerate(zip(word.factors, _givens(word))):
        below = (f"part of {factor.part_of} · " if factor.part_of else "") + probability_text(factor.log10_prob)
        chips.append(chip(readable_label(factor.piece.display), i, below=below,
                          title=f"P({visible_text(factor.piece.display)!r} | {visible_text(given)})"))
    product = (
        f'<span style="white-space:nowrap">= <b>{probability_text(word.log10_prob)}</b>'
        + (f" ({one_in(word.log10_prob)})" if word.log10_prob < -2 else "")
        + "</span>"
    )
    return (
        '<div dir="ltr" style="display:flex;flex-wrap:wrap;align-items:center;gap:6px;line-height:1.3">'
        f'<span style="white-space:nowrap">P({_quoted(word.text)}) =</span>'
        + '<span aria-label="times">×</span>'.join(chips)
        + product
        + "</div>"
    )


def chain_table(word: WordProbability) -> dict[str, list]:
    """The chain as table columns: every factor with what it is conditioned on."""
    return {
        "step": list(range(1, len(word.factors) + 1)),
        "token": [repr(visible_text(f.piece.display)) + (f" (part of {f.part_of})" if f.part_of else "")
                  for f in word.factors],
        "given": [visible_text(g if len(g) <= 40 else g[:14] + "…" + g[-24:]) for g in _givens(word)],
        "probability": [probability_text(f.log10_prob) for f in word.factors],
    }


def probability_chart(dist: NextTokenDistribution) -> go.Figure:
    """The top-n probability bars, compact enough to sit beside the temperature slider on a projector."""
    fig = probability_bars(dist)
    fig.update_layout(height=60 + 26 * len(dist.pieces))
    return fig


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
    spans = [chip(readable_label(first_piece_display), 0, title="the first token has no prediction", kind="partial",
                  background="#EEEEEE")]
    for actual, guess, prob, gprob, rank in zip(
        preds.actual, preds.guesses, preds.actual_probs, preds.guess_probs, preds.actual_ranks
    ):
        tip = f"model gave it {prob:.1%} (rank {rank}); its top guess was '{visible_text(guess.display)}' ({gprob:.1%})"
        spans.append(chip(readable_label(actual.display), actual.index, title=tip, below=_short_percent(prob),
                          background=_surprise_colour(prob)))
    legend = (
        '<div style="font-size:0.8em;color:#444;margin-top:4px">'
        f'<span style="background:{_surprise_colour(0.9)};padding:0 6px">expected (≥ 50%)</span> '
        f'<span style="background:{_surprise_colour(0.01)};padding:0 6px">surprising (≈ 1%)</span> '
        f'<span style="background:{_surprise_colour(1e-5)};padding:0 6px">very surprising (≤ 0.01%)</span>'
        " · the model's own guess at each position: hover a token, or open the table below</div>"
    )
    return chip_row(spans, text_direction(first_piece_display + "".join(a.text for a in preds.actual))) + legend
