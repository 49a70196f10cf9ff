"""Softmax — from the logits of the last layer to a probability for every token."""

import streamlit as st

from explain.next_token import distribution_from_logits, typed_token
from ui import state
from ui.figures import probability_bars
from ui.html import token_spans, visible_text
from ui.softmax import cached_lens, cached_positions, lens_figure, logit_bars, logit_histogram, surprise_spans
from ui.presenter import show_chart
from ui.reveal import guess_before_reveal

st.title("🌡️ Softmax: from scores to probabilities")
st.markdown(
    "After the last layer, the model gives **every token in its vocabulary a score** — a *logit*. "
    "Scores can be any number; **softmax** turns them into probabilities that are all positive and "
    "add up to 1: each score is exponentiated, then divided by the sum. The model does not pick one "
    "answer — it outputs a whole **distribution**, and something else (the *Sampling* page) chooses."
)

lm = state.current_model()
prompt = state.current_prompt_tokens(lm)
ids = tuple(prompt.ids)
logits = state.cached_analysis(lm.name, ids).last_logits  # (vocab,), read-only

st.caption("Your prompt (edit it in the sidebar) — the model predicts the token after the last one:")
st.html(token_spans(prompt.pieces))

guess = guess_before_reveal("softmax", ids, "the model's probabilities")
if guess is not None:
    answer = typed_token(lm, logits, " " + guess)
    favourite = distribution_from_logits(lm, logits, top_n=1)
    st.success(
        f"The model gave your guess **'{visible_text(guess)}'** a probability of "
        f"**{answer.prob:.2%}** — rank **{answer.rank:,}** of {answer.vocab_size:,} "
        f"(its first token, after a space). The model's own favourite: "
        f"**'{visible_text(favourite.pieces[0].display)}'** at {favourite.probs[0]:.1%}. "
        "It never picks one answer: it gives every word a probability."
    )

left, right = st.columns(2)
temperature = left.slider(
    "Temperature", 0.05, 3.0, 1.0, 0.05, key="softmax_temperature", bind="query-params",
    help="Divides every logit before softmax: below 1 sharpens, above 1 flattens.",
)
top_n = right.slider("Tokens to show (top N)", 5, 30, 15, key="softmax_top_n", bind="query-params")
dist = distribution_from_logits(lm, logits, temperature=temperature, top_n=top_n)

st.header("1 · Logits: a score for every token")
st.markdown(
    f"The model scores **all {dist.vocab_size:,} tokens** of its vocabulary at once. Most get a low "
    f"score; only a handful stand out. Left: the top {top_n} with their raw scores. Right: how all "
    f"{dist.vocab_size:,} scores are spread (log scale), with the top {top_n} in orange."
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
cols = st.columns(3)
cols[0].metric("Entropy", f"{dist.entropy_bits:.2f} bits")
cols[1].metric(f"Top {top_n} together", f"{dist.top_n_mass:.1%}")
cols[2].metric(f"Top token '{visible_text(dist.pieces[0].display)}'", f"{dist.probs[0]:.1%}")
show_chart(probability_bars(dist), key="probs")

st.header("3 · Type a token")
st.markdown(
    "How likely is a word *you* choose? A word of several tokens is written one token at a time, so "
    "what counts now is its **first token**. Most words after a space start with one (shown as ·)."
)
left, right = st.columns([3, 1])
word = left.text_input("A word to look up", "London", max_chars=60, key="softmax_word")
if right.checkbox("after a space", value=True, key="softmax_space",
                  help="' London' (after a space) and 'London' (glued to the previous text) are different tokens."):
    word = " " + word.lstrip(" ")
found = typed_token(lm, logits, word, temperature) if word.strip() else None
if found is None:
    st.info("Type a word above to see its probability and rank.")
else:
    st.html(token_spans(found.pieces))
    cols = st.columns(3)
    cols[0].metric("Probability of its first token", f"{found.prob:.4%}" if found.prob < 0.001 else f"{found.prob:.2%}")
    cols[1].metric("Rank", f"{found.rank:,} of {found.vocab_size:,}")
    cols[2].metric("Tokens in the word", len(found.pieces))

st.header("4 · What the model thinks at each layer")
lens = cached_lens(lm.name, ids)
st.markdown(
    "The *logit lens*: apply the model's final norm and output head to the hidden state after "
    f"**every layer**, as if the model stopped there: where does the final prediction "
    f"'**{visible_text(lens.final_token.display)}**' form? Blue: its probability "
    "at each layer; orange: each layer's own top guess (hover for its top 3). At the last layer this "
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
