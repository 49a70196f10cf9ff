"""RNN vs Transformer — two small models, same words, same size, predicting side by side."""

import streamlit as st

from explain.next_token import distribution_from_logits
from explain.small_models import compare
from explain.small_models.compare import prompt_words
from explain.small_models.vocab import join_words
from ui import rnn_vs_transformer as ui
from ui import state
from ui.html import visible_text
from ui.presenter import show_chart
from ui.reveal import guess_before_reveal

st.title("🔁 RNN vs Transformer")
st.markdown(
    "Before transformers, language models were **n-gram** tables and then **recurrent networks** "
    "(RNN, LSTM, GRU). A recurrent network reads **one word at a time** and carries a fixed-size "
    "**hidden state** — its memory — from word to word: *I* → *love* → *RNNs*. That has two limits: "
    "it is **sequential** (step 5 needs step 4, so training can't run all positions in parallel on "
    "a GPU), and its **memory fades** over long distances. In 2017, *Attention Is All You Need* "
    "replaced the chain: a **transformer** reads all words **in parallel** and each word can "
    "**attend directly** to any earlier word."
)

models = ui.models_or_stop()
m = models.metrics
counts, corpus, cfg = m["parameters"], m["corpus"], m["train_config"]
st.markdown(
    f"Below are **two small models trained here, on the same text, with the same budget**: a "
    f"word-level **LSTM** ({counts['lstm']:,} parameters) and a word-level **transformer** "
    f"({counts['gpt']:,} parameters, {counts['lstm'] / counts['gpt'] - 1:+.1%} apart). Both read "
    f"the same vocabulary of **{corpus['vocab_size']:,} words**; both trained for "
    f"{cfg['steps']:,} steps × {cfg['batch_size']} windows × {cfg['block_size']} words with AdamW "
    f"and one seed. Their training text: **{corpus['train_words']:,} words** of simple stories "
    "written by the live SmolLM2 model (TinyStories-style). They are tiny, so expect child-like "
    "English — and compare them with each other, not with the big model."
)
if corpus["train_words"] < 100_000:
    st.caption(
        f"⚠️ Honest note: this training text is small ({corpus['train_words']:,} words; the "
        "goal is 500,000 — generating it on this shared CPU ran far slower than planned). Both "
        "models therefore know few words and over-fit; the comparison is still fair, because "
        "both saw exactly the same words. Re-running the corpus script continues where it stopped."
    )

st.selectbox("Try an example for this page", list(ui.PRESETS), index=None, key="rvt_preset",
             placeholder="Pick an example sentence…", on_change=ui.apply_preset)
text = state.current_prompt_text()
words = prompt_words(models.vocab, text)
if not words.words:
    st.info("✍️ Type a prompt in the sidebar (or pick an example above): the small models need "
            "at least one word to predict the next one.")
    st.stop()
ids = tuple(words.ids)
n_unknown = words.known.count(False)
st.caption("Your prompt as both small models read it (words, lower case; ⟨start⟩ marks the "
           "beginning of a story):")
st.html(ui.word_chips(words.words, words.known))
if words.dropped:
    st.warning(f"Your prompt has {words.dropped + len(words.words):,} words; the small models "
               f"read only the last {len(words.words)} (the transformer's context is "
               f"{cfg['block_size']} words, start marker included).")
if n_unknown == len(words.words):
    st.warning("None of these words is in the small models' vocabulary (they learned only "
               "simple story words in English), so both read only ⟨unk⟩ ⟨unk⟩ … — the "
               "predictions below are guesses from nothing. Try an example above.")
elif n_unknown:
    st.caption(f"{n_unknown} word(s) crossed out are not in the vocabulary: both models read "
               "them as the same unknown-word token ⟨unk⟩.")

lstm_next, gpt_next = ui.cached_next_words("lstm", ids), ui.cached_next_words("gpt", ids)

guess = guess_before_reveal("rvt", ids, "the models' predictions", max_chars=40, example="happy")
if guess is not None:
    for name, predicted in (("LSTM", lstm_next), ("Transformer", gpt_next)):
        score = compare.guess_score(models.vocab, predicted, guess)
        unknown = "" if score.in_vocab else " (not in its vocabulary, so it can only say ⟨unk⟩)"
        st.success(
            f"**{name}** gave **'{visible_text(score.word)}'**{unknown} a probability of "
            f"**{score.prob:.2%}** — rank **{score.rank:,}** of {len(predicted.all_probs):,}. "
            f"Its favourite: **'{visible_text(predicted.words[0])}'** at {predicted.probs[0]:.1%}."
        )

# 1 -------------------------------------------------------------------------------------------
st.header("1 · Side by side: the next word")
st.markdown("Each model's **10 most likely next words** with their probabilities "
            "(a softmax over all words of the shared vocabulary).")
show_chart(ui.mirrored_bars(lstm_next, gpt_next), key="rvt_bars")

lm = state.current_model()
prompt = state.current_prompt_tokens(lm)
big = distribution_from_logits(lm, state.cached_analysis(lm.name, tuple(prompt.ids)).last_logits,
                               top_n=1)
cols = st.columns(3)
cols[0].metric("LSTM's top word", f"{lstm_next.words[0]} · {lstm_next.probs[0]:.0%}")
cols[1].metric("Transformer's top word", f"{gpt_next.words[0]} · {gpt_next.probs[0]:.0%}")
cols[2].metric("The live SmolLM2's next token", f"'{visible_text(big.pieces[0].display)}' · "
               f"{big.probs[0]:.0%}",
               help=f"For reference: {lm.name}, the model of the other pages (far bigger, trained "
                    "on far more text, reading sub-word tokens), on the same prompt.")

left, right = st.columns([2, 1])
mode = left.radio("Continue the text", ["greedy (always the top word)", "sampled (shared seed)"],
                  horizontal=True, key="rvt_mode")
seed = right.number_input("Seed", 0, 9999, 7, key="rvt_seed",
                          disabled=mode.startswith("greedy"))
seed_used = None if mode.startswith("greedy") else int(seed)
for kind, colour in (("lstm", ui.LSTM_COLOUR), ("gpt", ui.GPT_COLOUR)):
    cont = ui.cached_continuation(kind, ids, seed_used)
    st.markdown(f"**{ui.NAMES[kind]}** writes 15 more words:")
    st.html(ui.continuation_html(words.words, cont, colour))

# 2 -------------------------------------------------------------------------------------------
st.header("2 · How each one reads")
left, right = st.columns(2)
with left:
    st.subheader("The LSTM: a chain, one word per step")
    trace = ui.cached_rnn_trace(ids)
    st.markdown(
        f"After each word the LSTM updates its memory: a vector of **{trace.hidden.shape[1]} "
        "numbers** (plus an inner cell state), the *only* thing passed to the next step. Bottom: "
        "some of those numbers after each word (red +, blue −); top: how much the memory changed. "
        "Everything it knows about the start of your sentence must survive in this vector."
    )
    show_chart(ui.hidden_strip(words.words, trace), key="rvt_hidden")
with right:
    st.subheader("The transformer: one parallel pass")
    attention = ui.cached_attention(ids)
    st.markdown(
        f"All {len(ids)} positions are processed at once. To predict the next word, the last word "
        "**looks directly at every earlier word**: each row shows how much attention it pays "
        f"to each one in each of the {attention.shape[0]} layers (averaged over its "
        f"{attention.shape[1]} heads; each row adds up to 100 %)."
    )
    show_chart(ui.attention_from_last(words.words, attention), key="rvt_attention")

# 3 -------------------------------------------------------------------------------------------
st.header("3 · What each one still remembers")
lstm_occ, gpt_occ = ui.cached_occlusion("lstm", ids), ui.cached_occlusion("gpt", ids)
st.markdown(
    "Remove **one word at a time** and measure how much each model's favourite next word loses "
    "(change in log-probability, in nats; red = the word helped the prediction, blue = it held "
    "it back). Words far back that still matter show a model that *reaches* them; a memory that "
    "fades shows only the last few words lit up."
)
if len(words.words) < 2:
    st.info("Write at least two words to compare how much each earlier word matters.")
show_chart(ui.occlusion_heatmap(words.words, lstm_occ, gpt_occ), key="rvt_occlusion")

# 4 -------------------------------------------------------------------------------------------
st.header("4 · The measured lesson")
h = m["heldout"]
st.markdown(
    f"Measured by the training script on **{corpus['heldout_words']:,} held-out words** "
    f"({corpus['heldout_stories']} stories neither model trained on). Left: the loss (lower is "
    "better) when the model is given only the last 1, 2, 4 … 64 words. Right: the training "
    f"curves. Over all positions: LSTM {h['lstm']['heldout_loss']:.2f} nats/word "
    f"(perplexity {h['lstm']['heldout_perplexity']:.0f}, {h['lstm']['heldout_accuracy']:.0%} top-1), "
    f"transformer {h['gpt']['heldout_loss']:.2f} (perplexity "
    f"{h['gpt']['heldout_perplexity']:.0f}, {h['gpt']['heldout_accuracy']:.0%} top-1)."
)
left, right = st.columns(2)
with left:
    show_chart(ui.context_curve_chart(m), key="rvt_context")
with right:
    show_chart(ui.training_curves_chart(m), key="rvt_training")
st.markdown(
    "**A targeted probe: remembering a name.** In the held-out stories, every place where a "
    "character's name comes back that was last mentioned *d* words earlier: what probability "
    "does each model give exactly that name? The further back, the more the answer depends on "
    "memory (hover for how often it was the top guess)."
)
show_chart(ui.distance_probe_chart(m), key="rvt_probe")
n_probe = sum(h["gpt"]["distance_probe"]["n"])
if n_probe < 200:
    st.caption(f"Only {n_probe} such names occur in the small held-out text, so this probe is "
               "too small to read much into yet; it grows with the corpus.")

# 5 -------------------------------------------------------------------------------------------
st.header("5 · Sequential vs parallel")
times = ui.cached_reading_times()
st.markdown(
    "Wall time to read sequences of growing length, **measured live on this server** (CPU): the "
    "LSTM must take one step per word, the transformer processes all words in one pass. "
    f"At {times.lengths[-1]} words: LSTM {times.rnn_ms[-1]:.1f} ms, transformer "
    f"{times.gpt_ms[-1]:.1f} ms. On a GPU, with thousands of cores, the gap is far larger — "
    "that parallelism is why transformers could be trained on so much more text."
)
show_chart(ui.reading_times_chart(times), key="rvt_times")
with st.expander("How these two models were made"):
    st.markdown(
        "- **Training text**: `python -m explain.small_models.corpus` prompted SmolLM2 (chat "
        "template, sampled) for short simple stories with varied characters, places, objects "
        f"and feelings; cleaned and de-duplicated: {corpus['stories']:,} stories.\n"
        "- **LSTM, not GRU**: the LSTM is the classic word-level language-model baseline; its "
        "gated cell state is the best-known fix for a plain RNN's vanishing memory, so the "
        "recurrent side gets its fairest chance.\n"
        "- **Same for both**: vocabulary, training windows in the same order, AdamW with the same "
        "learning-rate schedule and clipping, steps × batch × context, tied input/output "
        "embeddings, dropout. Each keeps its own customary initialisation (nanoGPT's for the "
        "transformer, PyTorch's word-language-model example for the LSTM). "
        "`python -m explain.small_models train` rebuilds everything."
    )
