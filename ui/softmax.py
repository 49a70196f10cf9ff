"""Streamlit glue for the Softmax page: cached lens/position/word results and their figures.

Lens and positions read the shared one-forward analysis (`state.cached_analysis`); a typed word
of several tokens costs one more forward (cached per word). The figures only draw `explain` results.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from babel import numbers

from explain import limits, logit_lens, word_probability
from explain.next_token import NextTokenDistribution
from explain.tokens import TokenPiece, character_groups, text_direction
from explain.word_probability import WordProbability
from explain.engine.models import LoadedModel
from ui import palette, state
from ui.figures import VALUE_LABEL_ROOM, probability_bars
from ui.html import chip, chip_row, grouped, markdown_escape, readable_label, visible_text, with_byte_piece_note
from ui.i18n import _, babel_locale, format_number, format_percent
from ui.state import BY_MODEL_NAME

ORANGE, BLUE, VERMILION = palette.CATEGORICAL[0], palette.CATEGORICAL[4], palette.CATEGORICAL[5]
GREY = "#999999"  # the bars outside the top n: neutral, and told apart by the dashed line and label too


@st.cache_data(max_entries=limits.LOGIT_LENS_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_lens(lm: LoadedModel, ids: tuple[int, ...]) -> logit_lens.LogitLens:
    hidden = state.cached_analysis(lm, ids).hidden_states
    return logit_lens.logit_lens(lm, hidden, position=-1, top_k=3)


@st.cache_data(max_entries=limits.POSITION_PREDICTIONS_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_positions(lm: LoadedModel, ids: tuple[int, ...]) -> logit_lens.PositionPredictions:
    hidden = state.cached_analysis(lm, ids).hidden_states
    return logit_lens.position_predictions(lm, list(ids), hidden)


def warm_up(lm: LoadedModel, ids: tuple[int, ...]) -> None:
    """What the Softmax page computes for a prompt beyond the shared analysis (its logit lens and
    per-position predictions, about 0.5 s), put in the cache ahead (ui.startup's warm-up)."""
    cached_lens(lm, tuple(ids))
    if len(ids) > 1:
        cached_positions(lm, tuple(ids))


@st.cache_data(max_entries=limits.CHAIN_LOGITS_CACHE_ENTRIES, max_size=f"{limits.CHAIN_LOGITS_CACHE_MB}MB", hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_chain_logits(lm: LoadedModel, ids: tuple[int, ...], word_ids: tuple[int, ...]) -> np.ndarray:
    """(k, vocab) logits for the word's tokens; a one-token word reuses the prompt's own forward."""
    if len(word_ids) == 1:
        return state.cached_analysis(lm, ids).last_logits[None]
    return word_probability.chain_logits(lm, list(ids), list(word_ids))


def measured_word(lm, ids: tuple[int, ...], text: str, temperature: float) -> WordProbability | None:
    """The chain-rule probability of `text` after the prompt `ids`; None if it has no tokens."""
    word = word_probability.word_tokens(lm, text)
    if word is None:
        return None
    logits = cached_chain_logits(lm, ids, tuple(word.ids))
    return word_probability.word_probability_from_logits(lm, logits, word, temperature)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _scientific(log10_value: float) -> str:
    """10 ** log10_value written as '1.8 × 10⁻⁶' (one decimal, the locale's decimal sign)."""
    exponent = int(np.floor(log10_value))
    mantissa = 10 ** (log10_value - exponent)
    if round(mantissa, 1) >= 10:
        mantissa, exponent = 1.0, exponent + 1
    return f"{format_number(mantissa, 1)} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def probability_text(log10_prob: float) -> str:
    """'77.3%', '0.52%', or '1.8 × 10⁻⁶' below 0.01 %, from log10(p), so tiny products never underflow.
    In the session's locale ('77,3 %' in French)."""
    if log10_prob >= -1:
        return format_percent(10 ** log10_prob)
    if log10_prob >= -4:
        percent = float(f"{10 ** log10_prob * 100:.2g}")  # 2 significant digits: '1.0%', '0.052%'
        return format_percent(percent / 100, max(0, 1 - int(np.floor(np.log10(percent)))))
    return _scientific(log10_prob)


def one_in(log10_prob: float) -> str:
    """'1 in 560,000' for a probability given by its log10 (2 significant digits; '1 in 5.0 × 10²⁶' past a billion)."""
    if log10_prob <= -9:
        return _("1 in {number}").format(number=_scientific(-log10_prob))
    return _("1 in {number}").format(number=format_number(float(f"{10 ** -log10_prob:.2g}")))


def plotly_separators() -> str:
    """Plotly's `layout.separators` for the session's locale: its decimal sign, then its group sign."""
    locale = babel_locale()
    return numbers.get_decimal_symbol(locale) + numbers.get_group_symbol(locale)


TABLE_CSS = ("border-collapse:collapse;font-size:0.9em;font-variant-numeric:tabular-nums",
             "padding:3px 10px;border-bottom:1px solid rgba(128,128,128,0.4);text-align:left;vertical-align:top")


def html_table(table: dict[str, list], label: str) -> str:
    """`table` (column name → values) as an escaped HTML table a screen reader reads as one. On a
    narrow screen it scrolls sideways inside a keyboard-focusable region named `label` (st.table's
    scroll box cannot take the focus, so a keyboard could not reach its right-hand columns)."""
    table_style, cell_style = TABLE_CSS
    head = "".join(f'<th scope="col" style="{cell_style}">{html.escape(str(name))}</th>' for name in table)
    rows = "".join(
        "<tr>" + "".join(f'<td style="{cell_style}">{html.escape(str(value))}</td>' for value in row) + "</tr>"
        for row in zip(*table.values())
    )
    return (f'<div role="region" tabindex="0" aria-label="{html.escape(label)}" style="overflow-x:auto;max-width:100%">'
            f'<table style="{table_style}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>')


def show_html_table(table: dict[str, list], label: str) -> None:
    """`table` as a real HTML table a keyboard and a screen reader reach (not `ui.presenter.show_table`'s
    data grid); its text is the page's own size, so presenter mode enlarges it too."""
    st.html(html_table(table, label))


def describe_chart(sentence: str, table: dict[str, list]) -> None:
    """A chart's text equivalent: the computed `sentence` (what it shows for this prompt), and its
    data behind "Show as table" (a real HTML table, which a screen reader can read)."""
    st.caption(sentence)
    with st.expander(_("Show as table")):
        show_html_table(table, _("The data of the chart above"))




def _givens(word: WordProbability) -> list[str]:
    """What each factor is conditioned on: the prompt, then the prompt + the word's earlier tokens
    (their whitespace made visible)."""
    return [_("your prompt") if i == 0 else
            _("your prompt + {tokens}").format(tokens=visible_text("".join(f.piece.display for f in word.factors[:i])))
            for i in range(len(word.factors))]


def _quoted(display: str) -> str:
    return "'" + html.escape(visible_text(display)) + "'"


def chain_html(word: WordProbability) -> str:
    """P(word) = P(t1) × P(t2 | t1) × … as token chips with their conditional probabilities (escaped HTML)."""
    chips = []
    part_of = _("part of {character}")
    times = html.escape(_("times"))
    for i, (factor, given) in enumerate(zip(word.factors, _givens(word))):
        below = (part_of.format(character=factor.part_of) + " · " if factor.part_of else "") + probability_text(factor.log10_prob)
        chips.append(chip(readable_label(factor.piece.display), i, below=below,
                          title=f"P({visible_text(factor.piece.display)!r} | {given})"))
    product = (
        f'<span style="white-space:nowrap">= <b>{probability_text(word.log10_prob)}</b>'
        + (f" ({one_in(word.log10_prob)})" if word.log10_prob < -2 else "")
        + "</span>"
    )
    return (
        '<div dir="ltr" style="display:flex;flex-wrap:wrap;align-items:center;gap:6px;line-height:1.3">'
        f'<span style="white-space:nowrap">P({_quoted(word.text)}) =</span>'
        + f'<span aria-label="{times}">×</span>'.join(chips)
        + product
        + "</div>"
    )


def chain_table(word: WordProbability) -> dict[str, list]:
    """The chain as table columns: every factor with what it is conditioned on."""
    return {
        _("step"): list(range(1, len(word.factors) + 1)),
        _("token"): [repr(visible_text(f.piece.display))
                     + (" " + _("(part of {character})").format(character=f.part_of) if f.part_of else "")
                     for f in word.factors],
        _("given"): [g if len(g) <= 40 else g[:14] + "…" + g[-24:] for g in _givens(word)],
        _("probability"): [probability_text(f.log10_prob) for f in word.factors],
    }


def probability_chart(dist: NextTokenDistribution) -> go.Figure:
    """The top-n probability bars, compact enough to sit beside the temperature slider on a projector;
    labels, hover and axis in the session's language and number format."""
    fig = probability_bars(dist)
    fig.update_traces(
        text=[format_percent(p) for p in dist.probs],
        customdata=[[format_percent(p, 2), format_number(z, 2)] for p, z in zip(dist.probs, dist.logits)],
        hovertemplate="%{y}<br>" + _("probability {probability}").format(probability="%{customdata[0]}")
                      + "<br>" + _("logit {logit}").format(logit="%{customdata[1]}") + "<extra></extra>",
    )
    # Rows a little tighter than other bar charts': with the export title above them, the chart still
    # fits beside the slider on a 1280×720 projector in presenter mode.
    fig.update_layout(height=60 + 21 * len(dist.pieces), separators=plotly_separators(),
                      xaxis_title=_("probability"))
    return fig


def probability_sentence(dist: NextTokenDistribution) -> str:
    """The probability chart in words: the top token, what the next four share, the top n's total."""
    rest = sum(dist.probs[1:5])
    sentence = _("The top token is {token} at {probability}; the next four share {rest}; "
                 "the {count} tokens shown hold {mass} together.").format(
        token=markdown_escape(repr(visible_text(dist.pieces[0].display))), probability=format_percent(dist.probs[0]),
        rest=format_percent(rest), count=len(dist.pieces), mass=format_percent(dist.top_n_mass))
    return with_byte_piece_note(sentence, dist.pieces)


def probability_table(dist: NextTokenDistribution) -> dict[str, list]:
    return {
        _("rank"): list(range(1, len(dist.pieces) + 1)),
        _("token"): [repr(visible_text(p.display)) for p in dist.pieces],
        _("probability"): [format_percent(p, 2) for p in dist.probs],
        _("logit"): [format_number(z, 2) for z in dist.logits],
    }


def _label(rank: int, display: str) -> str:
    return f"{rank}. '{html.escape(visible_text(display), quote=False)}'"


def logit_bars(dist: NextTokenDistribution) -> go.Figure:
    """The raw scores (logits) of the top-n tokens, most likely on top."""
    labels = [_label(rank + 1, p.display) for rank, p in enumerate(dist.pieces)]
    fig = go.Figure(
        go.Bar(
            x=dist.logits, y=labels, orientation="h", marker_color=ORANGE,
            # Outside the bar end, at the chart's type size (inside, Plotly shrank them to fit the bar).
            text=[format_number(v, 2) for v in dist.logits], textposition="outside", constraintext="none",
            cliponaxis=False, customdata=[format_number(v, 3) for v in dist.logits],
            hovertemplate="%{y}<br>" + _("logit {logit}").format(logit="%{customdata}") + "<extra></extra>",
        )
    )
    low, pad = min(dist.logits), VALUE_LABEL_ROOM * max(abs(v) for v in dist.logits)  # room for the labels
    fig.update_layout(
        yaxis=dict(autorange="reversed"), separators=plotly_separators(),
        xaxis=dict(title=_("logit (raw score)"), range=[min(0.0, low - pad), max(0.0, max(dist.logits)) + pad]),
        height=60 + 26 * len(labels), margin=dict(l=10, r=10, t=10, b=40),
    )
    return fig


def logit_sentence(dist: NextTokenDistribution) -> str:
    return _("The top token {token} scores {top}; the {count}th, {last}, scores {low}: "
             "a gap of {gap} in the raw scores.").format(
        token=repr(visible_text(dist.pieces[0].display)), top=format_number(dist.logits[0], 2),
        count=len(dist.pieces), last=repr(visible_text(dist.pieces[-1].display)),
        low=format_number(dist.logits[-1], 2), gap=format_number(dist.logits[0] - dist.logits[-1], 2))


HISTOGRAM_BINS = 80


def logit_histogram(logits: np.ndarray, top_n: int) -> go.Figure:
    """How many of all the vocabulary's logits fall in each range; the top-n region shaded.
    The log axis is labelled at powers of ten only (1, 10, 100, …), never '2 5 1000 5'."""
    counts, edges = np.histogram(logits, bins=HISTOGRAM_BINS)
    centres = (edges[:-1] + edges[1:]) / 2
    cut = float(np.sort(logits)[-top_n])
    hover = [_("logit ≈ {logit}: {count} tokens").format(logit=format_number(c, 1), count=format_number(n))
             for c, n in zip(centres, counts)]
    fig = go.Figure(
        go.Bar(
            x=centres, y=counts, width=np.diff(edges), marker_color=[ORANGE if c >= cut else GREY for c in centres],
            customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        )
    )
    fig.add_vline(x=cut, line_dash="dash", line_color=VERMILION)
    fig.add_annotation(x=cut, y=1, yref="paper", text=_("top {count} →").format(count=top_n), showarrow=False,
                       xanchor="left")  # the theme's text colour: vermilion text is 3.9:1 on white
    fig.update_layout(
        xaxis=dict(title=_("logit (all {count} tokens)").format(count=format_number(logits.size))),
        yaxis=dict(title=_("tokens"), type="log", dtick=1),
        height=300, margin=dict(l=10, r=10, t=10, b=40), bargap=0, separators=plotly_separators(),
    )
    return fig


def histogram_sentence(logits: np.ndarray, top_n: int) -> str:
    cut = float(np.sort(logits)[-top_n])
    below_zero = float((logits < 0).mean())
    return _("Of all {vocab} scores, {below} are below 0 and the middle half lie between {low} and {high}; "
             "the top {count} start at {cut} (the dashed line), far in the right tail.").format(
        vocab=format_number(logits.size), below=format_percent(below_zero),
        low=format_number(float(np.percentile(logits, 25)), 1), high=format_number(float(np.percentile(logits, 75)), 1),
        count=top_n, cut=format_number(cut, 2))


def histogram_table(logits: np.ndarray) -> dict[str, list]:
    counts, edges = np.histogram(logits, bins=HISTOGRAM_BINS)
    return {
        _("logits from"): [format_number(a, 2) for a, n in zip(edges, counts) if n],
        _("to"): [format_number(b, 2) for b, n in zip(edges[1:], counts) if n],
        _("tokens"): [format_number(n) for n in counts if n],
    }


def lens_figure(lens: logit_lens.LogitLens) -> go.Figure:
    """Per layer: the probability of the final answer, and the layer's own top guess (hover/labels)."""
    top1 = [pieces[0].display for pieces in lens.top_pieces]
    hover = [
        "<br>".join(f"{html.escape(repr(visible_text(p.display)), quote=False)} {format_percent(prob)}"
                    for p, prob in zip(pieces, probs))
        for pieces, probs in zip(lens.top_pieces, lens.top_probs)
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=lens.layers, y=lens.final_token_probs, mode="lines+markers", line_color=BLUE,
            name=f"P('{html.escape(visible_text(lens.final_token.display), quote=False)}')", customdata=hover,
            hovertemplate=_("after layer {layer}").format(layer="%{x}") + "<br>" + _("top guesses:")
                          + "<br>%{customdata}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=lens.layers, y=[probs[0] for probs in lens.top_probs], mode="markers+text",
            # Label a layer only where its top guess changes, so the labels stay readable; quoted,
            # so a space or a one-character token still shows as a label; escaped (Plotly reads <b>, <br>).
            text=[html.escape(repr(visible_text(t)[:10]), quote=False) if i == 0 or t != top1[i - 1] else ""
                  for i, t in enumerate(top1)],
            textposition="top center", textfont=dict(size=12),
            marker=dict(color=ORANGE, size=8, symbol="diamond"), name=_("the layer's top guess"), hoverinfo="skip",
        )
    )
    fig.update_layout(
        xaxis=dict(title=_("layer (0 = the token's embedding)"), dtick=2),
        yaxis=dict(title=_("probability"), tickformat=".0%", range=[0, 1.12]),
        # t: room above the plot for the legend, which takes two rows on a phone in some languages
        height=420, margin=dict(l=10, r=10, t=50, b=40), separators=plotly_separators(),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
    )
    return fig


def lens_sentence(lens: logit_lens.LogitLens) -> str:
    """The lens chart in words: where the final answer first leads, and its probability at both ends."""
    token = repr(visible_text(lens.final_token.display))
    first = lens.first_layer_on_top
    return _("The final prediction {token} is the top guess from layer {layer} of {n_layer} on; its probability "
             "goes from {start} after the embedding to {end} after the last layer.").format(
        token=token, layer=first, n_layer=lens.layers[-1], start=format_percent(lens.final_token_probs[0]),
        end=format_percent(lens.final_token_probs[-1]))


def lens_table(lens: logit_lens.LogitLens) -> dict[str, list]:
    """Every layer: the final answer's probability and the layer's own top 3 guesses."""
    final = visible_text(lens.final_token.display)
    return {
        _("layer"): lens.layers,
        f"P('{final}')": [format_percent(p) for p in lens.final_token_probs],
        **{
            _("guess {number}").format(number=k + 1): [
                f"'{visible_text(p[k].display)}' {format_percent(q[k])}" for p, q in zip(lens.top_pieces, lens.top_probs)
            ]
            for k in range(len(lens.top_pieces[0]))
        },
    }


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
        return format_percent(prob, 0)
    return format_percent(prob) if prob >= 0.001 else "<" + format_percent(0.001)


def positions_table(preds: logit_lens.PositionPredictions) -> dict[str, list]:
    """Every position: the real next token, its probability and rank, and the model's own top guess."""
    return {
        _("position"): [p.index for p in preds.actual],
        _("actual next token"): [repr(visible_text(p.display)) for p in preds.actual],
        _("its probability (rank)"): [
            f"{probability_text(float(np.log10(max(q, 1e-300))))} ({format_number(r)})"
            for q, r in zip(preds.actual_probs, preds.actual_ranks)],
        _("model's top guess"): [f"{visible_text(p.display)!r} {format_percent(q)}"
                                 for p, q in zip(preds.guesses, preds.guess_probs)],
    }


def surprise_sentence(preds: logit_lens.PositionPredictions) -> str:
    """The coloured prompt in words: its least and its most surprising token, with their probabilities."""
    least, most = int(np.argmax(preds.actual_probs)), int(np.argmin(preds.actual_probs))
    return _("The least surprising token was {expected} ({expected_probability}); the most surprising, "
             "{surprising} ({surprising_probability}).").format(
        expected=repr(visible_text(preds.actual[least].display)),
        expected_probability=format_percent(preds.actual_probs[least]),
        surprising=repr(visible_text(preds.actual[most].display)),
        surprising_probability=probability_text(float(np.log10(max(preds.actual_probs[most], 1e-300)))))


def surprise_spans(first_piece: TokenPiece, preds: logit_lens.PositionPredictions) -> str:
    """The prompt as spans coloured by how likely the model found each token (escaped HTML). Byte
    tokens that together form a character are framed under it, as in the prompt at the top."""
    spans = [chip(readable_label(first_piece.display), 0, title=_("the first token has no prediction"),
                  kind="partial", background="#EEEEEE")]
    for actual, guess, prob, gprob, rank in zip(
        preds.actual, preds.guesses, preds.actual_probs, preds.guess_probs, preds.actual_ranks
    ):
        tip = _("model gave it {probability} (rank {rank}); its top guess was {guess} ({guess_probability})").format(
            probability=format_percent(prob), rank=format_number(rank), guess=repr(visible_text(guess.display)),
            guess_probability=format_percent(gprob))
        spans.append(chip(readable_label(actual.display), actual.index, title=tip, below=_short_percent(prob),
                          background=_surprise_colour(prob)))
    expected = _("expected (≥ {probability})").format(probability=format_percent(0.5, 0))
    surprising = _("surprising (≈ {probability})").format(probability=format_percent(0.01, 0))
    very = _("very surprising (≤ {probability})").format(probability=format_percent(0.0001, 2))
    legend = (  # the legend's own text takes the theme's colour; the swatches keep dark text
        '<div style="font-size:0.8em;margin-top:4px">'
        f'<span style="background:{_surprise_colour(0.9)};color:#111;padding:0 6px">'
        f'{html.escape(expected)}</span> '
        f'<span style="background:{_surprise_colour(0.01)};color:#111;padding:0 6px">'
        f'{html.escape(surprising)}</span> '
        f'<span style="background:{_surprise_colour(1e-5)};color:#111;padding:0 6px">'
        f'{html.escape(very)}</span>'
        " · " + html.escape(_("the number under each token is the probability the model gave it; "
                               "its own guess at each position is in the table below")) + "</div>"
    )
    pieces = [first_piece, *preds.actual]
    spans = grouped(spans, character_groups([piece.piece_bytes for piece in pieces]))
    return chip_row(spans, text_direction("".join(piece.text for piece in pieces))) + legend
