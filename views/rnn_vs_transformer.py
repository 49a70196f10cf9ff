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
from ui.walk import next_step_link

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
    f"and one seed. Their training text: **{corpus['train_stories']:,} simple stories**, "
    f"{corpus['train_words'] - corpus['train_stories']:,} words and punctuation marks, written "
    "by the live SmolLM2 model (TinyStories-style). They are tiny, so expect child-like "
    "English — and compare them with each other, not with the big model."
)

st.selectbox("Try an example for this page", list(ui.PRESETS), index=None, key="rvt_preset",
             placeholder="Pick an example sentence…", on_change=ui.apply_preset,
             help="Every word of these examples is in the small models' vocabulary.")
text = state.current_prompt_text()
words = prompt_words(models.vocab, text)
if not words.words:
    st.info("✍️ Type a prompt in the sidebar (or pick an example above): the small models need "
            "at least one word to predict the next one.")
    st.stop()
ids = tuple(words.ids)
n_unknown = words.known.count(False)
read_as = [w if ok else "⟨unk⟩" for w, ok in zip(words.words, words.known)]
unknown_list = ", ".join(f"'{visible_text(w)}'" for w in dict.fromkeys(
    w for w, ok in zip(words.words, words.known) if not ok))
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
    st.caption(f"{n_unknown} of your {len(words.words)} words are not in the vocabulary "
               f"({unknown_list}): both models read each of them as the same unknown-word token "
               "⟨unk⟩. The examples above use only words both models know.")

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
if n_unknown:
    st.caption(f"⚠️ These predictions follow what the models actually read: "
               f"“{' '.join(visible_text(w) for w in read_as)}” — {unknown_list} became ⟨unk⟩. Pick an "
               "example above for a prompt made only of words they know.")

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
    st.html(ui.continuation_html(read_as, cont, colour))

# 2 -------------------------------------------------------------------------------------------
st.header("2 · How each one reads")
left, right = st.columns(2)
with left:
    st.subheader("The LSTM: a chain, one word per step")
    trace = ui.cached_rnn_trace(ids)
    mem = compare.memory(models)
    st.markdown(
        f"After each word the LSTM updates its memory: in each of its **{mem.lstm_layers} "
        f"layers** a hidden state *h* and a cell state *c* of {mem.lstm_hidden} numbers each — "
        f"**{mem.lstm_state} numbers** in all, the *only* thing passed to the next step, however "
        "long the text. Bottom: the top layer's *h* after each word (red +, blue −); top: how "
        "much it changed. Everything the LSTM knows about the start of your sentence must "
        f"survive in those {mem.lstm_state} numbers."
    )
    show_chart(ui.hidden_strip(words.words, trace), key="rvt_hidden")
with right:
    st.subheader("The transformer: one parallel pass")
    attention = ui.cached_attention(ids)
    st.markdown(
        f"All {len(ids)} positions are processed at once. To predict the next word, the last word "
        "**looks directly at every earlier word**: each row shows how much attention it pays "
        f"to each one in each of the {attention.shape[0]} layers (averaged over its "
        f"{attention.shape[1]} heads; each row adds up to 100 %). Nothing is squeezed into a "
        f"fixed memory: it keeps a key and a value per layer for every word read, "
        f"{mem.gpt_per_word} numbers per word — {mem.gpt_per_word * len(ids):,} for these "
        f"{len(ids)} positions, up to its limit of {cfg['block_size']}."
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
h, cov = m["heldout"], m["heldout"]["coverage"]
st.markdown(
    f"Measured offline (`python -m tools.small_models evaluate`) on **all {cov['stories']} "
    f"held-out stories**, which neither model trained on: {cov['words']:,} words and punctuation "
    f"marks plus {cov['story_ends']} end-of-story markers, so **{cov['targets']:,} predictions "
    f"per model**, each word predicted once from the **{cov['context']} words before it** (the "
    "transformer's whole context; near the start of a story they include the end of the one "
    f"before). {cov['unknown']:,} of those words are rare ones both read as ⟨unk⟩. "
    f"LSTM **{h['lstm']['heldout_loss']:.3f}** nats/word (perplexity "
    f"{h['lstm']['heldout_perplexity']:.1f}, top-1 right {h['lstm']['heldout_accuracy']:.1%}); "
    f"transformer **{h['gpt']['heldout_loss']:.3f}** (perplexity "
    f"{h['gpt']['heldout_perplexity']:.1f}, top-1 right {h['gpt']['heldout_accuracy']:.1%}). "
    "Lower loss is better."
)
left, right = st.columns(2)
with left:
    curve = {k: h[k]["context_curve"] for k in ("lstm", "gpt")}
    st.markdown(
        f"**Loss vs context.** The same {cov['targets']:,} predictions, each model given only "
        f"the last k words (both start fresh every time). With 1 word: LSTM "
        f"{curve['lstm']['loss'][0]:.2f}, transformer {curve['gpt']['loss'][0]:.2f}; with "
        f"{curve['gpt']['context'][-1]}: LSTM {curve['lstm']['loss'][-1]:.2f}, transformer "
        f"{curve['gpt']['loss'][-1]:.2f}."
    )
    show_chart(ui.context_curve_chart(m), key="rvt_context")
    with st.expander("Show as table"):
        st.dataframe(ui.context_curve_rows(m), hide_index=True)
with right:
    sample = corpus["curve_sample"]
    st.markdown(
        f"**Training.** Lines: training loss (mean of 20 steps). Diamonds: held-out loss every "
        f"{cfg['eval_every']} steps on a quick sample only — {sample['windows']} windows from "
        f"the first {sample['first_ids']:,} words (and story markers) of the held-out text; "
        "the numbers above are on all of it."
    )
    show_chart(ui.training_curves_chart(m), key="rvt_training")

st.markdown("**A targeted probe: remembering a word from earlier in the story.**")
group = st.radio("Repeated word", list(ui.PROBE_LABELS), horizontal=True, key="rvt_probe_group",
                 format_func=lambda g: f"{ui.PROBE_LABELS[g]} "
                                       f"({sum(h['gpt']['distance_probe'][g]['n']):,})")
probe = {k: h[k]["distance_probe"][group] for k in ("lstm", "gpt")}
beyond = cov["probe_repeats_beyond_context"][group]
st.markdown(
    f"Among the same predictions, all **{sum(probe['gpt']['n']):,} times** one of the story "
    f"prompts' {ui.PROBE_LABELS[group]} comes back after being mentioned *d* words earlier in "
    f"the same story, with d ≤ {cov['context']} (so the earlier mention is inside both models' "
    f"context; {beyond:,} more were further back and are left out). What "
    "probability does each model give exactly that word? The further back, the more the answer "
    f"depends on memory. Top-1 right at {probe['gpt']['bucket'][0]} words back: transformer "
    f"{ui.percent(probe['gpt']['accuracy'][0])}, LSTM {ui.percent(probe['lstm']['accuracy'][0])}; "
    f"at {probe['gpt']['bucket'][-1]}: transformer {ui.percent(probe['gpt']['accuracy'][-1])}, "
    f"LSTM {ui.percent(probe['lstm']['accuracy'][-1])}."
)
show_chart(ui.distance_probe_chart(m, group), key="rvt_probe")
with st.expander("Show as table, and which words count"):
    st.dataframe(ui.distance_probe_rows(m, group), hide_index=True)
    st.caption(f"The {ui.PROBE_LABELS[group]}: " + ", ".join(cov["probe_words"][group]) + ".")

# 5 -------------------------------------------------------------------------------------------
st.header("5 · Sequential vs parallel")
steps = compare.sequential_steps(models)
n_max, n_lstm_layers = steps.lengths[-1], models.lstm.config.n_layer
st.markdown(
    f"To read word *t*, the LSTM needs the *h* and *c* it computed for word *t − 1*: its steps "
    f"form a chain, and no two steps of a chain can run at the same time. With "
    f"{n_lstm_layers} layers (the second one step behind the first), reading {n_max} words takes "
    f"a chain of **{steps.lstm[-1]} steps one after another**. The transformer's "
    f"{models.gpt.config.n_layer} layers each compute all positions at once: **{steps.gpt[-1]} "
    "steps one after another, whatever the length**; the work inside a step can be spread over "
    "many cores. On a GPU with thousands of cores that is why transformers could be trained on "
    "so much more text. This counts steps, not time: how long one step takes depends on the "
    "hardware."
)
show_chart(ui.sequential_steps_chart(steps), key="rvt_steps")
with st.expander("How these two models were made"):
    st.markdown(
        "- **Training text**: `python -m tools.small_models.corpus` prompted SmolLM2 (chat "
        "template, sampled) for short simple stories with varied characters, places, objects "
        f"and feelings; cleaned and de-duplicated: {corpus['stories']:,} stories, of which "
        f"{corpus['heldout_stories']} are held out (never trained on).\n"
        "- **LSTM, not GRU**: the LSTM is the classic word-level language-model baseline; its "
        "gated cell state is the best-known fix for a plain RNN's vanishing memory, so the "
        "recurrent side gets its fairest chance.\n"
        "- **Same for both**: vocabulary, training windows in the same order, AdamW with the same "
        "learning-rate schedule and clipping, steps × batch × context, tied input/output "
        "embeddings, dropout. Each keeps its own customary initialisation (nanoGPT's for the "
        "transformer, PyTorch's word-language-model example for the LSTM). "
        "`python -m tools.small_models train` rebuilds everything."
    )

next_step_link("rnn_vs_transformer")
