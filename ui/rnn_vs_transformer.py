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

# Every word of every preset is in the small models' vocabulary (tests/test_rnn_vs_transformer_page.py).
PRESETS: dict[str, str] = {
    "I love …": "I love my little dog because he",
    "The shiny key": "Ben found a shiny key in the garden. He picked up the shiny",
    "The red ball": "Lily had a red ball. She played with the red",
    "The teacher": "The teacher said to the children that they should",
    "A name far back": (
        "Once upon a time, there was a little girl named Lily. She had a red ball. Every day "
        "she went to the park with her mom and her dog. They played in the sun. "
        "One day, the dog ran away with the ball. The girl who owned the "
        "ball was called"
    ),
    "Story opening": "Once upon a time, there was a little",
}
PROBE_LABELS = {"names": "names of characters", "places": "places", "objects": "objects"}


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
    """The last few prompt words (as the model read them) in grey, the model's words in its
    colour."""
    shown = prompt_words[-8:]
    lead = join_words(shown)
    tail = join_words(shown + new_words)[len(lead):]  # capitals and spaces as in one text
    lead = ("… " if len(prompt_words) > 8 else "") + lead
    return (f'<div style="font-size:1.05em;line-height:1.5"><span style="color:#666">'
            f"{html.escape(lead)}</span><b style=\"color:{colour}\">"
            f"{html.escape(tail)}</b></div>")


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
    axis = percent_axis(min(top, 1.0), max_ticks=5)  # ticks never past 100 %
    ticks = dict(tickvals=list(np.arange(0, min(top, 1.0) + 1e-9, axis["dtick"])),
                 tickformat=axis["tickformat"], title="probability")
    fig.update_xaxes(range=[top, 0], **ticks, row=1, col=1)
    fig.update_xaxes(range=[0, top], **ticks, row=1, col=2)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=40), uniformtext_minsize=10)
    return fig


def _short(words: list[str]) -> list[str]:
    """Unique axis labels ('the', 'the ', …) so repeated words keep their own column."""
    out = []
    for i, w in enumerate(words):
        out.append(f"{i}·{w}")
    return out


def hidden_strip(words: list[str], trace: compare.RNNTrace) -> go.Figure:
    """Top: how much the top layer's h changed at each step. Bottom: all of its values."""
    labels = _short(["⟨start⟩"] + words)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7],
                        vertical_spacing=0.05)
    fig.add_trace(go.Bar(x=labels, y=trace.change, marker_color=LSTM_COLOUR, showlegend=False,
                         hovertemplate="after %{x}: change %{y:.2f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=trace.hidden.T, x=labels, colorscale="RdBu_r",
                             zmid=0, zmin=-1, zmax=1, showscale=False,
                             hovertemplate="after %{x}<br>unit %{y}: %{z:.2f}<extra></extra>"),
                  row=2, col=1)
    fig.update_yaxes(title="change", row=1, col=1)
    fig.update_yaxes(title=f"top layer's h ({trace.hidden.shape[1]})", row=2, col=1)
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
    """Held-out loss given exactly k words of context, per model (log-scale k axis, labelled)."""
    fig = go.Figure()
    for kind, colour in (("lstm", LSTM_COLOUR), ("gpt", GPT_COLOUR)):
        c = metrics["heldout"][kind]["context_curve"]
        fig.add_trace(go.Scatter(x=c["context"], y=c["loss"], mode="lines+markers",
                                 name=NAMES[kind], line=dict(color=colour),
                                 marker=dict(symbol="circle" if kind == "lstm" else "diamond"),
                                 customdata=c["accuracy"],
                                 hovertemplate="%{x} words: loss %{y:.3f}, top-1 accuracy "
                                               "%{customdata:.1%}<extra></extra>"))
    fig.update_layout(xaxis=dict(type="log", title="words of context given (log scale)",
                                 tickvals=metrics["heldout"]["gpt"]["context_curve"]["context"]),
                      yaxis=dict(title="held-out loss (nats/word)"),
                      height=360, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.12))
    return fig


def context_curve_rows(metrics: dict) -> list[dict]:
    """The context curve as table rows (the chart's text equivalent)."""
    lstm, gpt = (metrics["heldout"][k]["context_curve"] for k in ("lstm", "gpt"))
    return [{"words of context": k, "LSTM loss": f"{a:.3f}", "LSTM top-1": f"{b:.1%}",
             "transformer loss": f"{c:.3f}", "transformer top-1": f"{d:.1%}"}
            for k, a, b, c, d in zip(lstm["context"], lstm["loss"], lstm["accuracy"],
                                     gpt["loss"], gpt["accuracy"])]


def training_curves_chart(metrics: dict, window: int = 20) -> go.Figure:
    fig = go.Figure()
    for kind, colour in (("lstm", LSTM_COLOUR), ("gpt", GPT_COLOUR)):
        c = metrics["curves"][kind]
        loss = np.asarray(c["train_loss"])
        smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
        fig.add_trace(go.Scatter(x=c["step"][window - 1:], y=smooth, mode="lines",
                                 name=f"{NAMES[kind]} · training", line=dict(color=colour)))
        fig.add_trace(go.Scatter(x=c["eval_step"], y=c["heldout_loss"], mode="markers",
                                 name=f"{NAMES[kind]} · held-out sample",
                                 marker=dict(color=colour, symbol="diamond")))
    fig.update_layout(xaxis=dict(title="training step"), yaxis=dict(title="loss (nats/word)"),
                      height=420, margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=-0.22, yanchor="top"))
    return fig


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
    for kind, colour, p in zip(("lstm", "gpt"), (LSTM_COLOUR, GPT_COLOUR), probes):
        fig.add_trace(go.Bar(
            x=[f"{b}<br>(n={n:,})" for b, n in zip(p["bucket"], p["n"])],
            y=p["mean_prob"], name=NAMES[kind], marker_color=colour,
            marker_pattern_shape="" if kind == "lstm" else "/",
            customdata=[[a, n] for a, n in zip(p["accuracy"], p["n"])],
            text=[None if a is None else f"{a:.1%}" for a in p["mean_prob"]],
            textposition="outside", cliponaxis=False,
            hovertemplate="%{x}: mean probability %{y:.1%}, top-1 right "
                          "%{customdata[0]:.1%} of %{customdata[1]}<extra></extra>"))
    fig.update_layout(barmode="group",
                      xaxis=dict(title="last mentioned this many words back", tickangle=0),
                      yaxis=dict(title="probability of the right word", **percent_axis(top * 1.25)),
                      height=340, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.12))
    return fig


def percent(value: float | None) -> str:
    """0.053 → "5.3%"; None (no cases) → "–"."""
    return "–" if value is None else f"{value:.1%}"


def distance_probe_rows(metrics: dict, group: str) -> list[dict]:
    """The probe as table rows (the chart's text equivalent)."""
    lstm, gpt = (metrics["heldout"][k]["distance_probe"][group] for k in ("lstm", "gpt"))
    return [{"last seen": f"{b} words back", "repeats": f"{n:,}",
             "LSTM: mean probability": percent(a), "LSTM: top-1 right": percent(b_),
             "transformer: mean probability": percent(c), "transformer: top-1 right": percent(d)}
            for b, n, a, b_, c, d in zip(lstm["bucket"], lstm["n"], lstm["mean_prob"],
                                         lstm["accuracy"], gpt["mean_prob"], gpt["accuracy"])]


def sequential_steps_chart(steps: compare.SequentialSteps) -> go.Figure:
    """Steps that must run one after another vs words read, on plain linear axes."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps.lengths, y=steps.lstm, mode="lines", name="LSTM",
                             line=dict(color=LSTM_COLOUR, width=3),
                             hovertemplate="%{x} words: %{y} steps in a row<extra>LSTM</extra>"))
    fig.add_trace(go.Scatter(x=steps.lengths, y=steps.gpt, mode="lines", name="Transformer",
                             line=dict(color=GPT_COLOUR, width=3, dash="dash"),
                             hovertemplate="%{x} words: %{y} steps in a row"
                                           "<extra>Transformer</extra>"))
    for kind, ys, colour in (("LSTM", steps.lstm, LSTM_COLOUR), ("Transformer", steps.gpt, GPT_COLOUR)):
        fig.add_annotation(x=steps.lengths[-1], y=ys[-1], text=f"{kind}: {ys[-1]} steps",
                           xanchor="right", yanchor="bottom", showarrow=False,
                           font=dict(color=colour, size=13))
    fig.update_layout(xaxis=dict(title="words read", rangemode="tozero"),
                      yaxis=dict(title="steps one after another", rangemode="tozero"),
                      height=320, margin=dict(l=10, r=10, t=10, b=40),
                      legend=dict(orientation="h", y=1.12))
    return fig
