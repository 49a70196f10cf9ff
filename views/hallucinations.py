"""Why it makes things up — fluent, confident, false answers from the live model, and one warning signal.

The questions are English facts asked of an English model, so they stay in English in every
language (the page says so); everything around them is translated.
"""

import pandas as pd
from babel.lists import format_list
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explain import hallucination as hal
from explain import limits
from explain.next_token import distribution_from_logits
from explain.engine.models import LoadedModel
from ui import palette, state
from ui.figures import probability_bars
from ui.html import markdown_escape, visible_text
from ui.presenter import show_table
from ui.i18n import N_, _, babel_locale, current_language, format_number, format_percent, ngettext
from ui.charts import show_shared_chart
from ui.walk import next_step_link
from ui.state import BY_MODEL_NAME

SEED_KEY = "hall_seed"
PAGE = "hallucinations"
# The Sampling page's own warning, shown here too: this page samples (issue 20.8).
RANDOM_TEXT = N_("Sampled text is random and unfiltered: at a high temperature it can be nonsense, and now "
                 "and then a crude word.")
PERPLEXITY_COLOUR, DISTINCT_COLOUR = palette.CATEGORICAL[5], palette.CATEGORICAL[4]  # vermillion, blue


@st.cache_data(show_spinner=False)
def shipped_results() -> tuple[list[hal.AnsweredQuestion], hal.Calibration]:
    answered = hal.load_results()
    return answered, hal.calibration(answered)


@st.cache_data(max_entries=limits.REROLL_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_rerolls(lm: LoadedModel, ids: tuple[int, ...], seed: int) -> hal.Rerolls:
    return hal.reroll(lm, list(ids), seed=seed)


@st.cache_data(max_entries=limits.TEMPERATURE_SWEEP_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_sweep(lm: LoadedModel, ids: tuple[int, ...]) -> list[hal.TemperaturePoint]:
    return hal.temperature_sweep(lm, list(ids))


def token_text(display: str) -> str:
    """A token quoted for Markdown, whitespace made visible."""
    return "'" + markdown_escape(visible_text(display)) + "'"


def top5_figure(dist) -> go.Figure:
    """The shared top-n bars, with the axis and hover text in the session's language."""
    fig = probability_bars(dist)
    fig.update_xaxes(title_text=_("probability"))
    fig.update_traces(text=[format_percent(p) for p in dist.probs], hovertemplate="%{y}<br>" + _("probability") + " %{x:.2%}<br>" + _("logit")
                      + " %{customdata:.2f}<extra></extra>")
    return fig


def sweep_figure(sweep: list[hal.TemperaturePoint]) -> go.Figure:
    """Perplexity and distinct-2 against temperature, two panels (shapes differ, not only colours)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("Perplexity (model's own, T = 1)"), _("distinct-2 (variety)")))
    temps = [p.temperature for p in sweep]
    fig.add_trace(go.Scatter(x=temps, y=[p.perplexity for p in sweep], mode="lines+markers", name=_("perplexity"),
                             marker=dict(symbol="circle", size=10, color=PERPLEXITY_COLOUR),
                             line=dict(color=PERPLEXITY_COLOUR)), row=1, col=1)
    fig.add_trace(go.Scatter(x=temps, y=[p.distinct_2 for p in sweep], mode="lines+markers", name=_("distinct-2"),
                             marker=dict(symbol="square", size=10, color=DISTINCT_COLOUR),
                             line=dict(color=DISTINCT_COLOUR, dash="dash")), row=1, col=2)
    fig.update_xaxes(title_text=_("temperature"))
    fig.update_layout(height=320, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def top5_table(dist) -> pd.DataFrame:
    return pd.DataFrame({_("rank"): range(1, len(dist.probs) + 1),
                         _("token"): [visible_text(p.display) for p in dist.pieces],
                         _("probability"): [format_percent(p) for p in dist.probs],
                         _("logit"): [round(v, 2) for v in dist.logits]})


def calibration_table(cal: hal.Calibration) -> pd.DataFrame:
    rows = []
    for signal in cal.signals:
        name = _("agreement of {count} re-rolls").format(count=hal.N_REROLLS) if signal.signal == "agreement" else _("probability of the first token")
        for b in signal.bins:
            rows.append({_("signal"): name, _("signal range"): f"{format_number(b.low, 1)}–{format_number(b.high, 1)}",
                         _("questions"): b.n,
                         _("mean signal"): None if b.n == 0 else round(b.mean_signal, 2),
                         _("share right"): None if b.n == 0 else round(b.accuracy, 2)})
    return pd.DataFrame(rows)


st.title(_("🤥 Why it makes things up"))
st.markdown(_(
    "The model writes the **likely** next token. It does not look anything up and it does not check "
    "facts. So a fluent sentence that *sounds* right can be false: a **hallucination**. "
    "This page asks the live model real questions, shows where it is wrong, and measures whether "
    "it can tell."
))

lm, prompt, ids = state.page_prompt()


def show_chart(build, key: str, title: str) -> None:
    """The chart `build()` draws for this prompt, titled with the prompt and model (also in its saved
    PNG, named by page, chart and prompt: issue 20.10), built once for every session showing it."""
    show_shared_chart(build, (lm.name, ids), key, page=PAGE, title=title, prompt=state.current_prompt_text(),
                      model_name=lm.name)


answered, cal = shipped_results()

# 1 -------------------------------------------------------------------------------------------
st.header(_("1 · Ask it a question"))
wrong = sorted((a for a in answered if not a.correct), key=lambda a: -a.top_prob)
st.markdown(_("Write a sentence to complete in the Prompt box, or try one the model gets wrong "
              "(its most confident mistakes first):"))
if current_language() != "en":
    st.caption(_("These questions stay in English: they are English facts asked of a model trained mostly "
                 "on English, and its answers are checked against English spellings."))
cols = st.columns(min(4, len(wrong)) or 1)
for n, a in enumerate(wrong[:4]):
    cols[n].button(a.prompt, key=f"hall_q_{n}", on_click=state.use_prompt, args=(a.prompt,), width="stretch")

continuation = state.cached_greedy_continuation(lm, ids, hal.MAX_NEW_TOKENS)
dist = distribution_from_logits(lm, state.cached_analysis(lm, ids).last_logits, top_n=5)
st.markdown(_(
    "The model's greedy answer: {prompt} → **“{answer}”**. Its first token **{token}** had probability "
    "**{probability}**; the next four: {others}."
).format(
    prompt=markdown_escape(state.current_prompt_text().strip()),
    answer=markdown_escape(visible_text(continuation.text.strip())),
    token=token_text(dist.pieces[0].display),
    probability=format_percent(dist.probs[0], 0),
    others=format_list([f"{token_text(p.display)} {format_percent(q, 0)}" for p, q in zip(dist.pieces[1:], dist.probs[1:])],
                       locale=babel_locale()),
))
st.caption(_("The chart below: the five most likely first tokens. The top one, {token}, has {probability}; "
             "the next four share {rest}.").format(token=token_text(dist.pieces[0].display),
                                                   probability=format_percent(dist.probs[0]),
                                                   rest=format_percent(sum(dist.probs[1:]))))
show_chart(lambda: top5_figure(dist), "top5_chart", _("The five most likely next tokens"))
with st.expander(_("Show as table")):
    show_table(top5_table(dist), key="hall_top5_table")
known = next((a for a in answered if a.prompt == state.current_prompt_text().strip()), None)
if known is not None:
    message = (_("This question is in the site's fixed set. True answer: **{truth}**. The model's answer "
                 "“{answer}” is **right ✅**.") if known.correct else
               _("This question is in the site's fixed set. True answer: **{truth}**. The model's answer "
                 "“{answer}” is **wrong ❌**."))
    st.info(message.format(truth=markdown_escape(", ".join(known.answers)),
                           answer=markdown_escape(visible_text(known.greedy_answer))))

# 2 -------------------------------------------------------------------------------------------
st.header(_("2 · Re-roll the same question"))
st.info(_("**Myth:** “it looks the answer up.” If it did, asking again would give the same answer. "
          "Below, the same prompt is sampled {count} times (temperature 1, each draw seeded).").format(count=hal.N_REROLLS))
st.caption(_(RANDOM_TEXT))
seed = st.number_input(_("Seed"), 0, 9999, hal.SEED, key=SEED_KEY, bind="query-params",
                       help=_("Same seed, same {count} draws. Change it for {count} new ones.").format(count=hal.N_REROLLS))
with st.spinner(_("Asking the same question {count} times…").format(count=hal.N_REROLLS)):
    rolls = cached_rerolls(lm, ids, int(seed))
n_answers = len(rolls.groups)
top_answer, top_count = rolls.groups[0]
st.markdown(
    ngettext("**{count} different answer** in {rerolls} re-rolls.", "**{count} different answers** in {rerolls} re-rolls.",
             n_answers).format(count=n_answers, rerolls=len(rolls.answers))
    + ("" if current_language() == "zh" else " ")  # Chinese puts no space between sentences
    + ngettext("The most common, “{answer}”, came {times} time: an agreement of **{agreement}**.",
               "The most common, “{answer}”, came {times} times: an agreement of **{agreement}**.", top_count)
    .format(answer=markdown_escape(visible_text(top_answer)), times=top_count,
            agreement=format_percent(top_count / len(rolls.answers), 0))
)
show_table(  # in presenter mode each re-roll's whole text, wrapped
    pd.DataFrame({_("re-roll"): range(1, len(rolls.texts) + 1),
                  _("the model wrote"): [visible_text(t) for t in rolls.texts],
                  _("answer"): rolls.answers,
                  _("average probability per token"): [round(p, 3) for p in rolls.token_probs]}),
    key="hall_rerolls",
)

st.subheader(_("Myth: “temperature makes it more creative”"))
st.markdown(_(
    "Higher temperature flattens the probabilities, so rarer tokens get picked. Is that creativity? "
    "A study of a large model found temperature only weakly linked to novelty and moderately to "
    "incoherence (Peeperkorn et al., ICCC 2024). Measure it here on your prompt: 8 continuations of "
    "24 tokens at each temperature."
))
if st.toggle(_("Run the measurement (≈ 10–30 s)"), key="hall_sweep", bind="query-params"):
    with st.spinner(_("Sampling at four temperatures…")):
        sweep = cached_sweep(lm, ids)
    low, high = sweep[0], sweep[-1]
    st.markdown(_(
        "From temperature {low_t} to {high_t}, the model's own perplexity of what it wrote went from "
        "**{low_p} to {high_p}** (higher = the model itself finds the text less likely), and distinct-2 from "
        "**{low_d} to {high_d}** (share of token pairs that are new). More variety, bought with less coherence."
    ).format(low_t=format_number(low.temperature, 1), high_t=format_number(high.temperature, 1),
             low_p=format_number(low.perplexity, 1), high_p=format_number(high.perplexity, 1),
             low_d=format_number(low.distinct_2, 2), high_d=format_number(high.distinct_2, 2)))
    show_chart(lambda: sweep_figure(sweep), "sweep_chart", _("Perplexity and variety at four temperatures"))
    st.caption(_("The two charts show the same measurements as the table below: perplexity (left, circles) "
                 "and distinct-2 (right, squares) for each temperature."))
    show_table(pd.DataFrame([{_("temperature"): p.temperature, _("perplexity"): round(p.perplexity, 1),
                              _("distinct-2"): round(p.distinct_2, 2), _("first sample"): visible_text(p.example)}
                             for p in sweep]), key="hall_sweep_table")

# 3 -------------------------------------------------------------------------------------------
st.header(_("3 · Can it tell when it is wrong?"))
n_right = sum(a.correct for a in answered)
by_name = {s.signal: s for s in cal.signals}
agree, prob = by_name["agreement"], by_name["top_prob"]
st.markdown(_(
    "On a fixed set of **{questions} questions with known answers** (shipped with the site), the model's "
    "greedy answer was right **{right} times ({accuracy})**. Two warning signals were measured for each "
    "answer: the **probability of its first token**, and the **agreement** of 10 re-rolls with it "
    "(self-consistency)."
).format(questions=cal.n_questions, right=n_right, accuracy=format_percent(cal.accuracy, 0)))
st.markdown(_(
    "- A right answer scored higher than a wrong one **{agree_auroc}** of the time on agreement, and "
    "**{prob_auroc}** of the time on probability ({coin} = a coin toss).\n"
    "- Calibration error (the gap between the signal and the share right, averaged over groups): "
    "agreement **{agree_ece}**, probability **{prob_ece}** (0 = a signal you could read as a chance)."
).format(agree_auroc=format_percent(agree.auroc, 0), prob_auroc=format_percent(prob.auroc, 0),
         coin=format_percent(0.5, 0), agree_ece=format_number(agree.ece, 2), prob_ece=format_number(prob.ece, 2)))
show_table(calibration_table(cal), key="hall_calibration")
with st.expander(_("All questions, answers and signals")):
    show_table(pd.DataFrame([{
        _("question"): a.prompt, _("true answer"): ", ".join(a.answers), _("the model said"): a.greedy_answer,
        _("correct"): _("yes") if a.correct else _("no"), _("probability"): round(a.top_prob, 2),
        _("agreement"): a.agreement,
    } for a in answered]), key="hall_all")
st.caption(_("Measured once on {model} with seed {seed}; a test recomputes a sample so these numbers stay true.")
           .format(model=lm.name, seed=hal.SEED))

# 4 -------------------------------------------------------------------------------------------
st.header(_("4 · What helps in practice"))
st.markdown(_(
    "- **Check a trusted source** for names, dates, numbers and quotes. A fluent answer is not a checked one.\n"
    "- **Prefer tools that show their sources** (retrieval: the system looks up documents and the model "
    "answers from them). Then open the source.\n"
    "- **Ask again, or ask differently.** When answers disagree, be suspicious. When they agree, the "
    "model may still be wrong: agreement is a warning signal, not a proof.\n"
    "- **Allow “I don't know”.** A system asked to say so when unsure makes fewer confident mistakes.\n"
    "- Remember what it is: a **machine** that predicts likely text, not a person who knows."
))

next_step_link("hallucinations")
