"""Streamlit glue for the Sampling page: widgets that return settings, cached runs, figures.

Filter changes only re-derive from the stored logits (`state.cached_analysis`); the comparisons,
the beam tree, the step-by-step traces and the greedy continuation are stored per (model, ids,
parameters, seed) in `ui.results` (so a page can show them without computing), the
in-context-learning box is `st.cache_data`. The streams yield one token at a time: the page draws
each one as it comes.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import plotly.graph_objects as go
import streamlit as st

from explain import generation, next_token, tokens
from explain.generation import BeamSearch
from explain.sampling import GREEDY, SAMPLE, FilterView, SamplingSettings
from ui import state
from ui.html import visible_text
from ui.results import results

BLUE, ORANGE, GREEN, VERMILION, GREY, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#BBBBBB", "#56B4E9"
# Legends above the plot, short names in rows of two on any width; `margin.t` leaves room for two
# rows (the export title goes above that).
LABEL_MIN_PROB = 0.02  # smaller kept bars go unlabelled: at projector size "1%" labels run together
TOP_LEGEND = dict(orientation="h", yanchor="bottom", y=1.02, x=0,
                  entrywidth=0.5, entrywidthmode="fraction")  # two entries a row, on any width
STRATEGIES = ("Greedy", "Pure sampling", "Top-k", "Top-p (nucleus)", "Min-p")


def settings_ui() -> SamplingSettings:
    """The strategy picker and its sliders, stacked (they sit in a column beside the chart)."""
    strategy = st.radio("Strategy", STRATEGIES, index=3, horizontal=True, key="sampling_strategy", bind="query-params")
    temperature = st.slider(
        "Temperature", 0.05, 3.0, 1.0, 0.05, key="sampling_temperature", bind="query-params", disabled=strategy == "Greedy",
        help="Applied before the filter (greedy ignores it: the top token stays the top token).",
    )
    if strategy == "Greedy":
        return SamplingSettings(strategy=GREEDY)
    if strategy == "Top-k":
        k = st.slider("k: keep the k most likely tokens", 1, 100, 10, key="sampling_top_k", bind="query-params")
        return SamplingSettings(temperature=temperature, top_k=k)
    if strategy == "Top-p (nucleus)":
        p = st.slider("p: keep the smallest set adding up to p", 0.05, 1.0, 0.9, 0.01, key="sampling_top_p", bind="query-params")
        return SamplingSettings(temperature=temperature, top_p=p)
    if strategy == "Min-p":
        m = st.slider("min-p: keep tokens at least this share of the top token's probability",
                      0.0, 1.0, 0.1, 0.01, key="sampling_min_p", bind="query-params")
        return SamplingSettings(temperature=temperature, min_p=m)
    return SamplingSettings(strategy=SAMPLE, temperature=temperature)


def filter_figure(view: FilterView) -> go.Figure:
    """Top-n bars before (wide, grey) and after (narrow, blue, labelled) the filter, overlaid; the
    cut-off and cumulative line drawn. Labels keep the figure's font size (never shrunk to a bar)."""
    labels = [f"{rank + 1}. '{html.escape(visible_text(p.display), quote=False)}'" for rank, p in enumerate(view.pieces)]
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=labels, y=view.probs_before, name="before the filter", marker_color=GREY,
        width=0.8, hovertemplate="%{x}<br>before: %{y:.2%}<extra></extra>",
    ))
    fig.add_trace(go.Bar(
        x=labels, y=view.probs_after, name="kept (renormalised)", marker_color=BLUE, width=0.45,
        text=[f"{p:.0%}" if p >= LABEL_MIN_PROB else "" for p in view.probs_after], textposition="outside",
        constraintext="none", cliponaxis=False,
        hovertemplate="%{x}<br>after: %{y:.2%}<extra></extra>",
    ))
    settings = view.settings
    if settings.top_p is not None and settings.strategy == SAMPLE:
        fig.add_trace(go.Scatter(
            x=labels, y=view.cumulative, name="cumulative", mode="lines+markers",
            line=dict(color=ORANGE), hovertemplate="%{x}<br>cumulative: %{y:.2%}<extra></extra>",
        ))
        fig.add_hline(y=settings.top_p, line_dash="dash", line_color=VERMILION,
                      annotation_text=f"p = {settings.top_p:g}", annotation_position="bottom right")
    if view.min_p_threshold is not None:
        fig.add_hline(y=view.min_p_threshold, line_dash="dash", line_color=VERMILION,
                      annotation_text=f"min-p × top = {view.min_p_threshold:.1%}", annotation_position="top right")
    n_shown_kept = sum(view.kept)
    if 0 < n_shown_kept < len(labels):
        fig.add_vline(x=n_shown_kept - 0.5, line_dash="dot", line_color=VERMILION)
        fig.add_annotation(x=n_shown_kept - 0.5, y=1.0, yref="paper", text="cut-off", showarrow=False,
                           xanchor="left", font=dict(color=VERMILION))
    fig.update_layout(
        barmode="overlay", height=500, margin=dict(l=10, r=10, t=56, b=70),
        yaxis=dict(title="probability", tickformat=".0%", range=[0, 1.08]),
        xaxis=dict(tickangle=-45), legend=TOP_LEGEND,
    )
    return fig


def samples_key(model_name: str, ids: tuple[int, ...], settings: SamplingSettings, n_samples: int,
                max_new_tokens: int, seed: int) -> tuple:
    return ("samples", model_name, tuple(ids), settings, n_samples, max_new_tokens, int(seed))


def samples(model_name: str, ids: tuple[int, ...], settings: SamplingSettings, n_samples: int,
            max_new_tokens: int, seed: int) -> generation.Samples:
    """`sample_continuations`, stored by its inputs (`results().peek(samples_key(…))` finds it)."""
    key = samples_key(model_name, ids, settings, n_samples, max_new_tokens, seed)
    found = results().peek(key)
    if found is None:
        found = generation.sample_continuations(state.get_model(model_name), list(ids), settings, n_samples,
                                                max_new_tokens, int(seed))
        results().put(key, found)
    return found


def beam_key(model_name: str, ids: tuple[int, ...], num_beams: int, max_new_tokens: int) -> tuple:
    return ("beams", model_name, tuple(ids), num_beams, max_new_tokens)


def beam_search(model_name: str, ids: tuple[int, ...], num_beams: int, max_new_tokens: int) -> BeamSearch:
    """`generation.beam_search`, stored by its inputs (`results().peek(beam_key(…))` finds it)."""
    key = beam_key(model_name, ids, num_beams, max_new_tokens)
    found = results().peek(key)
    if found is None:
        found = generation.beam_search(state.get_model(model_name), list(ids), num_beams, max_new_tokens)
        results().put(key, found)
    return found


def steps_stream(stepper: generation.IncrementalLogits, ids: tuple[int, ...], settings: SamplingSettings,
                 n_steps: int, seed: int, first_step: int) -> Iterator[generation.TraceStep]:
    """`generate_steps_stream`, or its stored trace when someone already ran these exact inputs.

    The trace is stored only once the run has finished (an interrupted run stores nothing). On a
    stored trace the stepper is not advanced; it catches up on its next call, which feeds it every
    token it has not seen.
    """
    key = ("steps", stepper.lm.name, tuple(ids), settings, n_steps, int(seed), first_step)
    found = results().peek(key)
    if found is not None:
        yield from found
        return
    trace = []
    for row in generation.generate_steps_stream(stepper, list(ids), settings, n_steps, int(seed), first_step):
        trace.append(row)
        yield row
    results().put(key, trace)


def greedy_stream(model_name: str, ids: tuple[int, ...], max_new_tokens: int) -> Iterator[generation.Continuation]:
    """The greedy continuation so far, after every new token; at once, complete, if it is stored."""
    key = ("greedy", model_name, tuple(ids), max_new_tokens)
    found = results().peek(key)
    if found is not None:
        yield found
        return
    lm = state.get_model(model_name)
    new_ids, probs, continuation = [], [], None
    for token_id, prob in generation.greedy_stream(lm, list(ids), max_new_tokens):
        new_ids.append(token_id)
        probs.append(prob)
        continuation = generation.continuation_of(lm, list(ids), new_ids, probs)
        yield continuation
    results().put(key, continuation)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_label_probs(model_name: str, text: str, labels: tuple[str, ...]) -> list[float]:
    """P(first token of each label) as the next token after `text` (one forward, cached)."""
    lm = state.get_model(model_name)
    prompt = tokens.tokenize_prompt(lm, text)
    logits = next_token.last_logits(lm, prompt.ids)
    return [next_token.typed_token(lm, logits, label).prob for label in labels]


# Beam tree styles: colour-blind-safe (Okabe–Ito) and a distinct marker shape per status, so no
# status is told by colour alone. BEST_WORDS is how the page's text names the winner's drawing.
BEAM_MARKERS = {
    "kept": ("circle", BLUE, "kept beam"),
    "finished": ("square", GREEN, "finished"),
    "dropped": ("x-thin-open", GREY, "dropped"),
}
BEST_WORDS = "thick orange line, ★"


def beam_tree_figure(beams: BeamSearch) -> go.Figure:
    """The search as a tree: columns are steps; each step shows the best 2×width candidates.

    The winner's path is a thick vermilion (orange) line with star markers: `BEST_WORDS`."""
    y_of: dict[int, float] = {0: 0.0}
    by_step: dict[int, list] = {}
    for node in beams.nodes[1:]:
        by_step.setdefault(node.step, []).append(node)
    for step, nodes in by_step.items():
        nodes.sort(key=lambda n: -n.logprob)
        for rank, node in enumerate(nodes):
            y_of[node.node] = (len(nodes) - 1) / 2 - rank
    best = set(beams.best_path)
    fig = go.Figure()
    for style, members, colour, width in (
        ("dropped", [n for n in beams.nodes[1:] if n.status == "dropped"], GREY, 1),
        ("kept", [n for n in beams.nodes[1:] if n.status != "dropped"], SKY, 2),
        ("best", [n for n in beams.nodes[1:] if n.node in best], VERMILION, 5),
    ):
        xs, ys = [], []
        for node in members:
            parent = beams.nodes[node.parent]
            xs += [parent.step, node.step, None]
            ys += [y_of[parent.node], y_of[node.node], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=width),
                                 hoverinfo="skip", showlegend=False))
    for status, (symbol, colour, name) in BEAM_MARKERS.items():
        members = [n for n in beams.nodes[1:] if n.status == status and n.node not in best]
        if members:
            fig.add_trace(_beam_markers(members, y_of, name, symbol, colour, dim=status == "dropped"))
    winners = [beams.nodes[n] for n in beams.best_path[1:]]
    fig.add_trace(_beam_markers(winners, y_of, "winner (thick orange line)", "star", VERMILION, dim=False))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers+text", text=["prompt"], textposition="bottom center",
                             marker=dict(color=GREY, size=12, symbol="diamond"), showlegend=False, hoverinfo="skip"))
    steps = max(by_step) if by_step else 1
    fig.update_layout(
        height=170 + 44 * max(len(v) for v in by_step.values()) if by_step else 300,
        margin=dict(l=10, r=10, t=56, b=56),
        xaxis=dict(title="step (new token)", dtick=1, range=[-0.6, steps + 0.9]),
        yaxis=dict(visible=False), legend=TOP_LEGEND,
    )
    return fig


def _beam_markers(nodes: list, y_of: dict[int, float], name: str, symbol: str, colour: str, dim: bool) -> go.Scatter:
    """One legend entry: markers of one shape, each labelled with its token and total log-probability.
    Label text keeps the theme's colour (light or dark); dropped candidates are drawn faint."""
    big = symbol == "star"
    return go.Scatter(
        x=[n.step for n in nodes], y=[y_of[n.node] for n in nodes], mode="markers+text", name=name,
        marker=dict(color=colour, symbol=symbol, size=16 if big else 10, line=dict(color=colour, width=2)),
        text=[f"{html.escape(visible_text(n.piece.display)[:12], quote=False)}<br>{n.logprob:.2f}" for n in nodes],
        textposition="middle right", textfont=dict(size=11), opacity=0.55 if dim else 1.0,
        hovertemplate="%{text}<extra></extra>",
    )
