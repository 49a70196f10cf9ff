"""Softmax — from the logits of the last layer to a probability for every token."""

import math

import streamlit as st

from explain.next_token import distribution_from_logits
from explain.word_probability import WORD_TOKEN_CAP, next_word_text, spaced_by_default
from ui import drawn, state
from ui.charts import show_shared_chart
from ui.html import markdown_escape, token_spans, visible_text
from ui.i18n import _, format_number, format_percent
from ui.softmax import (
    cached_lens, cached_positions, chain_html, chain_table, describe_chart, histogram_sentence, histogram_table,
    lens_figure, lens_sentence, lens_table, logit_bars, logit_histogram, logit_sentence, measured_word, one_in,
    probability_chart, probability_sentence, probability_table, positions_table, probability_text, show_html_table,
    surprise_sentence, surprise_spans,
)
from ui.reveal import guess_before_reveal
from ui.walk import next_step_link

PAGE = "softmax"


def quoted(text: str) -> str:
    """A token or word as the page writes it: quoted, whitespace visible, Markdown-escaped."""
    return markdown_escape(repr(visible_text(text)))


def show_chart(build, key: str, title: str, inputs) -> None:
    """The chart `build()` draws, titled with the prompt and model (also in its PNG, named by page and
    chart); built once per process for these `inputs` (what it reads besides the prompt: ui.drawn)."""
    show_shared_chart(build, (lm.name, ids, inputs), key, page=PAGE, title=title, prompt=state.current_prompt_text(),
                      model_name=lm.name)


def show_word(word) -> None:
    """The chain rule for one measured word: the product with every factor, what it means, the cap, a table."""
    n = len(word.factors)
    st.html(chain_html(word))
    if n == 1:
        st.caption(_("{word} is a single token: its probability is the word's.").format(word=quoted(word.text)))
    else:
        st.caption(_(
            "{word} is {count} tokens. The model writes them one at a time, so the word's probability is the "
            "product: the first token given your prompt, then each next token given your prompt and the tokens "
            "before it. Its first token {first} alone gets {probability}; the whole word can never be more "
            "likely than that."
        ).format(word=quoted(word.text), count=n, first=quoted(word.factors[0].piece.display),
                 probability=probability_text(word.factors[0].log10_prob)))
    if word.truncated:
        st.warning(_("Your text is {count} tokens: only the first {measured} are measured here (at most {cap}, "
                     "so one run of the model stays quick).").format(
            count=word.n_tokens_before_cap, measured=n, cap=WORD_TOKEN_CAP))
    with st.expander(_("Table: every factor of the product")):
        show_html_table(chain_table(word), _("Every factor of the product"))


def show_guess_answer(guess: str) -> None:
    """The revealed game: the guess's probability and rank, and the model's own favourite."""
    answer = measured_word(lm, ids, next_word_text(guess, spaced_by_default(prompt.text, guess)), 1.0)
    favourite = distribution_from_logits(lm, logits, top_n=1)
    if answer is None:
        st.info(_("Your guess has no tokens to measure: type a word."))
        return
    how = (_("written next as a new word after a space") if answer.text.startswith(" ")
           else _("written next, glued to your prompt with no space"))
    one_in_text = f" ({one_in(answer.log10_prob)})" if answer.log10_prob < -2 else ""
    tokens_text = (_("{count} tokens, multiplied below").format(count=len(answer.factors)) if len(answer.factors) > 1
                   else _("a single token"))
    st.success(_(
        "The model gives your guess, {how}, a probability of **{probability}**{one_in} — {tokens} "
        "(temperature 1: the model's own probabilities). Rank of its **first token**: **{rank}** of {vocab}. "
        "The model's own favourite next token: **{favourite}** at {favourite_probability}. It never picks one "
        "answer: it gives every word a probability."
    ).format(how=how, probability=probability_text(answer.log10_prob), one_in=one_in_text, tokens=tokens_text,
             rank=format_number(answer.first_token_rank), vocab=format_number(answer.vocab_size),
             favourite=quoted(favourite.pieces[0].display), favourite_probability=format_percent(favourite.probs[0])))
    show_word(answer)


st.title(_("🌡️ Softmax: from scores to probabilities"))
st.markdown(_(
    "After the last layer, the model gives **every token in its vocabulary a score** — a *logit*. "
    "Scores can be any number; **softmax** turns them into probabilities that are all positive and "
    "add up to 1: each score is exponentiated, then divided by the sum. The model does not pick one "
    "answer — it outputs a whole **distribution**, and something else (the *Sampling* page) chooses."
))

lm, prompt, ids, analysis = state.page_analysis()
logits = analysis.last_logits  # (vocab,), read-only

st.caption(_("Your prompt (edit it in the Prompt box) — the model predicts the token after the last one:"))
st.html(token_spans(prompt.pieces))

guess = guess_before_reveal("softmax", ids, _("the model's probabilities"), example=_("Paris"))
if guess is not None:
    show_guess_answer(guess)

st.header(_("1 · Logits: a score for every token"))
top_n = st.slider(_("Tokens to show (top N)"), 5, 30, 15, key="softmax_top_n", bind="query-params",
                  help=_("How many of the most likely tokens the bar charts here and in section 2 show."))
st.markdown(_(
    "The model scores **all {vocab} tokens** of its vocabulary at once. Most get a low score; only a handful "
    "stand out. The bars: the top {count} with their raw scores. The histogram: how all {vocab} scores are "
    "spread (log scale), with the top {count} in orange, right of the dashed line."
).format(vocab=format_number(logits.size), count=top_n))
raw = drawn.shared(("softmax_dist", lm.name, ids, 1.0, top_n), lambda: distribution_from_logits(lm, logits, 1.0, top_n))
left, right = st.columns(2)
with left:
    show_chart(lambda: logit_bars(raw), "logits", _("The top {count} logits").format(count=top_n), top_n)
    describe_chart(logit_sentence(raw), probability_table(raw))
with right:
    show_chart(lambda: logit_histogram(logits, top_n), "histogram",
               _("All {vocab} logits").format(vocab=format_number(logits.size)), top_n)
    describe_chart(*drawn.shared(("softmax_histogram_text", lm.name, ids, top_n),
                                 lambda: (histogram_sentence(logits, top_n), histogram_table(logits))))

st.header(_("2 · Softmax, with a temperature"))
st.latex(r"p_i = \frac{e^{z_i / T}}{\sum_j e^{z_j / T}}")
st.markdown(_(
    "**Temperature T** divides the scores first. **T < 1** stretches the gaps, so the favourite takes "
    "even more (more predictable text); **T > 1** shrinks them, so unlikely tokens gain (more "
    "surprising text). The order of the tokens never changes. **Entropy** measures the spread in "
    "bits: 0 means one certain token; log₂({vocab}) ≈ {bits} bits would be all {vocab} tokens equally likely."
).format(vocab=format_number(len(logits)), bits=format_number(math.log2(len(logits)), 1)))
controls, chart = st.columns([1, 2])  # the slider beside the chart it drives (stacked just above it on a phone)
with controls:
    temperature = st.slider(
        _("Temperature"), 0.05, 3.0, 1.0, 0.05, key="softmax_temperature", bind="query-params",
        help=_("Divides every logit before softmax: below 1 sharpens, above 1 flattens. "
               "Section 3 uses the same temperature."),
    )
    dist = drawn.shared(("softmax_dist", lm.name, ids, temperature, top_n),
                        lambda: distribution_from_logits(lm, logits, temperature=temperature, top_n=top_n))
    with st.container(horizontal=True):
        st.metric(_("Entropy"), _("{bits} bits").format(bits=format_number(dist.entropy_bits, 2)))
        st.metric(_("Top {count} together").format(count=top_n), format_percent(dist.top_n_mass))
        st.metric(_("Top token {token}").format(token=repr(visible_text(dist.pieces[0].display))),
                  format_percent(dist.probs[0]))
with chart:
    show_chart(lambda: probability_chart(dist), "probs",
               _("Probabilities at temperature {temperature}").format(temperature=format_number(temperature, 2)),
               (temperature, top_n))
    describe_chart(probability_sentence(dist), probability_table(dist))

st.header(_("3 · Type a word"))
st.markdown(_(
    "How likely is a word *you* choose? The model only ever scores the **next token**, and a word is "
    "often several tokens. Its probability is then a **product** (the chain rule): the first token "
    "given your prompt, × the second given your prompt and the first, × … — all from one run of the "
    "model over your prompt followed by the word."
))
left, right = st.columns([3, 1])
word_text = left.text_input(_("A word or phrase to look up"), "London", max_chars=60, key="softmax_word",
                            bind="query-params")
after_space = right.checkbox(
    _("after a space"), value=True, key="softmax_space", bind="query-params",
    help=_("' London' (a new word after a space) and 'London' (glued to the previous text) are different tokens."),
)
measured = next_word_text(word_text, after_space)
found = (drawn.shared(("softmax_word", lm.name, ids, measured, temperature),
                     lambda: measured_word(lm, ids, measured, temperature)) if measured else None)
if found is None:
    st.info(_("Type a word above to see its probability, token by token."))
else:
    with st.container(horizontal=True, gap="medium"):
        st.metric(_("Whole-word probability"), probability_text(found.log10_prob), width="content",
                  help=_("The product of the conditional probabilities of all its tokens (the chain rule)."))
        st.metric(_("Rank of its first token"),
                  _("{rank} of {vocab}").format(rank=format_number(found.first_token_rank),
                                                vocab=format_number(found.vocab_size)), width="content",
                  help=_("Only the first token competes with all next tokens; a rank for the whole word is not defined."))
        st.metric(_("Tokens in the word"), len(found.factors), width="content")
    if temperature == 1.0:
        st.caption(_("Measured: the tokens of {word} right after your prompt's last token, at temperature 1 "
                     "(the model's own probabilities).").format(word=quoted(found.text)))
    else:
        st.caption(_("Measured: the tokens of {word} right after your prompt's last token, at temperature "
                     "{temperature} (the slider in section 2): each factor is softmax(logits / {temperature}), so the "
                     "product is the chance that sampling at this temperature writes exactly these tokens next.").format(
            word=quoted(found.text), temperature=format_number(temperature, 2)))
    if after_space and not spaced_by_default(prompt.text, word_text):
        st.caption(_("Your prompt ends with whitespace, or the text is Chinese/Japanese (written without spaces): "
                     "untick 'after a space' to measure the word with no space before it."))
    show_word(found)

st.header(_("4 · What the model thinks at each layer"))
lens = cached_lens(lm, ids)
st.markdown(_(
    "The *logit lens*: apply the model's final norm and output head to the hidden state after **every layer**, "
    "as if the model stopped there: where does the final prediction **{token}** form? Blue line with dots: its "
    "probability at each layer; orange diamonds: each layer's own top guess, labelled where it changes (its top 3 "
    "are in the table below the chart). At the last layer this is exactly the model's output."
).format(token=quoted(lens.final_token.display)))
show_chart(lambda: lens_figure(lens), "lens", _("The logit lens: the prediction after each layer"), ())
describe_chart(lens_sentence(lens), lens_table(lens))

st.header(_("5 · How surprised was the model by each word?"))
if len(ids) < 2:
    st.info(_("Your prompt is a single token: write a few more words to see the model's guess at each position."))
else:
    preds = cached_positions(lm, ids)
    st.markdown(_(
        "The same single run predicts the next token **at every position** of your prompt. Each token "
        "below is coloured by the probability the model gave it just before seeing it (green: expected, "
        "red: a surprise; the number under it says the same). **Perplexity** sums this up: roughly, how many "
        "tokens the model was hesitating between on average (1 = never surprised)."
    ))
    right_guesses = sum(r == 1 for r in preds.actual_ranks)
    cols = st.columns(2)
    cols[0].metric(_("Perplexity of your prompt"), format_number(preds.perplexity, 1))
    cols[1].metric(_("Tokens it guessed right (top 1)"),
                   _("{right} of {count}").format(right=right_guesses, count=len(preds.actual)))
    st.html(surprise_spans(prompt.pieces[0], preds))
    st.caption(surprise_sentence(preds))
    with st.expander(_("Table: the model's guess at every position")):
        show_html_table(positions_table(preds), _("The model's guess at every position"))

next_step_link("softmax")
