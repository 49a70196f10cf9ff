"""Streamlit glue and Plotly figures for the RNN vs Transformer page.

Cached wrappers around `explain.small_models.compare` (the checkpoints load once per process;
results are cached per word-id tuple), figure builders that only draw, and for every figure a
computed sentence and table rows: its text equivalent for a screen reader (and a phone).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Hashable

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explain import limits
from explain.small_models import compare
from explain.small_models.vocab import join_words
from ui import charts, drawn, figures, palette, state
from ui.i18n import N_, _, format_number, format_percent, plotly_separators
from ui.presenter import SMALL_PRINT_CLASS

LSTM_COLOUR, GPT_COLOUR = palette.CATEGORICAL[5], palette.CATEGORICAL[4]  # vermillion, blue
LSTM_SYMBOL, GPT_SYMBOL = "circle", "diamond"  # markers, so the two never differ by colour alone
GPT_PATTERN, GPT_DASH = "/", "dash"  # the transformer's bars are hatched and its lines dashed
NAMES = {"lstm": N_("LSTM (recurrent)"), "gpt": N_("Transformer")}

# Every word of every preset is in the small models' vocabulary (tests/test_rnn_vs_transformer_page.py).
# The names are shown translated; the prompts stay English (the small models read only English).
PRESETS: dict[str, str] = {
    N_("I love …"): "I love my little dog because he",
    N_("The shiny key"): "Ben found a shiny key in the garden. He picked up the shiny",
    N_("The red ball"): "Lily had a red ball. She played with the red",
    N_("The teacher"): "The teacher said to the children that they should",
    N_("A name far back"): (
        "Once upon a time, there was a little girl named Lily. She had a red ball. Every day "
        "she went to the park with her mom and her dog. They played in the sun. "
        "One day, the dog ran away with the ball. The girl who owned the "
        "ball was called"
    ),
    N_("Story opening"): "Once upon a time, there was a little",
}
PROBE_LABELS = {"names": N_("names of characters"), "places": N_("places"), "objects": N_("objects")}

NEXT_WORDS = 10  # each model's most likely next words, side by side
CONTINUATION_WORDS = 15  # the words each model writes on


def name(kind: str) -> str:
    """A model's shown name ("lstm" / "gpt"), translated."""
    return _(NAMES[kind])


def localised(fig: go.Figure) -> go.Figure:
    """`fig` with the locale's decimal and group signs on its ticks and hover numbers."""
    fig.update_layout(separators=plotly_separators())
    return fig


@st.cache_resource(show_spinner=False)
def small_models() -> compare.SmallModels:
    return compare.load_small_models()


def models_or_stop() -> compare.SmallModels:
    """The shipped small models, or a message saying how to make them (and a stopped page)."""
    try:
        return small_models()
    except compare.SmallModelsMissing as err:
        st.error(_("Missing {files} in data/small_models. Train them with `python -m tools.small_models train`.").format(
            files=", ".join(err.missing)))
        st.stop()


@st.cache_data(max_entries=limits.SMALL_NEXT_WORDS_CACHE_ENTRIES, show_spinner=False)
def cached_next_words(kind: str, ids: tuple[int, ...]) -> compare.NextWords:
    return compare.next_words(small_models(), kind, list(ids), top_n=NEXT_WORDS)


@st.cache_data(max_entries=limits.SMALL_CONTINUATION_CACHE_ENTRIES, show_spinner=False)
def cached_continuation(kind: str, ids: tuple[int, ...], seed: int | None) -> list[str]:
    return compare.continue_words(small_models(), kind, list(ids), n=CONTINUATION_WORDS, seed=seed)


@st.cache_data(max_entries=limits.SMALL_RNN_TRACE_CACHE_ENTRIES, show_spinner=False)
def cached_rnn_trace(ids: tuple[int, ...]) -> compare.RNNTrace:
    return compare.rnn_trace(small_models(), list(ids))


@st.cache_data(max_entries=limits.SMALL_ATTENTION_CACHE_ENTRIES, show_spinner=False)
def cached_attention(ids: tuple[int, ...]) -> np.ndarray:
    return compare.gpt_attention(small_models(), list(ids))


@st.cache_data(max_entries=limits.SMALL_OCCLUSION_CACHE_ENTRIES, show_spinner=False)
def cached_occlusion(kind: str, ids: tuple[int, ...]) -> compare.Occlusion:
    return compare.occlusion(small_models(), kind, list(ids))


def described_chart(build: Callable[[], go.Figure], key: str, summary: str, rows: Callable[[], list[dict]],
                    title: str, note: str | None = None, *, inputs: Hashable) -> None:
    """The chart `build()` draws, the sentence saying what it shows, and its data (`rows()`) behind
    "Show as table"; both built once per process for these `inputs` (what they read: the prompt's
    text for the prompt's charts, the control values; see `ui.drawn`).

    The chart is titled `title`, so a saved PNG says what it shows (named by page, chart and prompt):
    under the title, the prompt and the models; or, for a chart measured offline that does not
    depend on the prompt, `note` (what it was measured on).
    """
    if note is None:
        charts.show_shared_chart(build, inputs, key, page="rnn_vs_transformer", title=title,
                                 prompt=state.current_prompt_text(), model_name=_("two small models"))
    else:
        charts.show_shared_presenter_chart(lambda: noted(build(), title, note), (title, note, inputs), key)
    st.caption(summary)
    with st.expander(_("Show as table")):
        st.table(drawn.shared_table(("rnn_vs_transformer", key, inputs), rows), hide_index=True)


def noted(fig: go.Figure, title: str, note: str) -> go.Figure:
    """`fig` titled like every exported chart, with `note` (not a prompt) on the line below the title."""
    fig = figures.with_export_title(fig, title, "", "")
    fig.update_layout(title_subtitle_text=html.escape(note, quote=False))
    return fig


# ---------------------------------------------------------------------------------------------
# HTML

_CHIP = "display:inline-block;border-radius:4px;padding:1px 5px;margin:2px 1px;font-family:monospace"


def word_chips(words: list[str], known: list[bool]) -> str:
    """The prompt as the small models read it; unknown words struck through and marked ⟨unk⟩."""
    chips = [f'<span style="{_CHIP};border:1px dashed currentColor">⟨start⟩</span>']
    for w, ok in zip(words, known):
        tint = palette.tint(2) if ok else palette.tint(6)
        style = f"background:{tint};color:{palette.CHIP_TEXT}" + ("" if ok else ";text-decoration:line-through")
        title = _("in the vocabulary") if ok else _("not in the vocabulary: read as ⟨unk⟩")
        tail = "" if ok else f'<sub class="{SMALL_PRINT_CLASS}" style="font-size:0.7em"> ⟨unk⟩</sub>'
        chips.append(f'<span title="{html.escape(title)}" style="{_CHIP};{style}">{html.escape(w)}{tail}</span>')
    return f'<div style="line-height:2.2" dir="ltr">{"".join(chips)}</div>'


def continuation_html(prompt_words: list[str], new_words: list[str], kind: str) -> str:
    """The last few prompt words (as the model read them) dimmed, the model's words in bold,
    behind a bar in the model's colour (solid for the LSTM, dashed for the transformer)."""
    shown = prompt_words[-8:]
    lead = join_words(shown)
    tail = join_words(shown + new_words)[len(lead):]  # capitals and spaces as in one text
    lead = ("… " if len(prompt_words) > 8 else "") + lead
    colour, line = (LSTM_COLOUR, "solid") if kind == "lstm" else (GPT_COLOUR, "dashed")
    return (f'<div dir="ltr" style="font-size:1.05em;line-height:1.5;border-left:5px {line} {colour};'
            f'padding-left:0.6em"><span style="opacity:0.75">{html.escape(lead)}</span>'
            f"<b>{html.escape(tail)}</b></div>")


# ---------------------------------------------------------------------------------------------
# Figures, each with a sentence saying what it shows and its data as table rows


def _quote(word: str) -> str:
    return _("“{word}”").format(word=word)


def mirrored_bars(lstm: compare.NextWords, gpt: compare.NextWords) -> go.Figure:
    """Top-10 next words: the LSTM's growing to the left, the transformer's (hatched) to the right."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.02, subplot_titles=(name("lstm"), name("gpt")))
    top = max(max(lstm.probs), max(gpt.probs)) * 1.6  # room for the word labels
    hover = _("%{y}. %{customdata}: %{x:.2%}")
    for col, (nw, colour) in enumerate(((lstm, LSTM_COLOUR), (gpt, GPT_COLOUR)), start=1):
        ranks = list(range(1, len(nw.words) + 1))
        shown = [(w, format_percent(p)) for w, p in zip(nw.words, nw.probs)]
        fig.add_trace(go.Bar(
            x=nw.probs, y=ranks, orientation="h", marker_color=colour, showlegend=False,
            marker_pattern_shape=GPT_PATTERN if col == 2 else "", name=name("gpt" if col == 2 else "lstm"),
            text=[f"{w} {p}" if col == 2 else f"{p} {w}" for w, p in shown],
            textposition="outside", cliponaxis=False, customdata=nw.words,
            hovertemplate=hover + "<extra></extra>"), row=1, col=col)
        fig.update_yaxes(autorange="reversed", showticklabels=col == 1, tickprefix="#",
                         ticks="", dtick=1, row=1, col=col)
    axis = percent_axis(min(top, 1.0), max_ticks=5)  # ticks never past 100 %
    ticks = dict(tickvals=list(np.arange(0, min(top, 1.0) + 1e-9, axis["dtick"])),
                 tickformat=axis["tickformat"], title=_("probability"))
    fig.update_xaxes(range=[top, 0], **ticks, row=1, col=1)
    fig.update_xaxes(range=[0, top], **ticks, row=1, col=2)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=40), uniformtext_minsize=10)
    return localised(fig)


def bars_summary(lstm: compare.NextWords, gpt: compare.NextWords) -> str:
    shared = len(set(lstm.words) & set(gpt.words))
    return _("The LSTM's most likely next word is {lstm_word} at {lstm_prob}; the transformer's is "
             "{gpt_word} at {gpt_prob}. {shared} of their top {n} words are the same.").format(
        lstm_word=_quote(lstm.words[0]), lstm_prob=format_percent(lstm.probs[0]),
        gpt_word=_quote(gpt.words[0]), gpt_prob=format_percent(gpt.probs[0]),
        shared=format_number(shared), n=format_number(len(lstm.words)))


def bars_rows(lstm: compare.NextWords, gpt: compare.NextWords) -> list[dict]:
    return [{_("rank"): k + 1, _("LSTM: word"): lw, _("LSTM: probability"): format_percent(lp),
             _("transformer: word"): gw, _("transformer: probability"): format_percent(gp)}
            for k, (lw, lp, gw, gp) in enumerate(zip(lstm.words, lstm.probs, gpt.words, gpt.probs))]


def _short(words: list[str]) -> list[str]:
    """Unique axis labels ('0·the', '3·the', …) so repeated words keep their own column."""
    return [f"{i}·{w}" for i, w in enumerate(words)]


def hidden_strip(words: list[str], trace: compare.RNNTrace) -> go.Figure:
    """Top: how much the top layer's h changed at each step. Bottom: all of its values."""
    labels = _short(["⟨start⟩"] + words)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7],
                        vertical_spacing=0.05)
    fig.add_trace(go.Bar(x=labels, y=trace.change, marker_color=LSTM_COLOUR, showlegend=False,
                         hovertemplate=_("after %{x}: change %{y:.2f}") + "<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=trace.hidden.T, x=labels, colorscale=palette.DIVERGING + "_r",
                             zmid=0, zmin=-1, zmax=1, showscale=False,
                             hovertemplate=_("after %{x}<br>unit %{y}: %{z:.2f}") + "<extra></extra>"),
                  row=2, col=1)
    fig.update_yaxes(title=_("change"), row=1, col=1)
    fig.update_yaxes(title=_("h ({size} numbers)").format(size=trace.hidden.shape[1]), row=2, col=1)
    fig.update_xaxes(tickangle=-90, row=2, col=1)
    fig.update_layout(height=470, margin=dict(l=10, r=10, t=10, b=120))
    return localised(fig)


def hidden_summary(words: list[str], trace: compare.RNNTrace) -> str:
    read = ["⟨start⟩"] + words
    most = int(np.argmax(trace.change[1:])) + 1 if len(read) > 1 else 0
    return _("The LSTM's memory changed most after reading {word} (word {position}, a change of "
             "{change}); after the last word, {last}, it changed by {last_change}.").format(
        word=_quote(read[most]), position=most, change=format_number(trace.change[most], 2),
        last=_quote(read[-1]), last_change=format_number(trace.change[-1], 2))


def hidden_rows(words: list[str], trace: compare.RNNTrace) -> list[dict]:
    return [{_("position"): i, _("word read"): w, _("change of h"): format_number(c, 2)}
            for i, (w, c) in enumerate(zip(["⟨start⟩"] + words, trace.change))]


def attention_from_last(words: list[str], attention: np.ndarray) -> go.Figure:
    """(n_layer, n_head, T, T) → heatmap: per layer (mean over heads), how much the last word
    attends to each word."""
    labels = _short(["⟨start⟩"] + words)
    rows = last_word_attention(attention)
    fig = go.Figure(go.Heatmap(
        z=rows, x=labels, y=[_("layer {number}").format(number=i + 1) for i in range(rows.shape[0])],
        colorscale=palette.SEQUENTIAL, zmin=0, zmax=float(rows.max()),
        colorbar=dict(title=_("attention"), tickformat=".0%"),
        hovertemplate=_("%{y}: %{z:.1%} on %{x}") + "<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=120),
                      xaxis=dict(tickangle=-90), yaxis=dict(autorange="reversed"))
    return localised(fig)


def last_word_attention(attention: np.ndarray) -> np.ndarray:
    """(n_layer, n_head, T, T) → (n_layer, T): the last word's row, averaged over heads."""
    return attention[:, :, -1, :].mean(axis=1)


def attention_summary(words: list[str], attention: np.ndarray) -> str:
    read, rows = ["⟨start⟩"] + words, last_word_attention(attention)
    parts = [_("layer {number}: {word} ({weight})").format(number=layer + 1, word=_quote(read[int(row.argmax())]),
                                                           weight=format_percent(float(row.max()), 0))
             for layer, row in enumerate(rows)]
    return _("The last word, {last}, looks most at: {parts}.").format(last=_quote(read[-1]), parts="; ".join(parts))


def attention_rows(words: list[str], attention: np.ndarray) -> list[dict]:
    rows = last_word_attention(attention)
    return [{_("position"): i, _("word"): w,
             **{_("layer {number}").format(number=layer + 1): format_percent(float(rows[layer, i]))
                for layer in range(rows.shape[0])}}
            for i, w in enumerate(["⟨start⟩"] + words)]


def occlusion_heatmap(words: list[str], lstm: compare.Occlusion, gpt: compare.Occlusion) -> go.Figure:
    """Two rows: how much each word raises each model's log-probability of its top word."""
    labels = _short(["⟨start⟩"] + words)[1:]  # the start marker is never removed
    z = np.vstack([lstm.deltas, gpt.deltas])
    lim = max(0.5, float(np.abs(z).max()))
    fig = go.Figure(go.Heatmap(
        z=z, x=labels,
        y=[_("LSTM → {word}").format(word=_quote(lstm.target)),
           _("Transformer → {word}").format(word=_quote(gpt.target))],
        colorscale=palette.DIVERGING + "_r", zmid=0, zmin=-lim, zmax=lim,
        colorbar=dict(title=_("Δ log-prob")),
        text=[[format_number(round(float(v), 1) + 0.0, 1) for v in row] for row in z],  # never "-0.0"
        texttemplate="%{text}" if len(words) <= 20 else None,  # numbers only while they fit
        hovertemplate=_("without %{x}: %{z:+.2f} nats") + "<extra>%{y}</extra>"))
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=10, b=120),
                      xaxis=dict(tickangle=-90), yaxis=dict(autorange="reversed"))
    return localised(fig)


def occlusion_summary(words: list[str], lstm: compare.Occlusion, gpt: compare.Occlusion) -> str:
    def most(occ: compare.Occlusion) -> str:
        k = int(np.argmax(occ.deltas))
        return _("{word} (word {position}, {delta} nats)").format(
            word=_quote(words[k]), position=k + 1, delta=format_number(float(occ.deltas[k]), 2))
    return _("Without the word that helps most, each model's favourite loses most: the LSTM's "
             "{lstm_target} needs {lstm_word}; the transformer's {gpt_target} needs {gpt_word}.").format(
        lstm_target=_quote(lstm.target), lstm_word=most(lstm), gpt_target=_quote(gpt.target), gpt_word=most(gpt))


def occlusion_rows(words: list[str], lstm: compare.Occlusion, gpt: compare.Occlusion) -> list[dict]:
    return [{_("position"): i + 1, _("word removed"): w,
             _("LSTM: change (nats)"): format_number(float(a), 2),
             _("transformer: change (nats)"): format_number(float(b), 2)}
            for i, (w, a, b) in enumerate(zip(words, lstm.deltas, gpt.deltas))]


def context_curve_chart(metrics: dict) -> go.Figure:
    """Held-out loss given exactly k words of context, per model (log-scale k axis, labelled)."""
    fig = go.Figure()
    hover = _("%{x} words: loss %{y:.3f}, top-1 accuracy %{customdata:.1%}")
    for kind, colour, symbol, dash in (("lstm", LSTM_COLOUR, LSTM_SYMBOL, "solid"),
                                       ("gpt", GPT_COLOUR, GPT_SYMBOL, GPT_DASH)):
        c = metrics["heldout"][kind]["context_curve"]
        fig.add_trace(go.Scatter(x=c["context"], y=c["loss"], mode="lines+markers",
                                 name=name(kind), line=dict(color=colour, dash=dash),
                                 marker=dict(symbol=symbol, size=8), customdata=c["accuracy"],
                                 hovertemplate=hover + "<extra></extra>"))
    fig.update_layout(xaxis=dict(type="log", title=_("words of context given (log scale)"),
                                 tickvals=metrics["heldout"]["gpt"]["context_curve"]["context"]),
                      yaxis=dict(title=_("loss (nats/word)")),
                      height=360, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.12))
    return localised(fig)


def context_curve_rows(metrics: dict) -> list[dict]:
    """The context curve as table rows (the chart's text equivalent)."""
    lstm, gpt = (metrics["heldout"][k]["context_curve"] for k in ("lstm", "gpt"))
    return [{_("words of context"): k, _("LSTM loss"): format_number(a, 3), _("LSTM top-1"): format_percent(b),
             _("transformer loss"): format_number(c, 3), _("transformer top-1"): format_percent(d)}
            for k, a, b, c, d in zip(lstm["context"], lstm["loss"], lstm["accuracy"],
                                     gpt["loss"], gpt["accuracy"])]


def training_curves_chart(metrics: dict, window: int = 20) -> go.Figure:
    fig = go.Figure()
    for kind, colour, symbol, dash in (("lstm", LSTM_COLOUR, LSTM_SYMBOL, "solid"),
                                       ("gpt", GPT_COLOUR, GPT_SYMBOL, GPT_DASH)):
        c = metrics["curves"][kind]
        loss = np.asarray(c["train_loss"])
        smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
        fig.add_trace(go.Scatter(x=c["step"][window - 1:], y=smooth, mode="lines",
                                 name=_("{model} · training").format(model=name(kind)),
                                 line=dict(color=colour, dash=dash)))
        fig.add_trace(go.Scatter(x=c["eval_step"], y=c["heldout_loss"], mode="markers",
                                 name=_("{model} · held-out sample").format(model=name(kind)),
                                 marker=dict(color=colour, symbol=symbol + "-open", size=8)))
    fig.update_layout(xaxis=dict(title=_("training step")), yaxis=dict(title=_("loss (nats/word)")),
                      height=420, margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=-0.22, yanchor="top"))
    return localised(fig)


def training_summary(metrics: dict) -> str:
    lstm, gpt = (metrics["curves"][k] for k in ("lstm", "gpt"))
    return _("After {steps} steps, the held-out sample's loss is {lstm} for the LSTM and {gpt} for "
             "the transformer (it started at {lstm_start} and {gpt_start}).").format(
        steps=format_number(lstm["eval_step"][-1]), lstm=format_number(lstm["heldout_loss"][-1], 3),
        gpt=format_number(gpt["heldout_loss"][-1], 3), lstm_start=format_number(lstm["heldout_loss"][0], 3),
        gpt_start=format_number(gpt["heldout_loss"][0], 3))


def training_rows(metrics: dict, every: int = 250) -> list[dict]:
    """The held-out sample's loss every `every` steps (and at the last step)."""
    lstm, gpt = (metrics["curves"][k] for k in ("lstm", "gpt"))
    last = lstm["eval_step"][-1]
    return [{_("training step"): format_number(s), _("LSTM: held-out loss"): format_number(a, 3),
             _("transformer: held-out loss"): format_number(b, 3)}
            for s, a, b in zip(lstm["eval_step"], lstm["heldout_loss"], gpt["heldout_loss"])
            if s % every == 0 or s == last]


def percent_axis(top: float, max_ticks: int = 6) -> dict:
    """A y-axis from 0 to `top` with round percent ticks, each printed with enough decimals to
    tell it from its neighbours (0.5 % steps read 0.0 %, 0.5 %, 1.0 %, never 0 %, 1 %, 1 %)."""
    steps = [m * 10.0 ** e for e in range(-4, 1) for m in (1, 2, 5)]
    dtick = next(d for d in steps if top / d <= max_ticks)
    decimals = max(0, -int(np.floor(np.log10(dtick * 100) + 1e-9)))
    return dict(range=[0, top], dtick=dtick, tick0=0, tickformat=f".{decimals}%")


def distance_probe_chart(metrics: dict, group: str) -> go.Figure:
    """Mean probability each model gave the repeated word, by how far back it was last seen."""
    fig = go.Figure()
    probes = [metrics["heldout"][kind]["distance_probe"][group] for kind in ("lstm", "gpt")]
    top = max(p for probe in probes for p in probe["mean_prob"] if p is not None)
    hover = _("%{x}: mean probability %{y:.1%}, top-1 right %{customdata[0]:.1%} of %{customdata[1]}")
    for kind, colour, p in zip(("lstm", "gpt"), (LSTM_COLOUR, GPT_COLOUR), probes):
        fig.add_trace(go.Bar(
            x=[f"{b}<br>(n={format_number(n)})" for b, n in zip(p["bucket"], p["n"])],
            y=p["mean_prob"], name=name(kind), marker_color=colour,
            marker_pattern_shape="" if kind == "lstm" else GPT_PATTERN,
            customdata=[[a, n] for a, n in zip(p["accuracy"], p["n"])],
            text=[None if a is None else format_percent(a) for a in p["mean_prob"]],
            textposition="outside", cliponaxis=False, hovertemplate=hover + "<extra></extra>"))
    fig.update_layout(barmode="group",
                      xaxis=dict(title=_("last mentioned this many words back"), tickangle=0),
                      yaxis=dict(title=_("probability of the right word"), **percent_axis(top * 1.25)),
                      height=340, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.12))
    return localised(fig)


def percent(value: float | None) -> str:
    """0.053 → "5.3%" (in the session's locale); None (no cases) → "–"."""
    return "–" if value is None else format_percent(value)


def distance_probe_rows(metrics: dict, group: str) -> list[dict]:
    """The probe as table rows (the chart's text equivalent)."""
    lstm, gpt = (metrics["heldout"][k]["distance_probe"][group] for k in ("lstm", "gpt"))
    return [{_("last seen"): _("{count} words back").format(count=b), _("repeats"): format_number(n),
             _("LSTM: mean probability"): percent(a), _("LSTM: top-1 right"): percent(b_),
             _("transformer: mean probability"): percent(c), _("transformer: top-1 right"): percent(d)}
            for b, n, a, b_, c, d in zip(lstm["bucket"], lstm["n"], lstm["mean_prob"],
                                         lstm["accuracy"], gpt["mean_prob"], gpt["accuracy"])]


def sequential_steps_chart(steps: compare.SequentialSteps) -> go.Figure:
    """Steps that must run one after another vs words read, on plain linear axes."""
    fig = go.Figure()
    hover = _("%{x} words: %{y} steps in a row")
    for kind, ys, colour, dash in (("lstm", steps.lstm, LSTM_COLOUR, "solid"), ("gpt", steps.gpt, GPT_COLOUR, GPT_DASH)):
        fig.add_trace(go.Scatter(x=steps.lengths, y=ys, mode="lines", name=name(kind),
                                 line=dict(color=colour, width=3, dash=dash),
                                 hovertemplate=hover + f"<extra>{html.escape(name(kind))}</extra>"))
        fig.add_annotation(x=steps.lengths[-1], y=ys[-1], xanchor="right", yanchor="bottom", showarrow=False,
                           text=_("{model}: {count} steps").format(model=html.escape(name(kind)), count=ys[-1]),
                           font=dict(size=13))
    fig.update_layout(xaxis=dict(title=_("words read"), rangemode="tozero"),
                      yaxis=dict(title=_("steps one after another"), rangemode="tozero"),
                      height=320, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.12))
    return localised(fig)


def sequential_rows(steps: compare.SequentialSteps, shown=(1, 2, 4, 8, 16, 32, 64)) -> list[dict]:
    return [{_("words read"): n, _("LSTM: steps one after another"): a,
             _("transformer: steps one after another"): b}
            for n, a, b in zip(steps.lengths, steps.lstm, steps.gpt) if n in shown]
