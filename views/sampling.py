"""Sampling — how one token is chosen from the distribution, and the generation loop around it."""

import streamlit as st

from explain.generation import IncrementalLogits, is_end_token
from explain.sampling import GREEDY, filter_view
from ui import state
from ui.charts import show_shared_chart
from ui.html import markdown_escape, token_spans, visible_text
from ui.i18n import N_, _, format_number, format_percent, ngettext
from ui.presenter import show_table
from ui.results import results
from ui.sampling import (
    BEST_WORDS,
    COMPARED,
    beam_key,
    beam_search,
    beam_sentence,
    beam_table,
    beam_tree_figure,
    cached_label_probs,
    describe,
    filter_figure,
    filter_sentence,
    filter_table,
    samples_key,
    samples_together,
    settings_ui,
    show_game,
    show_samples,
    steps_stream,
)
from ui.softmax import describe_chart
from ui.walk import next_step_link

MAX_NEW_TOKENS = 100  # the step-by-step run stops growing here
RUN_KEY = "sampling_run"
BEAM_KEY = "sampling_beam_for"  # (model, ids) the learner asked beam search for
PAGE = "sampling"
RANDOM_TEXT = N_("Sampled text is random and unfiltered: at a high temperature it can be nonsense, and now "
                 "and then a crude word.")  # shown wherever this page samples (issue 20.8)

st.title(_("🎲 Sampling: choosing the next token"))
st.markdown(_(
    "The model gives a probability to every token; a **decoding strategy** picks one. **Greedy** "
    "always takes the most likely (safe but repetitive). **Sampling** draws at random by probability, "
    "like a weighted die. **Temperature** reshapes the distribution first; **top-k**, **top-p "
    "(nucleus)** and **min-p** cut off the unlikely tail and share its probability among the "
    "survivors. A **seed** makes a draw repeatable."
))

lm, prompt, ids, analysis = state.page_analysis()
logits = analysis.last_logits  # (vocab,), read-only


def show_chart(build, inputs, key: str, title: str) -> None:
    """The chart `build()` draws, titled with the prompt and model (its PNG named by page and chart),
    built once for every session showing this prompt and these `inputs` (the controls it reads)."""
    show_shared_chart(build, (lm.name, ids, inputs), key, page=PAGE, title=title,
                      prompt=state.current_prompt_text(), model_name=lm.name)


st.header(_("1 · The strategies as filters"))
controls, chart_column = st.columns([1, 2], gap="large")  # the controls beside the chart they drive
with controls:
    settings = settings_ui()
view = filter_view(lm, logits, settings, top_n=20)
with chart_column:
    show_chart(lambda: filter_figure(view), settings, "filter_chart", _("Filter: {settings}").format(settings=describe(settings)))
    describe_chart(filter_sentence(view), filter_table(view))
cols = st.columns(3)
cols[0].metric(_("Candidates kept"), _("{kept} of {vocab}").format(kept=format_number(view.n_kept),
                                                                    vocab=format_number(view.vocab_size)))
cols[1].metric(_("Probability they had"), format_percent(view.kept_mass))
cols[2].metric(_("{token} renormalised").format(token=repr(visible_text(view.pieces[0].display))),
               format_percent(view.probs_after[0]), help=_("The top token's share once the survivors add up to 1 again."))
st.caption(_(
    "Grey (wide bars): the distribution after temperature. Blue (narrow bars, labelled): what a draw "
    "actually uses — the survivors, scaled up so they add up to 1 again. Top-p keeps the smallest set of most "
    "likely tokens whose probabilities reach p (orange line with dots: the running total). Min-p keeps tokens at "
    "least min-p times as likely as the top one. The top 20 tokens are shown."
))

st.header(_("2 · Generate step by step"))
st.markdown(_(
    "Generation is a loop: **choose a token, append it, predict again** — until an end token or a "
    "length limit. Each step below uses the strategy above ({settings}). The model "
    "keeps a cache of what it has already read, so each step only processes the one new token."
).format(settings=describe(settings)))
if settings.strategy != GREEDY:
    st.caption(_(RANDOM_TEXT))
run = st.session_state.get(RUN_KEY)
if run is None or run["key"] != (lm.name, ids):
    run = {"key": (lm.name, ids), "new_ids": [], "trace": [], "ended": False, "stepper": IncrementalLogits(lm)}
    st.session_state[RUN_KEY] = run

cols = st.columns([1, 1, 1, 1])
seed = cols[0].number_input(_("Seed"), 0, 2**31 - 1, 42, key="sampling_seed", bind="query-params",
                            help=_("Same seed, same draws."))
next_clicked = cols[1].button(_("Next token ▶"), key="sampling_next")
many_clicked = cols[2].button(_("Generate 10 ⏩"), key="sampling_many")
if cols[3].button(_("Reset ↺"), key="sampling_reset"):
    run = {**run, "new_ids": [], "trace": [], "ended": False}
    st.session_state[RUN_KEY] = run
room = MAX_NEW_TOKENS - len(run["new_ids"])
wanted = 1 if next_clicked else 10 if many_clicked else 0
working = st.empty()  # a status box while tokens are being chosen
strip = st.empty()  # the prompt and the tokens chosen so far, redrawn as each one is chosen


def draw_strip(run: dict) -> None:
    strip.html(token_spans(prompt.pieces + [row.piece for row in run["trace"]], show_ids=False,
                           highlight_from=len(ids)))


def generate(run: dict, n: int) -> dict:
    """Choose up to `n` tokens, drawing each one in the strip as soon as it is chosen.

    After every token the run is stored in the session (replaced, never mutated) and the strip and
    status are redrawn. Those redraws are `st.*` calls, where Streamlit stops a script whose rerun
    was requested: a new click or a new prompt stops this loop after at most one more token, and
    the tokens already shown stay in the run (the same seed continues the same draw).
    """
    first = len(run["new_ids"]) + 1
    label = ngettext("Choosing {count} token…", "Choosing {count} tokens…", n).format(count=n)
    # One token takes a fraction of a second: a caption says so (st.status pauses 2 × 50 ms itself).
    status = working.status(label, expanded=False) if n > 1 else working.caption(label)
    for row in steps_stream(run["stepper"], ids + tuple(run["new_ids"]), settings, n, int(seed), first):
        run = {**run, "new_ids": run["new_ids"] + [row.piece.id], "trace": run["trace"] + [row],
               "ended": is_end_token(lm, row.piece.id)}
        st.session_state[RUN_KEY] = run
        draw_strip(run)
        if n > 1:
            status.update(label=_("Chose {done} of {count}…").format(done=row.step - first + 1, count=n))
    working.empty()
    return run


draw_strip(run)
if wanted and not run["ended"] and room > 0:
    run = generate(run, min(wanted, room))
    room = MAX_NEW_TOKENS - len(run["new_ids"])
if run["ended"]:
    st.success(_("The model chose its end-of-text token: generation stops here. Reset to start again."))
elif room <= 0:
    st.info(_("Stopped at {count} new tokens (this page's length limit). Reset to start again.").format(
        count=MAX_NEW_TOKENS))
if run["trace"]:
    trace = run["trace"]
    table = {
        _("step"): [row.step for row in trace],
        _("chosen token"): [repr(row.piece.display) for row in trace],
        _("model's probability"): [format_percent(row.prob, 2) for row in trace],
        _("rank"): [row.rank for row in trace],
        _("candidates"): [row.n_candidates for row in trace],
        _("probability in the draw"): [format_percent(row.draw_prob, 2) for row in trace],
    }
    if len({row.settings for row in trace}) > 1:  # the strategy changed between clicks: say how each was chosen
        table[_("how")] = [describe(row.settings) for row in trace]
    show_table(table, key="trace_table", alt=_("Every chosen token, step by step"))
else:
    st.caption(_("Click **Next token** to let the model write one token at a time (new tokens are outlined)."))

st.header(_("3 · Compare strategies"))
st.markdown(_(
    "The same prompt, continued by different strategies, three samples each (same seed as above). Greedy always "
    "writes the same text (and often repeats itself); sampling gives variety; a high temperature gives "
    "surprise — and nonsense. Sampling picks *likely* tokens, not *true* ones: fluent, confident, "
    "wrong text (a *hallucination*) comes from the same mechanism."
))
st.caption(_(RANDOM_TEXT))
game = st.toggle(_("🎯 Guess which strategy wrote it"), key="sampling_game", bind="query-params",
                 help=_("A classroom game: once the strategies have written their texts, one text is shown "
                        "without its strategy; everyone guesses, then Reveal."))
compare_clicked = st.button(_("Compare strategies ▶"), key="sampling_compare_run",
                            help=_("Writes 3 continuations of 15 tokens for each strategy; shown as each is ready."))
progress_slot = st.empty()
game_box = st.container()
slots = dict(zip(COMPARED, (column.empty() for column in st.columns(len(COMPARED)))))
stored = {name: results().peek(samples_key(lm.name, ids, s, 3, 15, int(seed))) for name, s in COMPARED.items()}
missing = [name for name, found in stored.items() if found is None]
def show_written(names: list[str]) -> None:
    """The strategies just written, in their columns (in the game: only ticked off)."""
    for name in names:
        if game:
            slots[name].caption(_("✓ {name}: written (hidden until you reveal)").format(name=_(name)))
        else:
            show_samples(slots[name], name, stored[name])


if compare_clicked and missing:
    # Greedy (one row) first, shown at once; then every sampler in one batch, which costs little more
    # than one of them alone. A rerun requested meanwhile (a new click or prompt) stops the run at
    # the progress update between the two.
    first, rest = missing[:1], missing[1:]
    for done, batch in ((0, first), (len(first), rest)):
        if not batch:
            continue
        text = (_("Writing **{name}** ({done} of {count} strategies done)…") if len(batch) == 1
                else _("Writing {names} together ({done} of {count} strategies done)…"))
        progress_slot.progress(done / len(missing), text=text.format(
            name=_(batch[0]), names=", ".join(f"**{_(name)}**" for name in batch), done=done, count=len(missing)))
        for name in batch:
            slots[name].caption(_("⏳ {name}: writing…").format(name=_(name)))
        stored |= samples_together(lm.name, ids, {name: COMPARED[name] for name in batch}, 3, 15, int(seed))
        show_written(batch)
    progress_slot.empty()
    missing = []
elif missing:
    progress_slot.caption(_("Press **Compare strategies** to write them (the slowest part of this page, so it only "
                            "runs when asked; results are kept for everyone with the same prompt and seed)."))
revealed = not game
if game and not missing:
    with game_box:
        revealed = show_game((lm.name, ids, int(seed)), stored)
for name, found in stored.items():
    if found is not None:  # already written (by you or a classmate): shown at once
        if revealed:
            show_samples(slots[name], name, found)
        else:
            slots[name].caption(_("✓ {name}: written (hidden until you reveal)").format(name=_(name)))

st.subheader(_("Beam search: keep several drafts"))
st.markdown(_(
    "Beam search keeps the **width** best partial sequences (beams) at every step, scored by their "
    "total log-probability (closer to 0 = more likely). Each step, every beam is extended by every "
    "token; the best 2 × width candidates are shown, and only the best width continue: kept beams "
    "are circles (●), finished ones squares (■), dropped candidates crosses (×). The winner "
    "({drawn}) is the finished sequence with the best score divided by its length — exactly what "
    "transformers' `generate(num_beams=…)` returns."
).format(drawn=_(BEST_WORDS)))
cols = st.columns([2, 2, 1], vertical_alignment="bottom")
width = cols[0].slider(_("Beam width"), 2, 4, 3, key="sampling_beams", bind="query-params")
steps = cols[1].slider(_("Steps"), 2, 6, 4, key="sampling_beam_steps", bind="query-params")
if cols[2].button(_("Run beam search ▶"), key="sampling_beam_run"):
    st.session_state[BEAM_KEY] = (lm.name, ids)  # asked for this prompt: slider moves now run it too
beams = results().peek(beam_key(lm.name, ids, width, steps))
if beams is None and st.session_state.get(BEAM_KEY) == (lm.name, ids):
    with st.spinner(_("Searching with {width} beams for {steps} steps…").format(width=width, steps=steps)):
        beams = beam_search(lm.name, ids, width, steps)
if beams is None:
    st.caption(_("Press **Run beam search** to draw the search tree for this prompt."))
else:
    show_chart(lambda: beam_tree_figure(beams), (width, steps), "beam_tree",
               _("Beam search, width {width}, {steps} steps").format(width=width, steps=steps))
    describe_chart(beam_sentence(beams, lm), beam_table(beams))
    st.markdown(_("Best sequence ({drawn}; score {score}):").format(
        drawn=markdown_escape(_(BEST_WORDS)), score=format_number(beams.best_score, 3)))
    winner = [beams.nodes[n].piece for n in beams.best_path[1:]]
    st.html(token_spans(prompt.pieces + winner, show_ids=False, highlight_from=len(ids)))

st.header(_("4 · In-context learning: examples in the prompt"))
st.markdown(_(
    "No training happens here: only the prompt changes. With **zero**, **one** or **a few** worked "
    "examples before the question, the model's next-token probabilities for ' positive' and "
    "' negative' move. Edit the boxes and watch (the examples stay in English: the model reads "
    "English best)."
))
ICL_DEFAULTS = {  # the box labels are translated; the prompts are the model's input, in English
    N_("Zero-shot"): "Review: The soup was cold and the waiter ignored us.\nSentiment:",
    N_("One-shot"): (
        "Review: I loved every minute, the staff were lovely.\nSentiment: positive\n\n"
        "Review: The soup was cold and the waiter ignored us.\nSentiment:"
    ),
    N_("Few-shot"): (
        "Review: I loved every minute, the staff were lovely.\nSentiment: positive\n\n"
        "Review: Terrible film, I walked out after an hour.\nSentiment: negative\n\n"
        "Review: Great value and a beautiful view.\nSentiment: positive\n\n"
        "Review: The soup was cold and the waiter ignored us.\nSentiment:"
    ),
}
LABELS = (" positive", " negative")
for column, (name, default) in zip(st.columns(3), ICL_DEFAULTS.items()):
    with column:
        text = st.text_area(_(name), default, height=230, max_chars=2000, key=f"icl_{name}", bind="query-params")
        if not text.strip():
            st.info(_("Type a prompt to score."))
            continue
        probs = cached_label_probs(lm, text, LABELS)
        st.metric("P(' positive')", format_percent(probs[0]))
        st.metric("P(' negative')", format_percent(probs[1]))
        share = format_percent(max(probs) / max(sum(probs), 1e-12), 0)
        st.caption(_("The model leans **positive** ({share} of the two).").format(share=share) if probs[0] > probs[1]
                   else _("The model leans **negative** ({share} of the two).").format(share=share))

next_step_link("sampling")
