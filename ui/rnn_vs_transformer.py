"""Streamlit glue and Plotly figures for the RNN vs Transformer page.

Cached wrappers around `explain.small_models.compare` (the checkpoints load once per process;
results are cached per word-id tuple) and figure builders that only draw.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explain.small_models import compare
from explain.small_models.vocab import join_words

LSTM_COLOUR, GPT_COLOUR = "#D55E00", "#0072B2"  # Okabe–Ito vermillion and blue
NAMES = {"lstm": "LSTM (recurrent)", "gpt": "Transformer"}

PRESETS: dict[str, str] = {
    "I love RNNs": "I love RNNs because they",
    "The bank by the river": "Tom sat on the bank of the river and watched the",
    "The bank and the money": "Mom went to the bank to get some money. She gave the",
    "The teacher": "The teacher said to the children that they should",
    "A name far back": (
        "Once upon a time, there was a little girl named Lily. She had a red ball. Every day "
        "she went to the park with her mom and her dog. They played in the sun. "
        "One day, the dog ran away with the ball. The girl who owned the "
        "ball was called"
    ),
    "Story opening": "Once upon a time, there was a little",
}


@st.cache_resource(show_spinner=False)
def small_models() -> compare.SmallModels:
    return compare.load_small_models()


def models_or_stop() -> compare.SmallModels:
    """The shipped small models, or a message saying how to make them (and a stopped page)."""
    try:
        return small_models()
    except compare.SmallModelsMissing as err:
        st.error(str(err))
        st.stop()


@st.cache_data(max_entries=128, show_spinner=False)
def cached_next_words(kind: str, ids: tuple[int, ...]) -> compare.NextWords:
    return compare.next_words(small_models(), kind, list(ids))


@st.cache_data(max_entries=128, show_spinner=False)
def cached_continuation(kind: str, ids: tuple[int, ...], seed: int | None) -> list[str]:
    return compare.continue_words(small_models(), kind, list(ids), n=15, seed=seed)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_rnn_trace(ids: tuple[int, ...]) -> compare.RNNTrace:
    return compare.rnn_trace(small_models(), list(ids))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_attention(ids: tuple[int, ...]) -> np.ndarray:
    return compare.gpt_attention(small_models(), list(ids))


@st.cache_data(max_entries=128, show_spinner=False)
def cached_occlusion(kind: str, ids: tuple[int, ...]) -> compare.Occlusion:
    return compare.occlusion(small_models(), kind, list(ids))


@st.cache_data(ttl=600, show_spinner=False)
def cached_reading_times() -> compare.ReadingTimes:
    return compare.reading_times(small_models())


def apply_preset() -> None:
    """Widget callback: copy the chosen preset into the shared sidebar prompt."""
    choice = st.session_state.get("rvt_preset")
    if choice in PRESETS:
        st.session_state["prompt"] = PRESETS[choice]
    st.session_state["rvt_preset"] = None


# ---------------------------------------------------------------------------------------------
# HTML


def word_chips(words: list[str], known: list[bool]) -> str:
    """The prompt as the small models read it; unknown words struck through and marked."""
    chips = ['<span style="display:inline-block;background:#eee;color:#555;border-radius:4px;'
             'padding:1px 5px;margin:2px 1px;font-family:monospace">⟨start⟩</span>']
    for w, ok in zip(words, known):
        style = ("background:#C9EBDD;color:#111" if ok else
                 "background:#F6D2E4;color:#111;text-decoration:line-through")
        title = "in the vocabulary" if ok else "not in the vocabulary: read as &lt;unk&gt;"
        tail = "" if ok else '<sub style="font-size:0.7em"> &lt;unk&gt;</sub>'
        chips.append(f'<span title="{title}" style="display:inline-block;{style};'
                     f'border-radius:4px;padding:1px 5px;margin:2px 1px;font-family:monospace">'
                     f"{html.escape(w)}{tail}</span>")
    return f'<div style="line-height:2.2" dir="ltr">{"".join(chips)}</div>'


def continuation_html(prompt_words: list[str], new_words: list[str], colour: str) -> str:
    """The last few prompt words in grey, the model's words in its colour."""
    shown = prompt_words[-8:]
    lead = ("… " if len(prompt_words) > 8 else "") + join_words(shown)
    return (f'<div style="font-size:1.05em;line-height:1.5"><span style="color:#666">'
            f"{html.escape(lead)}</span> <b style=\"color:{colour}\">"
            f"{html.escape(join_words(new_words))}</b></div>")


# ---------------------------------------------------------------------------------------------
# Figures


def mirrored_bars(lstm: compare.NextWords, gpt: compare.NextWords) -> go.Figure:
    """Top-10 next words: the LSTM's growing to the left, the transformer's to the right."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.02,
                        subplot_titles=(NAMES["lstm"], NAMES["gpt"]))
    top = max(max(lstm.probs), max(gpt.probs)) * 1.6  # room for the word labels
    for col, (nw, colour) in enumerate(((lstm, LSTM_COLOUR), (gpt, GPT_COLOUR)), start=1):
        ranks = list(range(1, len(nw.words) + 1))
        fig.add_trace(go.Bar(
            x=nw.probs, y=ranks, orientation="h", marker_color=colour, showlegend=False,
            text=[f"{w} {p:.1%}" if col == 2 else f"{p:.1%} {w}" for w, p in zip(nw.words, nw.probs)],
            textposition="outside", cliponaxis=False, customdata=nw.words,
            hovertemplate="%{y}. %{customdata}: %{x:.2%}<extra></extra>"), row=1, col=col)
        fig.update_yaxes(autorange="reversed", showticklabels=col == 1, tickprefix="#",
                         ticks="", dtick=1, row=1, col=col)
    fig.update_xaxes(range=[top, 0], tickformat=".0%", title="probability", row=1, col=1)
    fig.update_xaxes(range=[0, top], tickformat=".0%", title="probability", row=1, col=2)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=40), uniformtext_minsize=10)
    return fig


def _short(words: list[str]) -> list[str]:
    """Unique axis labels ('the', 'the ', …) so repeated words keep their own column."""
    out = []
    for i, w in enumerate(words):
        out.append(f"{i}·{w}")
    return out


def hidden_strip(words: list[str], trace: compare.RNNTrace, n_units: int = 48) -> go.Figure:
    """Top: how much the memory changed at each step. Bottom: the first n_units hidden values."""
    labels = _short(["⟨start⟩"] + words)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7],
                        vertical_spacing=0.05)
    fig.add_trace(go.Bar(x=labels, y=trace.change, marker_color=LSTM_COLOUR, showlegend=False,
                         hovertemplate="after %{x}: change %{y:.2f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=trace.hidden[:, :n_units].T, x=labels, colorscale="RdBu_r",
                             zmid=0, zmin=-1, zmax=1, showscale=False,
                             hovertemplate="after %{x}<br>unit %{y}: %{z:.2f}<extra></extra>"),
                  row=2, col=1)
    fig.update_yaxes(title="change", row=1, col=1)
    fig.update_yaxes(title=f"memory (first {n_units} of {trace.hidden.shape[1]})",
                     row=2, col=1)
    fig.update_xaxes(tickangle=-60, row=2, col=1)
    fig.update_layout(height=430, margin=dict(l=10, r=10, t=10, b=80))
    return fig


def attention_from_last(words: list[str], attention: np.ndarray) -> go.Figure:
    """(n_layer, n_head, T, T) → heatmap: per layer (mean over heads), how much the last word
    attends to each word."""
    labels = _short(["⟨start⟩"] + words)
    rows = attention[:, :, -1, :].mean(axis=1)  # (n_layer, T)
    fig = go.Figure(go.Heatmap(
        z=rows, x=labels, y=[f"layer {i + 1}" for i in range(rows.shape[0])], colorscale="Blues",
        zmin=0, zmax=float(rows.max()), colorbar=dict(title="attention", tickformat=".0%"),
        hovertemplate="%{y}: %{z:.1%} on %{x}<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=80),
                      xaxis=dict(tickangle=-60), yaxis=dict(autorange="reversed"))
    return fig


def occlusion_heatmap(words: list[str], lstm: compare.Occlusion, gpt: compare.Occlusion) -> go.Figure:
    """Two rows: how much each word raises each model's log-probability of its top word."""
    labels = _short(["⟨start⟩"] + words)[1:]  # the start marker is never removed
    z = np.vstack([lstm.deltas, gpt.deltas])
    lim = max(0.5, float(np.abs(z).max()))
    fig = go.Figure(go.Heatmap(
        z=z, x=labels,
        y=[f"LSTM → '{lstm.target}'", f"Transformer → '{gpt.target}'"],
        colorscale="RdBu_r", zmid=0, zmin=-lim, zmax=lim,
        colorbar=dict(title="Δ log-prob"),
        text=[[f"{v:+.1f}" for v in row] for row in z],
        texttemplate="%{text}" if len(words) <= 20 else None,  # numbers only while they fit
        hovertemplate="without %{x}: %{z:+.2f} nats<extra>%{y}</extra>"))
    fig.update_layout(height=230, margin=dict(l=10, r=10, t=10, b=80),
                      xaxis=dict(tickangle=-60), yaxis=dict(autorange="reversed"))
    return fig


def context_curve_chart(metrics: dict) -> go.Figure:
    fig = go.Figure()
    for kind, colour in (("lstm", LSTM_COLOUR), ("gpt", GPT_COLOUR)):
        c = metrics["heldout"][kind]["context_curve"]
        fig.add_trace(go.Scatter(x=c["context"], y=c["loss"], mode="lines+markers",
                                 name=NAMES[kind], line=dict(color=colour),
                                 customdata=c["accuracy"],
                                 hovertemplate="%{x} words: loss %{y:.3f}, top-1 accuracy "
                                               "%{customdata:.1%}<extra></extra>"))
    fig.update_layout(xaxis=dict(type="log", title="words of context given", tickvals=
                                 metrics["heldout"]["gpt"]["context_curve"]["context"]),
                      yaxis=dict(title="held-out loss (nats / word), lower is better"),
                      height=360, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.08))
    return fig


def training_curves_chart(metrics: dict, window: int = 20) -> go.Figure:
    fig = go.Figure()
    for kind, colour in (("lstm", LSTM_COLOUR), ("gpt", GPT_COLOUR)):
        c = metrics["curves"][kind]
        loss = np.asarray(c["train_loss"])
        smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
        fig.add_trace(go.Scatter(x=c["step"][window - 1:], y=smooth, mode="lines",
                                 name=f"{NAMES[kind]} · training", line=dict(color=colour)))
        fig.add_trace(go.Scatter(x=c["eval_step"], y=c["heldout_loss"], mode="markers",
                                 name=f"{NAMES[kind]} · held-out", marker=dict(color=colour,
                                                                              symbol="diamond")))
    fig.update_layout(xaxis=dict(title="training step"), yaxis=dict(title="loss (nats / word)"),
                      height=360, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.15))
    return fig


def distance_probe_chart(metrics: dict) -> go.Figure:
    """Mean probability each model gave the right name, by how far back it was last seen."""
    fig = go.Figure()
    for kind, colour in (("lstm", LSTM_COLOUR), ("gpt", GPT_COLOUR)):
        p = metrics["heldout"][kind]["distance_probe"]
        fig.add_trace(go.Bar(
            x=[f"{b} words back (n={n})" for b, n in zip(p["bucket"], p["n"])],
            y=p["mean_prob"], name=NAMES[kind], marker_color=colour,
            customdata=[[a, n] for a, n in zip(p["accuracy"], p["n"])],
            text=[None if a is None else f"{a:.1%}" for a in p["mean_prob"]],
            textposition="outside",
            hovertemplate="%{x}: mean probability %{y:.1%}, top-1 right "
                          "%{customdata[0]:.0%} of %{customdata[1]}<extra></extra>"))
    fig.update_layout(barmode="group", yaxis=dict(title="probability given to the right name",
                                                  tickformat=".0%", rangemode="tozero"),
                      height=340, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.1))
    return fig


def reading_times_chart(times: compare.ReadingTimes) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=times.lengths, y=times.rnn_ms, mode="lines+markers",
                             name="LSTM: one word per step", line=dict(color=LSTM_COLOUR)))
    fig.add_trace(go.Scatter(x=times.lengths, y=times.gpt_ms, mode="lines+markers",
                             name="Transformer: all words in one pass",
                             line=dict(color=GPT_COLOUR)))
    fig.update_layout(xaxis=dict(title="sequence length (words)", type="log",
                                 tickvals=times.lengths),
                      yaxis=dict(title="wall time on this server (ms)", rangemode="tozero"),
                      height=320, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.12))
    return fig
