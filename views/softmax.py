"""Softmax — from the logits of the last layer to a probability for every token."""

import streamlit as st

from explain.next_token import distribution_from_logits
from explain.word_probability import WORD_TOKEN_CAP, next_word_text, spaced_by_default
from ui import state
from ui.html import markdown_escape, token_spans, visible_text
from ui.softmax import (
    cached_lens, cached_positions, chain_html, chain_table, lens_figure, logit_bars, logit_histogram,
    measured_word, one_in, probability_chart, probability_text, surprise_spans,
)
from ui.presenter import show_chart
from ui.reveal import guess_before_reveal
from ui.walk import next_step_link


def show_word(word) -> None:
    """The chain rule for one measured word: the product with every factor, what it means, the cap, a table."""
    n = len(word.factors)
    st.html(chain_html(word))
    first = markdown_escape(repr(visible_text(word.factors[0].piece.display)))
    if n == 1:
        st.caption(f"{markdown_escape(repr(visible_text(word.text)))} is a single token: its probability is the word's.")
    else:
        st.caption(
            f"{markdown_escape(repr(visible_text(word.text)))} is {n} tokens. The model writes them one at a time, so "
            f"the word's probability is the product: the first token given your prompt, then each next token "
            f"given your prompt and the tokens before it. Its first token {first} alone gets "
            f"{probability_text(word.factors[0].log10_prob)}; the whole word can never be more likely than that."
        )
    if word.truncated:
        st.warning(f"Your text is {word.n_tokens_before_cap} tokens: only the first {n} are measured here "
                   f"(at most {WORD_TOKEN_CAP}, so one run of the model stays quick).")
    with st.expander("Table: every factor of the product"):
        st.dataframe(chain_table(word), hide_index=True)


st.title("🌡️ Softmax: from scores to probabilities")
st.markdown(
    "After the last layer, the model gives **every token in its vocabulary a score** — a *logit*. "
    "Scores can be any number; **softmax** turns them into probabilities that are all positive and "
    "add up to 1: each score is exponentiated, then divided by the sum. The model does not pick one "
    "answer — it outputs a whole **distribution**, and something else (the *Sampling* page) chooses."
)

lm, prompt, ids = state.page_prompt()
logits = state.cached_analysis(lm.name, ids).last_logits  # (vocab,), read-only

st.caption("Your prompt (edit it in the sidebar) — the model predicts the token after the last one:")
st.html(token_spans(prompt.pieces))

guess = guess_before_reveal("softmax", ids, "the model's probabilities")
if guess is not None:
    answer = measured_word(lm, ids, next_word_text(guess, spaced_by_default(prompt.text, guess)), 1.0)
    favourite = distribution_from_logits(lm, logits, top_n=1)
    spaced = "as a new word after a space" if answer.text.startswith(" ") else "glued to your prompt, with no space"
    st.success(
        f"The model gives your guess, written next {spaced}, a probability of "
        f"**{probability_text(answer.log10_prob)}**"
        + (f" ({one_in(answer.log10_prob)})" if answer.log10_prob < -2 else "")
        + (f" — {len(answer.factors)} tokens, multiplied below" if len(answer.factors) > 1 else " — a single token")
        + " (temperature 1: the model's own probabilities). Rank of its **first token**: "
        f"**{answer.first_token_rank:,}** of {answer.vocab_size:,}. The model's own favourite next token: "
        f"**{markdown_escape(repr(visible_text(favourite.pieces[0].display)))}** at {favourite.probs[0]:.1%}. "
        "It never picks one answer: it gives every word a probability."
    )
    show_word(answer)

st.header("1 · Logits: a score for every token")
top_n = st.slider("Tokens to show (top N)", 5, 30, 15, key="softmax_top_n", bind="query-params",
                  help="How many of the most likely tokens the bar charts here and in section 2 show.")
st.markdown(
    f"The model scores **all {logits.size:,} tokens** of its vocabulary at once. Most get a low "
    f"score; only a handful stand out. The bars: the top {top_n} with their raw scores. The histogram: "
    f"how all {logits.size:,} scores are spread (log scale), with the top {top_n} in orange."
)
left, right = st.columns(2)
with left:
    show_chart(logit_bars(distribution_from_logits(lm, logits, 1.0, top_n)), key="logits")
with right:
    show_chart(logit_histogram(logits, top_n), key="histogram")

st.header("2 · Softmax, with a temperature")
st.latex(r"p_i = \frac{e^{z_i / T}}{\sum_j e^{z_j / T}}")
st.markdown(
    "**Temperature T** divides the scores first. **T < 1** stretches the gaps, so the favourite takes "
    "even more (more predictable text); **T > 1** shrinks them, so unlikely tokens gain (more "
    "surprising text). The order of the tokens never changes. **Entropy** measures the spread in "
    "bits: 0 means one certain token; log₂(vocabulary) ≈ 15.6 bits would be all tokens equally likely."
)
controls, chart = st.columns([1, 2])
with controls:
    temperature = st.slider(
        "Temperature", 0.05, 3.0, 1.0, 0.05, key="softmax_temperature", bind="query-params",
        help="Divides every logit before softmax: below 1 sharpens, above 1 flattens. "
             "Section 3 uses the same temperature.",
    )
    dist = distribution_from_logits(lm, logits, temperature=temperature, top_n=top_n)
    with st.container(horizontal=True):
        st.metric("Entropy", f"{dist.entropy_bits:.2f} bits")
        st.metric(f"Top {top_n} together", f"{dist.top_n_mass:.1%}")
        st.metric(f"Top token '{visible_text(dist.pieces[0].display)}'", f"{dist.probs[0]:.1%}")
with chart:
    show_chart(probability_chart(dist), key="probs")

st.header("3 · Type a word")
st.markdown(
    "How likely is a word *you* choose? The model only ever scores the **next token**, and a word is "
    "often several tokens. Its probability is then a **product** (the chain rule): the first token "
    "given your prompt, × the second given your prompt and the first, × … — all from one run of the "
    "model over your prompt followed by the word."
)
left, right = st.columns([3, 1])
word_text = left.text_input("A word or phrase to look up", "London", max_chars=60, key="softmax_word")
after_space = right.checkbox(
    "after a space", value=True, key="softmax_space",
    help="' London' (a new word after a space) and 'London' (glued to the previous text) are different tokens.",
)
measured = next_word_text(word_text, after_space)
found = measured_word(lm, ids, measured, temperature) if measured else None
if found is None:
    st.info("Type a word above to see its probability, token by token.")
else:
    with st.container(horizontal=True, gap="medium"):
        st.metric("Whole-word probability", probability_text(found.log10_prob), width="content",
                  help="The product of the conditional probabilities of all its tokens (the chain rule).")
        st.metric("Rank of its first token", f"{found.first_token_rank:,} of {found.vocab_size:,}", width="content",
                  help="Only the first token competes with all next tokens; a rank for the whole word is not defined.")
        st.metric("Tokens in the word", len(found.factors), width="content")
    at_t = ("temperature 1 (the model's own probabilities)" if temperature == 1.0 else
            f"temperature {temperature:.2f} (the slider in section 2): each factor is softmax(logits / {temperature:.2f}), "
            "so the product is the chance that sampling at this temperature writes exactly these tokens next")
    st.caption(
        f"Measured: the tokens of {markdown_escape(repr(visible_text(found.text)))} right after your prompt's last token, "
        f"at {at_t}." + (" Your prompt ends with whitespace, or the text is Chinese/Japanese (written without "
                         "spaces): untick 'after a space' to measure the word with no space before it."
                         if after_space and not spaced_by_default(prompt.text, word_text) else "")
    )
    show_word(found)

st.header("4 · What the model thinks at each layer")
lens = cached_lens(lm.name, ids)
st.markdown(
    "The *logit lens*: apply the model's final norm and output head to the hidden state after "
    f"**every layer**, as if the model stopped there: where does the final prediction "
    f"'**{visible_text(lens.final_token.display)}**' form? Blue: its probability "
    "at each layer; orange: each layer's own top guess (its top 3 are in the table below the chart). At the last layer this "
    "is exactly the model's output."
)
show_chart(lens_figure(lens), key="lens")
with st.expander("Every layer's top 3 guesses"):
    st.dataframe(
        {
            "layer": lens.layers,
            **{
                f"guess {k + 1}": [f"'{visible_text(p[k].display)}' {q[k]:.1%}" for p, q in zip(lens.top_pieces, lens.top_probs)]
                for k in range(3)
            },
        },
        hide_index=True, key="lens_table",
    )

st.header("5 · How surprised was the model by each word?")
if len(ids) < 2:
    st.info("Your prompt is a single token: write a few more words to see the model's guess at each position.")
else:
    preds = cached_positions(lm.name, ids)
    st.markdown(
        "The same single run predicts the next token **at every position** of your prompt. Each token "
        "below is coloured by the probability the model gave it just before seeing it (green: expected, "
        "red: a surprise). **Perplexity** sums this up: roughly, how many tokens the model was "
        "hesitating between on average (1 = never surprised)."
    )
    cols = st.columns(2)
    cols[0].metric("Perplexity of your prompt", f"{preds.perplexity:,.1f}")
    cols[1].metric("Tokens it guessed right (top 1)", f"{sum(r == 1 for r in preds.actual_ranks)} of {len(preds.actual)}")
    st.html(surprise_spans(prompt.pieces[0].display, preds))
    with st.expander("Table: the model's guess at every position"):
        st.dataframe(
            {
                "position": [p.index for p in preds.actual],
                "actual next token": [repr(p.display) for p in preds.actual],
                "its probability": [f"{q:.2%}" for q in preds.actual_probs],
                "its rank": preds.actual_ranks,
                "model's top guess": [repr(p.display) for p in preds.guesses],
                "guess probability": [f"{q:.2%}" for q in preds.guess_probs],
                "surprise (bits)": [round(b, 2) for b in preds.surprisal_bits],
            },
            hide_index=True, key="positions_table",
        )

next_step_link("softmax")
