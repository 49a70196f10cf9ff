"""Streamlit glue for the Sampling page: widgets that return settings, cached runs, figures.

Filter changes only re-derive from the stored logits (`state.cached_analysis`); the comparisons,
the beam tree, the step-by-step traces and the greedy continuation are stored per (model, ids,
parameters, seed) in `ui.results` (so a page can show them without computing), the
in-context-learning box is `st.cache_data`. The streams yield one token at a time: the page draws
each one as it comes.
"""

from __future__ import annotations

import html
import random
from collections.abc import Iterator

import plotly.graph_objects as go
import streamlit as st

from explain import generation, limits, next_token, tokens
from explain.generation import BeamSearch
from explain.sampling import GREEDY, SAMPLE, FilterView, SamplingSettings
from explain.engine.models import LoadedModel
from ui import flight, palette, state
from ui.figures import columns
from ui.html import markdown_escape, visible_text, with_byte_piece_note
from ui.i18n import N_, _, format_number, format_percent
from ui.results import results
from ui.reveal import pick_before_reveal
from ui.softmax import plotly_separators
from ui.state import BY_MODEL_NAME

ORANGE, SKY, GREEN, BLUE, VERMILION = (palette.CATEGORICAL[i] for i in (0, 1, 2, 4, 5))
GREY = "#BBBBBB"  # "before the filter" and dropped beams: neutral, always with their own label or shape
LABEL_MIN_PROB = 0.02  # smaller kept bars go unlabelled: at projector size "1%" labels run together
# Legends above the plot: names in rows of two on any width, or one a row once a (translated) name is
# wider than half a 390 px phone's plot holds; `margin.t` leaves room for two rows, plus one per
# further row (the export title goes above that).
LEGEND_HALF_COLUMNS = 16  # a name's width (figures.columns) that still fits half a phone's plot
LEGEND_ROW_PX = 20


def top_legend(fig: go.Figure, margin_top: int) -> go.Figure:
    """`fig` (changed in place) with its legend above the plot (`LEGEND_HALF_COLUMNS`) and a top
    margin of `margin_top` plus the room for any rows beyond two."""
    names = [trace.name for trace in fig.data if trace.showlegend is not False and trace.name]
    per_row = 2 if all(columns(name) <= LEGEND_HALF_COLUMNS for name in names) else 1
    rows = -(-len(names) // per_row)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0,
                                  entrywidth=1 / per_row, entrywidthmode="fraction"),
                      margin_t=margin_top + LEGEND_ROW_PX * max(0, rows - 2))
    return fig
# The URL keeps these English values; the radio shows them translated (format_func=_).
STRATEGIES = (N_("Greedy"), N_("Pure sampling"), N_("Top-k"), N_("Top-p (nucleus)"), N_("Min-p"))


def settings_ui() -> SamplingSettings:
    """The strategy picker and its sliders, stacked (they sit in a column beside the chart)."""
    strategy = st.radio(_("Strategy"), STRATEGIES, index=3, horizontal=True, key="sampling_strategy",
                        bind="query-params", format_func=_)
    temperature = st.slider(
        _("Temperature"), 0.05, 3.0, 1.0, 0.05, key="sampling_temperature", bind="query-params",
        disabled=strategy == "Greedy",
        help=_("Applied before the filter (greedy ignores it: the top token stays the top token)."),
    )
    if strategy == "Greedy":
        return SamplingSettings(strategy=GREEDY)
    if strategy == "Top-k":
        k = st.slider(_("k: keep the k most likely tokens"), 1, 100, 10, key="sampling_top_k", bind="query-params")
        return SamplingSettings(temperature=temperature, top_k=k)
    if strategy == "Top-p (nucleus)":
        p = st.slider(_("p: keep the smallest set adding up to p"), 0.05, 1.0, 0.9, 0.01, key="sampling_top_p",
                      bind="query-params")
        return SamplingSettings(temperature=temperature, top_p=p)
    if strategy == "Min-p":
        m = st.slider(_("min-p: keep tokens at least this share of the top token's probability"),
                      0.0, 1.0, 0.1, 0.01, key="sampling_min_p", bind="query-params")
        return SamplingSettings(temperature=temperature, min_p=m)
    return SamplingSettings(strategy=SAMPLE, temperature=temperature)


def short_number(value: float) -> str:
    """A setting as typed, in the locale: 0.9 → '0.9' / '0,9', 10 → '10' (at most 2 decimals)."""
    decimals = f"{value:g}".partition(".")[2]
    return format_number(value, min(2, len(decimals)))


def describe(settings: SamplingSettings) -> str:
    """How a strategy chooses, in the session's language: 'greedy', 'sampling, T = 0.7, top-k = 10'."""
    if settings.strategy == GREEDY:
        return _("greedy")
    parts = [f"T = {short_number(settings.temperature)}"]
    for name, value in (("top-k", settings.top_k), ("top-p", settings.top_p), ("min-p", settings.min_p)):
        if value is not None:
            parts.append(f"{name} = {short_number(value)}")
    return _("sampling, {settings}").format(settings=", ".join(parts))


def filter_figure(view: FilterView) -> go.Figure:
    """Top-n bars before (wide, grey) and after (narrow, blue, labelled) the filter, overlaid; the
    cut-off and cumulative line drawn. Labels keep the figure's font size (never shrunk to a bar)."""
    labels = [f"{rank + 1}. '{html.escape(visible_text(p.display), quote=False)}'" for rank, p in enumerate(view.pieces)]

    def hover(template: str, values: list[float]) -> dict:
        return dict(customdata=[format_percent(v, 2) for v in values],
                    hovertemplate="%{x}<br>" + template.format(probability="%{customdata}") + "<extra></extra>")

    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=labels, y=view.probs_before, name=_("before the filter"), marker_color=GREY, width=0.8,
        **hover(_("before: {probability}"), view.probs_before),
    ))
    fig.add_trace(go.Bar(
        x=labels, y=view.probs_after, name=_("kept (renormalised)"), marker_color=BLUE, width=0.45,
        text=[format_percent(p, 0) if p >= LABEL_MIN_PROB else "" for p in view.probs_after], textposition="outside",
        constraintext="none", cliponaxis=False, textangle=-90,  # vertical: level labels overlap on close bars
        **hover(_("after: {probability}"), view.probs_after),
    ))
    settings = view.settings
    if settings.top_p is not None and settings.strategy == SAMPLE:
        fig.add_trace(go.Scatter(
            x=labels, y=view.cumulative, name=_("cumulative"), mode="lines+markers",
            line=dict(color=ORANGE), **hover(_("cumulative: {probability}"), view.cumulative),
        ))
        fig.add_hline(y=settings.top_p, line_dash="dash", line_color=VERMILION,
                      annotation_text=f"p = {short_number(settings.top_p)}", annotation_position="bottom right")
    if view.min_p_threshold is not None:
        fig.add_hline(y=view.min_p_threshold, line_dash="dash", line_color=VERMILION,
                      annotation_text=_("min-p × top = {probability}").format(
                          probability=format_percent(view.min_p_threshold)), annotation_position="top right")
    n_shown_kept = sum(view.kept)
    if 0 < n_shown_kept < len(labels):
        fig.add_vline(x=n_shown_kept - 0.5, line_dash="dot", line_color=VERMILION)
        fig.add_annotation(x=n_shown_kept - 0.5, y=1.0, yref="paper", text=_("cut-off"), showarrow=False,
                           xanchor="left")  # the theme's text colour: vermilion text is 3.9:1 on white
    fig.update_layout(
        barmode="overlay", height=500, margin=dict(l=10, r=10, b=70), separators=plotly_separators(),
        yaxis=dict(title=_("probability"), tickformat=".0%", range=[0, 1.08]),
        xaxis=dict(tickangle=-45),
    )
    top_legend(fig, 56)
    return fig


def filter_sentence(view: FilterView) -> str:
    """The filter chart in words, for this prompt and these settings."""
    sentence = _("{strategy}: {kept} of {vocab} tokens survive the filter, holding {mass} of the probability; "
                 "renormalised, the top token {token} goes from {before} to {after}.").format(
        strategy=describe(view.settings), kept=format_number(view.n_kept), vocab=format_number(view.vocab_size),
        mass=format_percent(view.kept_mass), token=markdown_escape(repr(visible_text(view.pieces[0].display))),
        before=format_percent(view.probs_before[0]), after=format_percent(view.probs_after[0]))
    return with_byte_piece_note(sentence, view.pieces)


def filter_table(view: FilterView) -> dict[str, list]:
    """The chart's bars (and its running total under top-p), in at most five narrow columns: a phone
    shows them without scrolling sideways. A token the filter removed reads 'cut'."""
    table = {
        _("rank"): list(range(1, len(view.pieces) + 1)),
        _("token"): [repr(visible_text(p.display)) for p in view.pieces],
        _("before"): [format_percent(p, 2) for p in view.probs_before],
    }
    if view.settings.top_p is not None and view.settings.strategy == SAMPLE:
        table[_("cumulative")] = [format_percent(p, 2) for p in view.cumulative]
    table[_("after")] = [format_percent(p, 2) if kept else _("cut") for p, kept in zip(view.probs_after, view.kept)]
    return table


def samples_key(model_name: str, ids: tuple[int, ...], settings: SamplingSettings, n_samples: int,
                max_new_tokens: int, seed: int) -> tuple:
    return ("samples", model_name, tuple(ids), settings, n_samples, max_new_tokens, int(seed))


def samples_together(model_name: str, ids: tuple[int, ...], strategies: dict[str, SamplingSettings], n_samples: int,
                     max_new_tokens: int, seed: int) -> dict[str, generation.Samples]:
    """`samples` of several strategies, the missing ones written in one batch
    (`generation.sample_continuations_batch`), each stored under its own `samples_key`."""
    found = {name: results().peek(samples_key(model_name, ids, s, n_samples, max_new_tokens, seed))
             for name, s in strategies.items()}
    missing = [name for name, value in found.items() if value is None]
    if missing:
        written = generation.sample_continuations_batch(
            state.get_model(model_name), list(ids), [strategies[name] for name in missing], n_samples,
            max_new_tokens, int(seed))
        for name, value in zip(missing, written):
            results().put(samples_key(model_name, ids, strategies[name], n_samples, max_new_tokens, seed), value)
            found[name] = value
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
    """The greedy continuation so far, after every new token; at once, complete, if it is stored.

    Sessions asking for the same continuation while it is being written share one run of the
    model (`ui.flight`): a class opening the same link costs one continuation, not thirty. Different
    continuations running at the same time advance together, one batched step per token
    (`generation.greedy_stream_together`); a prompt whose analysis is cached (Home has just shown
    its top 5) is not run through the model again."""
    key = ("greedy", model_name, tuple(ids), max_new_tokens)
    found = results().peek(key)
    if found is not None:
        yield found
        return

    def write() -> Iterator[generation.Continuation]:
        lm = state.get_model(model_name)
        new_ids, probs, continuation = [], [], None
        analysed = state.analysis_if_cached(lm, ids)
        for token_id, prob in generation.greedy_stream_together(lm, list(ids), max_new_tokens, analysed):
            new_ids.append(token_id)
            probs.append(prob)
            continuation = generation.continuation_of(lm, list(ids), new_ids, probs)
            yield continuation
        results().put(key, continuation)

    yield from flight.shared_stream(key, write)


@st.cache_data(max_entries=limits.LABEL_PROBS_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_label_probs(lm: LoadedModel, text: str, labels: tuple[str, ...]) -> list[float]:
    """P(first token of each label) as the next token after `text` (one forward, cached)."""
    prompt = tokens.tokenize_prompt(lm, text)
    logits = next_token.last_logits(lm, prompt.ids)
    return [next_token.typed_token(lm, logits, label).prob for label in labels]


# Beam tree styles: colour-blind-safe (Okabe–Ito) and a distinct marker shape per status, so no
# status is told by colour alone. BEST_WORDS is how the page's text names the winner's drawing.
BEAM_MARKERS = {
    "kept": ("circle", BLUE, N_("kept beam ●")),
    "finished": ("square", GREEN, N_("finished ■")),
    "dropped": ("x-thin-open", GREY, N_("dropped ×")),
}
BEST_WORDS = N_("thick orange line, ★")
BEAM_STATUS = {"kept": N_("kept"), "finished": N_("finished"), "dropped": N_("dropped")}


def beam_sentence(beams: BeamSearch, lm) -> str:
    """The beam tree in words: how many candidates, how many finished, the winner and its score."""
    scored = beams.nodes[1:]
    return _("{width} beams over {steps} steps scored {count} candidates; {finished} finished. The winner "
             "({drawn}) writes {text} with score {score}.").format(
        width=beams.num_beams, steps=max(n.step for n in scored), count=len(scored),
        finished=sum(n.status == "finished" for n in scored), drawn=_(BEST_WORDS),
        text=repr(tokens.decode(lm, beams.best_ids)), score=format_number(beams.best_score, 3))


def beam_table(beams: BeamSearch) -> dict[str, list]:
    """Every candidate of the tree: its step, token, the continuation it ends, its score and fate."""
    best = set(beams.best_path)
    nodes = beams.nodes[1:]
    return {
        _("step"): [n.step for n in nodes],
        _("continuation so far"): [
            repr(visible_text("".join(beams.nodes[m].piece.display for m in _path(beams, n.node)))) for n in nodes],
        _("total log-probability"): [format_number(n.logprob, 2) for n in nodes],
        _("status"): [_(BEAM_STATUS[n.status]) + (" ★" if n.node in best else "") for n in nodes],
    }


def _path(beams: BeamSearch, node: int) -> list[int]:
    """Node indices from the prompt's first new token to `node` (empty for the prompt)."""
    path = []
    while node > 0:
        path.append(node)
        node = beams.nodes[node].parent
    return path[::-1]


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
            fig.add_trace(_beam_markers(members, y_of, _(name), symbol, colour, dim=status == "dropped"))
    winners = [beams.nodes[n] for n in beams.best_path[1:]]
    fig.add_trace(_beam_markers(winners, y_of, _("winner ★"), "star", VERMILION, dim=False))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers+text", text=[_("prompt")], textposition="bottom center",
                             marker=dict(color=GREY, size=12, symbol="diamond"), showlegend=False, hoverinfo="skip"))
    steps = max(by_step) if by_step else 1
    fig.update_layout(
        height=170 + 44 * max(len(v) for v in by_step.values()) if by_step else 300,
        margin=dict(l=10, r=10, b=56),
        xaxis=dict(title=_("step (new token)"), dtick=1, range=[-0.6, steps + 0.9]),
        yaxis=dict(visible=False), separators=plotly_separators(),
    )
    top_legend(fig, 56)
    return fig


def _beam_markers(nodes: list, y_of: dict[int, float], name: str, symbol: str, colour: str, dim: bool) -> go.Scatter:
    """One legend entry: markers of one shape, each labelled with its token and total log-probability.
    Label text keeps the theme's colour (light or dark); dropped candidates are drawn faint."""
    big = symbol == "star"
    return go.Scatter(
        x=[n.step for n in nodes], y=[y_of[n.node] for n in nodes], mode="markers+text", name=name,
        marker=dict(color=colour, symbol=symbol, size=16 if big else 10, line=dict(color=colour, width=2)),
        text=[f"{html.escape(visible_text(n.piece.display)[:12], quote=False)}<br>{format_number(n.logprob, 2)}"
              for n in nodes],
        textposition="middle right", textfont=dict(size=11), opacity=0.55 if dim else 1.0,
        hovertemplate="%{text}<extra></extra>",
    )


# ---------------------------------------------------------------------------------------------
# The guessing game: which strategy wrote this text?


def mystery_sample(context: tuple, names: list[str], found: dict[str, generation.Samples]) -> tuple[str, str]:
    """(hidden strategy, one of its texts), drawn with a seed made of `context` (model, ids, seed):
    the same for a whole class on the same link, a new one for a new prompt or seed."""
    draw = random.Random(repr(context))
    name = draw.choice(names)
    return name, draw.choice(found[name].texts)


def writers_of(text: str, found: dict[str, generation.Samples]) -> list[str]:
    """Every compared strategy that wrote exactly `text` (greedy and a sampler can agree)."""
    return [name for name, samples in found.items() if text in samples.texts]


COMPARED = {  # English names are the keys (and the stored results' identity); shown translated
    N_("Greedy"): SamplingSettings(strategy=GREEDY),
    N_("Top-k (k = 10)"): SamplingSettings(top_k=10),
    N_("Top-p (p = 0.9)"): SamplingSettings(top_p=0.9),
    N_("High temperature (T = 1.6)"): SamplingSettings(temperature=1.6),
}
STRATEGY_COLOURS = {name: palette.tint(i) for i, name in enumerate(COMPARED)}  # with the name always written on it


def strategy_chip(name: str) -> str:
    """The strategy's name on its palette tint (the colour ties a column to the game's answer; the name says it)."""
    return (f'<span style="background:{STRATEGY_COLOURS[name]};color:{palette.CHIP_TEXT};border-radius:4px;'
            f'padding:1px 8px;font-weight:600">{html.escape(_(name))}</span>')


def show_samples(column, name: str, found: generation.Samples) -> None:
    """One strategy's column: its name on its colour, its texts, how much they vary and how likely they are."""
    with column.container():
        st.html(strategy_chip(name))
        for text in found.texts:
            st.code(text or _("(ended at once)"), language=None, wrap_lines=True)
        if len(found.texts) == 1:
            st.caption(_("No randomness: every run writes this same text. Mean log-probability per token {value}.")
                       .format(value=format_number(found.mean_logprob[0], 2)))
        else:
            st.caption(_("{distinct} different texts out of {count}. Mean log-probability per token (closer to 0 = "
                         "more predictable): {values}").format(
                distinct=len(set(found.texts)), count=len(found.texts),
                values=", ".join(format_number(v, 2) for v in found.mean_logprob)))


def show_game(context: tuple, found: dict[str, generation.Samples]) -> bool:
    """The mystery text, the pick and Reveal; True once revealed (then the verdict is shown)."""
    hidden, text = mystery_sample(context, list(COMPARED), found)
    st.markdown(_("**Which strategy wrote this?** One of the four strategies below continued your prompt with:"))
    st.code(text or _("(ended at once)"), language=None, wrap_lines=True)
    pick = pick_before_reveal("sampling", context + (text,), _("Your guess"), list(COMPARED), _,
                              _("Reveal the strategy"))
    if pick is None:
        st.caption(_("Pick a strategy, then press Reveal: the four columns stay hidden until then."))
        return False
    writers = writers_of(text, found)
    names = ", ".join(_(name) for name in writers)
    if pick in writers:
        st.success(_("Right: {names} wrote this text.").format(names=names))
    else:
        st.error(_("Not this time: {names} wrote this text, not {pick}.").format(names=names, pick=_(pick)))
    row = found[hidden].texts.index(text)
    st.caption(_("Clues to look for: its mean log-probability per token was {value} (greedy's: {greedy}; closer to 0 "
                 "= more predictable). {writer} wrote {distinct} different texts out of {count}.").format(
        value=format_number(found[hidden].mean_logprob[row], 2), greedy=format_number(found["Greedy"].mean_logprob[0], 2),
        writer=_(hidden), distinct=len(set(found[hidden].texts)), count=len(found[hidden].texts)))
    return True
