"""Why it makes things up — fluent, confident, false answers from the live model, and one warning signal."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explain import hallucination as hal
from explain.next_token import distribution_from_logits
from ui import state
from ui.figures import probability_bars
from ui.html import markdown_escape, visible_text
from ui.presenter import show_chart
from ui.walk import next_step_link

SEED_KEY = "hall_seed"


@st.cache_data(show_spinner=False)
def shipped_results() -> tuple[list[hal.AnsweredQuestion], hal.Calibration]:
    answered = hal.load_results()
    return answered, hal.calibration(answered)


@st.cache_data(max_entries=64, show_spinner="Asking the same question 10 times…")
def cached_rerolls(model_name: str, ids: tuple[int, ...], seed: int) -> hal.Rerolls:
    return hal.reroll(state.get_model(model_name), list(ids), seed=seed)


@st.cache_data(max_entries=16, show_spinner="Sampling at four temperatures…")
def cached_sweep(model_name: str, ids: tuple[int, ...]) -> list[hal.TemperaturePoint]:
    return hal.temperature_sweep(state.get_model(model_name), list(ids))


def sweep_figure(sweep: list[hal.TemperaturePoint]) -> go.Figure:
    """Perplexity and distinct-2 against temperature, two panels (shapes differ, not only colours)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Perplexity (model's own, T = 1)", "distinct-2 (variety)"))
    temps = [p.temperature for p in sweep]
    fig.add_trace(go.Scatter(x=temps, y=[p.perplexity for p in sweep], mode="lines+markers", name="perplexity",
                             marker=dict(symbol="circle", size=10, color="#D55E00")), row=1, col=1)
    fig.add_trace(go.Scatter(x=temps, y=[p.distinct_2 for p in sweep], mode="lines+markers", name="distinct-2",
                             marker=dict(symbol="square", size=10, color="#0072B2")), row=1, col=2)
    fig.update_xaxes(title_text="temperature")
    fig.update_layout(height=320, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def use_question(prompt: str) -> None:
    st.session_state[state.PROMPT_KEY] = prompt


def calibration_table(cal: hal.Calibration) -> pd.DataFrame:
    rows = []
    for signal in cal.signals:
        name = "agreement of 10 re-rolls" if signal.signal == "agreement" else "probability of the first token"
        for b in signal.bins:
            rows.append({"signal": name, "signal range": f"{b.low:.1f}–{b.high:.1f}", "questions": b.n,
                         "mean signal": None if b.n == 0 else round(b.mean_signal, 2),
                         "share right": None if b.n == 0 else round(b.accuracy, 2)})
    return pd.DataFrame(rows)


st.title("🤥 Why it makes things up")
st.markdown(
    "The model writes the **likely** next token. It does not look anything up and it does not check "
    "facts. So a fluent sentence that *sounds* right can be false: a **hallucination**. "
    "This page asks the live model real questions, shows where it is wrong, and measures whether "
    "it can tell."
)

lm, prompt, ids = state.page_prompt()
answered, cal = shipped_results()

# 1 -------------------------------------------------------------------------------------------
st.header("1 · Ask it a question")
wrong = sorted((a for a in answered if not a.correct), key=lambda a: -a.top_prob)
st.markdown("Write a sentence to complete in the sidebar, or try one the model gets wrong "
            "(its most confident mistakes first):")
cols = st.columns(min(4, len(wrong)) or 1)
for n, a in enumerate(wrong[:4]):
    cols[n].button(a.prompt, key=f"hall_q_{n}", on_click=use_question, args=(a.prompt,), width="stretch")

continuation = state.cached_greedy_continuation(lm.name, ids, hal.MAX_NEW_TOKENS)
dist = distribution_from_logits(lm, state.cached_analysis(lm.name, ids).last_logits, top_n=5)
st.markdown(
    f"The model's greedy answer: {markdown_escape(state.current_prompt_text().strip())}"
    f" → **“{markdown_escape(visible_text(continuation.text.strip()))}”**. Its first token "
    f"**'{markdown_escape(visible_text(dist.pieces[0].display))}'** had probability **{dist.probs[0]:.0%}**; "
    f"the next four: " + ", ".join(f"'{markdown_escape(visible_text(p.display))}' {q:.0%}" for p, q in zip(dist.pieces[1:], dist.probs[1:])) + "."
)
show_chart(probability_bars(dist), key="hall_top5")
known = next((a for a in answered if a.prompt == state.current_prompt_text().strip()), None)
if known is not None:
    verdict = "right ✅" if known.correct else "wrong ❌"
    st.info(f"This question is in the site's fixed set. True answer: **{markdown_escape(', '.join(known.answers))}**. "
            f"The model's answer “{markdown_escape(visible_text(known.greedy_answer))}” is **{verdict}**.")

# 2 -------------------------------------------------------------------------------------------
st.header("2 · Re-roll the same question")
st.info("**Myth:** “it looks the answer up.” If it did, asking again would give the same answer. "
        "Below, the same prompt is sampled 10 times (temperature 1, each draw seeded).")
seed = st.number_input("Seed", 0, 9999, hal.SEED, key=SEED_KEY, bind="query-params",
                       help="Same seed, same 10 draws. Change it for 10 new ones.")
rolls = cached_rerolls(lm.name, ids, int(seed))
n_answers = len(rolls.groups)
top_answer, top_count = rolls.groups[0]
st.markdown(
    f"**{n_answers} different answer(s)** in {len(rolls.answers)} re-rolls. The most common, "
    f"“{markdown_escape(visible_text(top_answer))}”, came {top_count} time(s): an agreement of **{top_count / len(rolls.answers):.0%}**."
)
st.dataframe(
    pd.DataFrame({"re-roll": range(1, len(rolls.texts) + 1), "the model wrote": [visible_text(t) for t in rolls.texts],
                  "answer": rolls.answers, "average probability per token": [round(p, 3) for p in rolls.token_probs]}),
    hide_index=True, key="hall_rerolls",
)

st.subheader("Myth: “temperature makes it more creative”")
st.markdown(
    "Higher temperature flattens the probabilities, so rarer tokens get picked. Is that creativity? "
    "A study of a large model found temperature only weakly linked to novelty and moderately to "
    "incoherence (Peeperkorn et al., ICCC 2024). Measure it here on your prompt: 8 continuations of "
    "24 tokens at each temperature."
)
if st.toggle("Run the measurement (≈ 10–30 s)", key="hall_sweep"):
    sweep = cached_sweep(lm.name, ids)
    show_chart(sweep_figure(sweep), key="hall_sweep_chart")
    low, high = sweep[0], sweep[-1]
    st.markdown(
        f"From temperature {low.temperature:g} to {high.temperature:g}, the model's own perplexity of what it "
        f"wrote went from **{low.perplexity:.1f} to {high.perplexity:.1f}** (higher = the model itself finds "
        f"the text less likely), and distinct-2 from **{low.distinct_2:.2f} to {high.distinct_2:.2f}** "
        "(share of token pairs that are new). More variety, bought with less coherence."
    )
    st.dataframe(pd.DataFrame([{"temperature": p.temperature, "perplexity": round(p.perplexity, 1),
                                "distinct-2": round(p.distinct_2, 2), "first sample": visible_text(p.example)}
                               for p in sweep]), hide_index=True, key="hall_sweep_table")

# 3 -------------------------------------------------------------------------------------------
st.header("3 · Can it tell when it is wrong?")
n_right = sum(a.correct for a in answered)
by_name = {s.signal: s for s in cal.signals}
agree, prob = by_name["agreement"], by_name["top_prob"]
st.markdown(
    f"On a fixed set of **{cal.n_questions} questions with known answers** (shipped with the site), the "
    f"model's greedy answer was right **{n_right} times ({cal.accuracy:.0%})**. Two warning signals were "
    "measured for each answer: the **probability of its first token**, and the **agreement** of 10 re-rolls "
    "with it (self-consistency)."
)
st.markdown(
    f"- A right answer scored higher than a wrong one **{agree.auroc:.0%}** of the time on agreement, "
    f"and **{prob.auroc:.0%}** of the time on probability (50 % = a coin toss).\n"
    f"- Calibration error (the gap between the signal and the share right, averaged over groups): "
    f"agreement **{agree.ece:.2f}**, probability **{prob.ece:.2f}** (0 = a signal you could read as a chance)."
)
st.dataframe(calibration_table(cal), hide_index=True, key="hall_calibration")
with st.expander("All questions, answers and signals"):
    st.dataframe(pd.DataFrame([{
        "question": a.prompt, "true answer": ", ".join(a.answers), "the model said": a.greedy_answer,
        "right": "yes" if a.correct else "no", "probability": round(a.top_prob, 2), "agreement": a.agreement,
    } for a in answered]), hide_index=True, key="hall_all")
st.caption(f"Measured once on {lm.name} with seed {hal.SEED}; a test recomputes a sample so these numbers stay true.")

# 4 -------------------------------------------------------------------------------------------
st.header("4 · What helps in practice")
st.markdown(
    "- **Check a trusted source** for names, dates, numbers and quotes. A fluent answer is not a checked one.\n"
    "- **Prefer tools that show their sources** (retrieval: the system looks up documents and the model "
    "answers from them). Then open the source.\n"
    "- **Ask again, or ask differently.** When answers disagree, be suspicious. When they agree, the "
    "model may still be wrong: agreement is a warning signal, not a proof.\n"
    "- **Allow “I don't know”.** A system asked to say so when unsure makes fewer confident mistakes.\n"
    "- Remember what it is: a **machine** that predicts likely text, not a person who knows."
)

next_step_link("hallucinations")
