"""Sampling — how one token is chosen from the distribution, and the generation loop around it."""

import streamlit as st

from explain.generation import IncrementalLogits, is_end_token
from explain.sampling import GREEDY, SamplingSettings, filter_view
from ui import state
from ui.charts import show_exportable_chart
from ui.html import token_spans, visible_text
from ui.results import results
from ui.sampling import (
    BEST_WORDS,
    beam_tree_figure,
    beam_key,
    beam_search,
    cached_label_probs,
    filter_figure,
    samples,
    samples_key,
    settings_ui,
    steps_stream,
)
from ui.walk import next_step_link

MAX_NEW_TOKENS = 100  # the step-by-step run stops growing here
RUN_KEY = "sampling_run"
BEAM_KEY = "sampling_beam_for"  # (model, ids) the learner asked beam search for
PAGE = "sampling"

st.title("🎲 Sampling: choosing the next token")
st.markdown(
    "The model gives a probability to every token; a **decoding strategy** picks one. **Greedy** "
    "always takes the most likely (safe but repetitive). **Sampling** draws at random by probability, "
    "like a weighted die. **Temperature** reshapes the distribution first; **top-k**, **top-p "
    "(nucleus)** and **min-p** cut off the unlikely tail and share its probability among the "
    "survivors. A **seed** makes a draw repeatable."
)

lm, prompt, ids = state.page_prompt()
logits = state.cached_analysis(lm.name, ids).last_logits  # (vocab,), read-only



def show_chart(fig, key: str, title: str) -> None:
    """A chart of this page, titled with the prompt and model; its PNG is named by page and chart."""
    show_exportable_chart(fig, key, page=PAGE, title=title, prompt=state.current_prompt_text(), model_name=lm.name)


st.header("1 · The strategies as filters")
controls, chart_column = st.columns([1, 2], gap="large")  # the controls beside the chart they drive
with controls:
    settings = settings_ui()
view = filter_view(lm, logits, settings, top_n=20)
with chart_column:
    show_chart(filter_figure(view), "filter_chart", f"Filter: {settings.describe()}")
cols = st.columns(3)
cols[0].metric("Candidates kept", f"{view.n_kept:,} of {view.vocab_size:,}")
cols[1].metric("Probability they had", f"{view.kept_mass:.1%}")
cols[2].metric(f"Top token '{visible_text(view.pieces[0].display)}' after renormalising", f"{view.probs_after[0]:.1%}")
st.caption(
    "Grey (wide bars): the distribution after temperature. Blue (narrow bars, labelled): what a draw "
    "actually uses — the survivors, scaled up so they add up to 1 again. Top-p keeps the smallest set of most likely tokens whose "
    "probabilities reach p (orange line: the running total). Min-p keeps tokens at least min-p times as "
    "likely as the top one. The top 20 tokens are shown."
)

st.header("2 · Generate step by step")
st.markdown(
    "Generation is a loop: **choose a token, append it, predict again** — until an end token or a "
    f"length limit. Each step below uses the strategy above ({settings.describe()}). The model "
    "keeps a cache of what it has already read, so each step only processes the one new token."
)
run = st.session_state.get(RUN_KEY)
if run is None or run["key"] != (lm.name, ids):
    run = {"key": (lm.name, ids), "new_ids": [], "trace": [], "ended": False, "stepper": IncrementalLogits(lm)}
    st.session_state[RUN_KEY] = run

cols = st.columns([1, 1, 1, 1])
seed = cols[0].number_input("Seed", 0, 2**31 - 1, 42, key="sampling_seed", bind="query-params", help="Same seed, same draws.")
next_clicked = cols[1].button("Next token ▶", key="sampling_next")
many_clicked = cols[2].button("Generate 10 ⏩", key="sampling_many")
if cols[3].button("Reset ↺", key="sampling_reset"):
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
    with working.status(f"Choosing {n} token{'s' if n > 1 else ''}…", expanded=False) as status:
        for row in steps_stream(run["stepper"], ids + tuple(run["new_ids"]), settings, n, int(seed), first):
            run = {**run, "new_ids": run["new_ids"] + [row.piece.id], "trace": run["trace"] + [row],
                   "ended": is_end_token(lm, row.piece.id)}
            st.session_state[RUN_KEY] = run
            draw_strip(run)
            status.update(label=f"Chose {row.step - first + 1} of {n}…")
    working.empty()
    return run


draw_strip(run)
if wanted and not run["ended"] and room > 0:
    run = generate(run, min(wanted, room))
    room = MAX_NEW_TOKENS - len(run["new_ids"])
if run["ended"]:
    st.success("The model chose its end-of-text token: generation stops here. Reset to start again.")
elif room <= 0:
    st.info(f"Stopped at {MAX_NEW_TOKENS} new tokens (this page's length limit). Reset to start again.")
if run["trace"]:
    st.dataframe(
        {
            "step": [row.step for row in run["trace"]],
            "chosen token": [repr(row.piece.display) for row in run["trace"]],
            "model's probability": [f"{row.prob:.2%}" for row in run["trace"]],
            "rank": [row.rank for row in run["trace"]],
            "candidates": [row.n_candidates for row in run["trace"]],
            "probability in the draw": [f"{row.draw_prob:.2%}" for row in run["trace"]],
            "how": [row.settings for row in run["trace"]],
        },
        hide_index=True, key="trace_table",
    )
else:
    st.caption("Click **Next token** to let the model write one token at a time (new tokens are outlined).")

st.header("3 · Compare strategies")
st.markdown(
    "The same prompt, continued by different strategies, three samples each (same seed as above). Greedy always writes "
    "the same text (and often repeats itself); sampling gives variety; a high temperature gives "
    "surprise — and nonsense. Sampling picks *likely* tokens, not *true* ones: fluent, confident, "
    "wrong text (a *hallucination*) comes from the same mechanism."
)
st.caption("Sampled text is random and unfiltered: at a high temperature it can be nonsense, and now "
           "and then a crude word.")
COMPARED = {
    "Greedy": SamplingSettings(strategy=GREEDY),
    "Top-k (k = 10)": SamplingSettings(top_k=10),
    "Top-p (p = 0.9)": SamplingSettings(top_p=0.9),
    "High temperature (T = 1.6)": SamplingSettings(temperature=1.6),
}


def show_samples(column, name: str, found) -> None:
    with column.container():
        st.markdown(f"**{name}**")
        for text in found.texts:
            st.code(text or "(ended at once)", language=None, wrap_lines=True)
        if len(found.texts) == 1:
            st.caption("No randomness: every run writes this same text. Mean log-probability per "
                       f"token {found.mean_logprob[0]:.2f}.")
        else:
            st.caption(f"{len(set(found.texts))} different texts out of {len(found.texts)}. Mean "
                       "log-probability per token (closer to 0 = more predictable): "
                       + ", ".join(f"{v:.2f}" for v in found.mean_logprob))


compare_clicked = st.button("Compare strategies ▶", key="sampling_compare_run",
                            help="Writes 3 continuations of 15 tokens for each strategy; shown as each is ready.")
progress_slot = st.empty()
slots = dict(zip(COMPARED, (column.empty() for column in st.columns(len(COMPARED)))))
stored = {name: results().peek(samples_key(lm.name, ids, s, 3, 15, int(seed))) for name, s in COMPARED.items()}
for name, found in stored.items():
    if found is not None:
        show_samples(slots[name], name, found)  # already written (by you or a classmate): shown at once
missing = [name for name, found in stored.items() if found is None]
if compare_clicked and missing:
    # One strategy at a time, each shown when ready; a rerun requested meanwhile (a new click or
    # prompt) stops the run at the next progress update, so at most one strategy is finished in vain.
    for done, name in enumerate(missing):
        progress_slot.progress(done / len(missing), text=f"Writing **{name}** ({done} of {len(missing)} strategies done)…")
        slots[name].caption(f"⏳ {name}: writing…")
        show_samples(slots[name], name, samples(lm.name, ids, COMPARED[name], 3, 15, int(seed)))
    progress_slot.empty()
elif missing:
    progress_slot.caption("Press **Compare strategies** to write them (the slowest part of this page, so it "
                          "only runs when asked; results are kept for everyone with the same prompt and seed).")

st.subheader("Beam search: keep several drafts")
st.markdown(
    "Beam search keeps the **width** best partial sequences (beams) at every step, scored by their "
    "total log-probability (closer to 0 = more likely). Each step, every beam is extended by every "
    "token; the best 2 × width candidates are shown, and only the best width continue: kept beams "
    "are circles (●), finished ones squares (■), dropped candidates crosses (×). The winner "
    f"({BEST_WORDS}) is the finished sequence with the best score divided by its length — exactly what "
    "transformers' `generate(num_beams=…)` returns."
)
cols = st.columns([2, 2, 1], vertical_alignment="bottom")
width = cols[0].slider("Beam width", 2, 4, 3, key="sampling_beams", bind="query-params")
steps = cols[1].slider("Steps", 2, 6, 4, key="sampling_beam_steps", bind="query-params")
if cols[2].button("Run beam search ▶", key="sampling_beam_run"):
    st.session_state[BEAM_KEY] = (lm.name, ids)  # asked for this prompt: slider moves now run it too
beams = results().peek(beam_key(lm.name, ids, width, steps))
if beams is None and st.session_state.get(BEAM_KEY) == (lm.name, ids):
    with st.spinner(f"Searching with {width} beams for {steps} steps…"):
        beams = beam_search(lm.name, ids, width, steps)
if beams is None:
    st.caption("Press **Run beam search** to draw the search tree for this prompt.")
else:
    show_chart(beam_tree_figure(beams), "beam_tree", f"Beam search, width {width}, {steps} steps")
    st.markdown(f"Best sequence (score {beams.best_score:.3f}):")
    winner = [beams.nodes[n].piece for n in beams.best_path[1:]]
    st.html(token_spans(prompt.pieces + winner, show_ids=False, highlight_from=len(ids)))

st.header("4 · In-context learning: examples in the prompt")
st.markdown(
    "No training happens here: only the prompt changes. With **zero**, **one** or **a few** worked "
    "examples before the question, the model's next-token probabilities for ' positive' and "
    "' negative' move. Edit the boxes and watch."
)
ICL_DEFAULTS = {
    "Zero-shot": "Review: The soup was cold and the waiter ignored us.\nSentiment:",
    "One-shot": (
        "Review: I loved every minute, the staff were lovely.\nSentiment: positive\n\n"
        "Review: The soup was cold and the waiter ignored us.\nSentiment:"
    ),
    "Few-shot": (
        "Review: I loved every minute, the staff were lovely.\nSentiment: positive\n\n"
        "Review: Terrible film, I walked out after an hour.\nSentiment: negative\n\n"
        "Review: Great value and a beautiful view.\nSentiment: positive\n\n"
        "Review: The soup was cold and the waiter ignored us.\nSentiment:"
    ),
}
LABELS = (" positive", " negative")
for column, (name, default) in zip(st.columns(3), ICL_DEFAULTS.items()):
    with column:
        text = st.text_area(name, default, height=230, max_chars=2000, key=f"icl_{name}", bind="query-params")
        if not text.strip():
            st.info("Type a prompt to score.")
            continue
        probs = cached_label_probs(lm.name, text, LABELS)
        st.metric("P(' positive')", f"{probs[0]:.1%}")
        st.metric("P(' negative')", f"{probs[1]:.1%}")
        verdict = "positive" if probs[0] > probs[1] else "negative"
        st.caption(f"The model leans **{verdict}** ({max(probs) / max(sum(probs), 1e-12):.0%} of the two).")

next_step_link("sampling")
