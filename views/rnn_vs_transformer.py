"""RNN vs Transformer — two small models, same words, same size, predicting side by side."""

import streamlit as st

from explain.next_token import distribution_from_logits
from explain.small_models import compare
from explain.small_models.compare import prompt_words
from ui import rnn_vs_transformer as ui
from ui import state
from ui.html import markdown_escape, visible_text
from ui.i18n import DEFAULT_LANGUAGE, N_, _, current_language, format_number, format_percent
from ui.presenter import side_by_side
from ui.reveal import guess_before_reveal
from ui.walk import next_step_link

GREEDY, SAMPLED = N_("greedy (always the top word)"), N_("sampled (shared seed)")


def quoted(word: str) -> str:
    """A word the visitor typed (or a model wrote), quoted and literal inside Markdown."""
    return _("“{word}”").format(word=markdown_escape(visible_text(word)))


def show_guess_scores(guess: str, lstm_next: compare.NextWords, gpt_next: compare.NextWords) -> None:
    """After Reveal: the probability and rank each model gave the class's guess."""
    for kind, predicted in (("lstm", lstm_next), ("gpt", gpt_next)):
        score = compare.guess_score(models.vocab, predicted, guess)
        values = dict(model=ui.name(kind), word=quoted(score.word), prob=format_percent(score.prob, 2),
                      rank=format_number(score.rank), total=format_number(len(predicted.all_probs)),
                      favourite=quoted(predicted.words[0]), favourite_prob=format_percent(predicted.probs[0]))
        if score.in_vocab:
            message = _("**{model}** gave **{word}** a probability of **{prob}** — rank **{rank}** of "
                        "{total}. Its favourite: **{favourite}** at {favourite_prob}.")
        else:
            message = _("**{model}** gave **{word}** (not in its vocabulary, so it can only say ⟨unk⟩) a "
                        "probability of **{prob}** — rank **{rank}** of {total}. Its favourite: "
                        "**{favourite}** at {favourite_prob}.")
        st.success(message.format(**values))


st.title(_("🔁 RNN vs Transformer"))
st.markdown(_(
    "Before transformers, language models were **n-gram** tables and then **recurrent networks** "
    "(RNN, LSTM, GRU). A recurrent network reads **one word at a time** and carries a fixed-size "
    "**hidden state** — its memory — from word to word: *I* → *love* → *RNNs*. That has two limits: "
    "it is **sequential** (step 5 needs step 4, so training can't run all positions in parallel on "
    "a GPU), and its **memory fades** over long distances. In 2017, *Attention Is All You Need* "
    "replaced the chain: a **transformer** reads all words **in parallel** and each word can "
    "**attend directly** to any earlier word."
))

models = ui.models_or_stop()
m = models.metrics
counts, corpus, cfg = m["parameters"], m["corpus"], m["train_config"]
apart = counts["lstm"] / counts["gpt"] - 1
st.markdown(_(
    "Below are **two small models trained here, on the same text, with the same budget**: a "
    "word-level **LSTM** ({lstm} parameters) and a word-level **transformer** ({gpt} parameters, "
    "{apart} apart). Both read the same vocabulary of **{vocab} words**; both trained for {steps} "
    "steps × {batch} windows × {block} words with AdamW and one seed. Their training text: "
    "**{stories} simple stories**, {words} words and punctuation marks, written by the live SmolLM2 "
    "model (TinyStories-style). They are tiny, so expect child-like English — and compare them with "
    "each other, not with the big model."
).format(lstm=format_number(counts["lstm"]), gpt=format_number(counts["gpt"]),
         apart=("+" if apart >= 0 else "") + format_percent(apart), vocab=format_number(corpus["vocab_size"]),
         steps=format_number(cfg["steps"]), batch=cfg["batch_size"], block=cfg["block_size"],
         stories=format_number(corpus["train_stories"]),
         words=format_number(corpus["train_words"] - corpus["train_stories"])))
if current_language() != DEFAULT_LANGUAGE:
    st.info(_("These two small models learned only English: the page is translated, but their words, "
              "your prompt for them and the examples stay in English."))

st.selectbox(_("Try an example for this page"), list(ui.PRESETS), index=None, key="rvt_preset",
             placeholder=_("Pick an example sentence…"), format_func=_,
             on_change=state.use_picked_preset, args=("rvt_preset", ui.PRESETS),
             help=_("Every word of these examples is in the small models' vocabulary."))
text = state.current_prompt_text()
words = prompt_words(models.vocab, text)
if not words.words:
    st.info(_("✍️ Type a prompt in the Prompt box (or pick an example above): the small models need "
              "at least one word to predict the next one."))
    st.stop()
ids = tuple(words.ids)
n_unknown = words.known.count(False)
read_as = [w if ok else "⟨unk⟩" for w, ok in zip(words.words, words.known)]
unknown_list = ", ".join(f"'{markdown_escape(visible_text(w))}'" for w in dict.fromkeys(
    w for w, ok in zip(words.words, words.known) if not ok))
st.caption(_("Your prompt as both small models read it (words, lower case; ⟨start⟩ marks the "
             "beginning of a story):"))
st.html(ui.word_chips(words.words, words.known))
if words.dropped:
    st.warning(_("Your prompt has {total} words; the small models read only the last {kept} (the "
                 "transformer's context is {block} words, start marker included).").format(
        total=format_number(words.dropped + len(words.words)), kept=len(words.words), block=cfg["block_size"]))
if n_unknown == len(words.words):
    st.warning(_("None of these words is in the small models' vocabulary (they learned only "
                 "simple story words in English), so both read only ⟨unk⟩ ⟨unk⟩ … — the "
                 "predictions below are guesses from nothing. Try an example above."))
elif n_unknown:
    st.caption(_("{unknown} of your {total} words are not in the vocabulary ({words}): both models read "
                 "each of them as the same unknown-word token ⟨unk⟩. The examples above use only words "
                 "both models know.").format(unknown=n_unknown, total=len(words.words), words=unknown_list))

lstm_next, gpt_next = ui.cached_next_words("lstm", ids), ui.cached_next_words("gpt", ids)

guess = guess_before_reveal("rvt", ids, _("the models' predictions"), max_chars=40, example="happy")
if guess is not None:
    show_guess_scores(guess, lstm_next, gpt_next)

# 1 -------------------------------------------------------------------------------------------
st.header(_("1 · Side by side: the next word"))
st.markdown(_("Each model's **{count} most likely next words** with their probabilities "
              "(a softmax over all words of the shared vocabulary).").format(count=ui.NEXT_WORDS))
ui.described_chart(lambda: ui.mirrored_bars(lstm_next, gpt_next), "rvt_bars", ui.bars_summary(lstm_next, gpt_next),
                   lambda: ui.bars_rows(lstm_next, gpt_next), title=_("The next word: LSTM and transformer"), inputs=(text,))
if n_unknown:
    st.caption(_("⚠️ These predictions follow what the models actually read: “{read}” — {words} became "
                 "⟨unk⟩. Pick an example above for a prompt made only of words they know.").format(
        read=markdown_escape(" ".join(visible_text(w) for w in read_as)), words=unknown_list))

lm = state.current_model()
prompt = state.current_prompt_tokens(lm)
big = distribution_from_logits(lm, state.cached_analysis(lm, tuple(prompt.ids)).last_logits,
                               top_n=1)
cols = st.columns(3)
cols[0].metric(_("LSTM's top word"), f"{lstm_next.words[0]} · {format_percent(lstm_next.probs[0], 0)}")
cols[1].metric(_("Transformer's top word"), f"{gpt_next.words[0]} · {format_percent(gpt_next.probs[0], 0)}")
cols[2].metric(_("The live SmolLM2's next token"),
               f"'{visible_text(big.pieces[0].display)}' · {format_percent(big.probs[0], 0)}",
               help=_("For reference: {model}, the model of the other pages (far bigger, trained on far "
                      "more text, reading sub-word tokens), on the same prompt.").format(model=lm.name))

left, right = st.columns([2, 1])
mode = left.radio(_("Continue the text"), [GREEDY, SAMPLED], format_func=_, horizontal=True, key="rvt_mode",
                  bind="query-params")
seed = right.number_input(_("Seed"), 0, 9999, 7, key="rvt_seed", bind="query-params", disabled=mode == GREEDY)
seed_used = None if mode == GREEDY else int(seed)
for kind in ("lstm", "gpt"):
    cont = ui.cached_continuation(kind, ids, seed_used)
    st.markdown(_("**{model}** writes {count} more words:").format(model=ui.name(kind), count=ui.CONTINUATION_WORDS))
    st.html(ui.continuation_html(read_as, cont, kind))

# 2 -------------------------------------------------------------------------------------------
st.header(_("2 · How each one reads"))
left, right = side_by_side(2)  # one under another on a projector
with left:
    st.subheader(_("The LSTM: a chain, one word per step"))
    trace = ui.cached_rnn_trace(ids)
    mem = compare.memory(models)
    st.markdown(_(
        "After each word the LSTM updates its memory: in each of its **{layers} layers** a hidden "
        "state *h* and a cell state *c* of {hidden} numbers each — **{state} numbers** in all, the "
        "*only* thing passed to the next step, however long the text. Bottom: the top layer's *h* "
        "after each word (red +, blue −); top: how much it changed. Everything the LSTM knows about "
        "the start of your sentence must survive in those {state} numbers."
    ).format(layers=mem.lstm_layers, hidden=mem.lstm_hidden, state=mem.lstm_state))
    ui.described_chart(lambda: ui.hidden_strip(words.words, trace), "rvt_hidden", ui.hidden_summary(words.words, trace),
                       lambda: ui.hidden_rows(words.words, trace), title=_("The LSTM's memory, word by word"),
                       inputs=(text,))
with right:
    st.subheader(_("The transformer: one parallel pass"))
    attention = ui.cached_attention(ids)
    st.markdown(_(
        "All {positions} positions are processed at once. To predict the next word, the last word "
        "**looks directly at every earlier word**: each row shows how much attention it pays to each "
        "one in each of the {layers} layers (averaged over its {heads} heads; each row adds up to "
        "100 %). Nothing is squeezed into a fixed memory: it keeps a key and a value per layer for "
        "every word read, {per_word} numbers per word — {total} for these {positions} positions, up "
        "to its limit of {block}."
    ).format(positions=len(ids), layers=attention.shape[0], heads=attention.shape[1],
             per_word=format_number(mem.gpt_per_word), total=format_number(mem.gpt_per_word * len(ids)),
             block=cfg["block_size"]))
    ui.described_chart(lambda: ui.attention_from_last(words.words, attention), "rvt_attention",
                       ui.attention_summary(words.words, attention), lambda: ui.attention_rows(words.words, attention),
                       title=_("Where the transformer's last word looks"), inputs=(text,))

# 3 -------------------------------------------------------------------------------------------
st.header(_("3 · What each one still remembers"))
lstm_occ, gpt_occ = ui.cached_occlusion("lstm", ids), ui.cached_occlusion("gpt", ids)
st.markdown(_(
    "Remove **one word at a time** and measure how much each model's favourite next word loses "
    "(change in log-probability, in nats; red = the word helped the prediction, blue = it held "
    "it back). Words far back that still matter show a model that *reaches* them; a memory that "
    "fades shows only the last few words lit up."
))
if len(words.words) < 2:
    st.info(_("Write at least two words to compare how much each earlier word matters."))
ui.described_chart(lambda: ui.occlusion_heatmap(words.words, lstm_occ, gpt_occ), "rvt_occlusion",
                   ui.occlusion_summary(words.words, lstm_occ, gpt_occ),
                   lambda: ui.occlusion_rows(words.words, lstm_occ, gpt_occ), title=_("One word removed at a time"),
                   inputs=(text,))

# 4 -------------------------------------------------------------------------------------------
st.header(_("4 · The measured lesson"))
h, cov = m["heldout"], m["heldout"]["coverage"]
st.markdown(_(
    "Measured offline (`python -m tools.small_models evaluate`) on **all {stories} held-out "
    "stories**, which neither model trained on: {words} words and punctuation marks plus {ends} "
    "end-of-story markers, so **{targets} predictions per model**, each word predicted once from the "
    "**{context} words before it** (the transformer's whole context; near the start of a story they "
    "include the end of the one before). {unknown} of those words are rare ones both read as ⟨unk⟩. "
    "LSTM **{lstm_loss}** nats/word (perplexity {lstm_ppl}, top-1 right {lstm_acc}); transformer "
    "**{gpt_loss}** (perplexity {gpt_ppl}, top-1 right {gpt_acc}). Lower loss is better."
).format(stories=cov["stories"], words=format_number(cov["words"]), ends=cov["story_ends"],
         targets=format_number(cov["targets"]), context=cov["context"], unknown=format_number(cov["unknown"]),
         lstm_loss=format_number(h["lstm"]["heldout_loss"], 3), lstm_ppl=format_number(h["lstm"]["heldout_perplexity"], 1),
         lstm_acc=format_percent(h["lstm"]["heldout_accuracy"]),
         gpt_loss=format_number(h["gpt"]["heldout_loss"], 3), gpt_ppl=format_number(h["gpt"]["heldout_perplexity"], 1),
         gpt_acc=format_percent(h["gpt"]["heldout_accuracy"])))
measured_on = _("two small models, measured on {count} held-out stories").format(count=format_number(cov["stories"]))
left, right = side_by_side(2)
with left:
    curve = {k: h[k]["context_curve"] for k in ("lstm", "gpt")}
    st.markdown(_(
        "**Loss vs context.** The same {targets} predictions, each model given only the last k words "
        "(both start fresh every time)."
    ).format(targets=format_number(cov["targets"])))
    ui.described_chart(lambda: ui.context_curve_chart(m), "rvt_context", _(
        "With 1 word: LSTM {lstm_first}, transformer {gpt_first}; with {last}: LSTM {lstm_last}, "
        "transformer {gpt_last} (loss in nats per word, lower is better)."
    ).format(lstm_first=format_number(curve["lstm"]["loss"][0], 2), gpt_first=format_number(curve["gpt"]["loss"][0], 2),
             last=curve["gpt"]["context"][-1], lstm_last=format_number(curve["lstm"]["loss"][-1], 2),
             gpt_last=format_number(curve["gpt"]["loss"][-1], 2)), lambda: ui.context_curve_rows(m),
        title=_("Loss vs words of context"), note=measured_on, inputs=())
with right:
    sample = corpus["curve_sample"]
    st.markdown(_(
        "**Training.** Lines: training loss (mean of 20 steps). Open markers: held-out loss every "
        "{every} steps on a quick sample only — {windows} windows from the first {first} words (and "
        "story markers) of the held-out text; the numbers above are on all of it."
    ).format(every=cfg["eval_every"], windows=sample["windows"], first=format_number(sample["first_ids"])))
    ui.described_chart(lambda: ui.training_curves_chart(m), "rvt_training", ui.training_summary(m),
                       lambda: ui.training_rows(m), title=_("Training: loss by step"), note=_("two small models"), inputs=())

st.markdown(_("**A targeted probe: remembering a word from earlier in the story.**"))
st.markdown(_(
    "Among the same predictions, take every time one of the story prompts' names, places or objects "
    "comes back after being mentioned *d* words earlier in the same story, with d ≤ {context} (so the "
    "earlier mention is inside both models' context). What probability does each model give exactly "
    "that word? The further back, the more the answer depends on memory."
).format(context=cov["context"]))
# The URL keeps the shown option, so it is the group's name alone (its count is in the sentence below).
group = st.radio(_("Repeated word"), list(ui.PROBE_LABELS), horizontal=True, key="rvt_probe_group",
                 bind="query-params", format_func=lambda g: _(ui.PROBE_LABELS[g]))
probe = {k: h[k]["distance_probe"][group] for k in ("lstm", "gpt")}
ui.described_chart(lambda: ui.distance_probe_chart(m, group), "rvt_probe", _(
    "{count} repeats of {group} ({beyond} more were further back and are left out). Top-1 right at "
    "{near} words back: transformer {gpt_near}, LSTM {lstm_near}; at {far}: transformer {gpt_far}, "
    "LSTM {lstm_far}."
).format(count=format_number(sum(probe["gpt"]["n"])), group=_(ui.PROBE_LABELS[group]),
         beyond=format_number(cov["probe_repeats_beyond_context"][group]),
         near=probe["gpt"]["bucket"][0], gpt_near=ui.percent(probe["gpt"]["accuracy"][0]),
         lstm_near=ui.percent(probe["lstm"]["accuracy"][0]), far=probe["gpt"]["bucket"][-1],
         gpt_far=ui.percent(probe["gpt"]["accuracy"][-1]), lstm_far=ui.percent(probe["lstm"]["accuracy"][-1])),
    lambda: ui.distance_probe_rows(m, group), title=_("Remembering a word from earlier: {group}").format(
        group=_(ui.PROBE_LABELS[group])), note=measured_on, inputs=(group,))
st.caption(_("The {group}: {words}.").format(group=_(ui.PROBE_LABELS[group]), words=", ".join(cov["probe_words"][group])))

# 5 -------------------------------------------------------------------------------------------
st.header(_("5 · Sequential vs parallel"))
steps = compare.sequential_steps(models)
n_max, n_lstm_layers = steps.lengths[-1], models.lstm.config.n_layer
st.markdown(_(
    "To read word *t*, the LSTM needs the *h* and *c* it computed for word *t − 1*: its steps form a "
    "chain, and no two steps of a chain can run at the same time. With {layers} layers (the second "
    "one step behind the first), reading {words} words takes a chain of **{lstm} steps one after "
    "another**. The transformer's {gpt_layers} layers each compute all positions at once: **{gpt} "
    "steps one after another, whatever the length**; the work inside a step can be spread over many "
    "cores. On a GPU with thousands of cores that is why transformers could be trained on so much "
    "more text. This counts steps, not time: how long one step takes depends on the hardware."
).format(layers=n_lstm_layers, words=n_max, lstm=steps.lstm[-1], gpt_layers=models.gpt.config.n_layer,
         gpt=steps.gpt[-1]))
ui.described_chart(lambda: ui.sequential_steps_chart(steps), "rvt_steps", _(
    "The LSTM's chain grows with the text: {lstm_short} steps for {short} word, {lstm_long} for {long} "
    "words; the transformer always needs {gpt}."
).format(lstm_short=steps.lstm[0], short=steps.lengths[0], lstm_long=steps.lstm[-1], long=n_max, gpt=steps.gpt[-1]),
    lambda: ui.sequential_rows(steps), title=_("Steps one after another, by words read"), note=_("two small models"),
    inputs=())
with st.expander(_("How these two models were made")):
    st.markdown(_(
        "- **Training text**: `python -m tools.small_models.corpus` prompted SmolLM2 (chat template, "
        "sampled) for short simple stories with varied characters, places, objects and feelings; "
        "cleaned and de-duplicated: {stories} stories, of which {heldout} are held out (never trained "
        "on).\n"
        "- **LSTM, not GRU**: the LSTM is the classic word-level language-model baseline; its gated "
        "cell state is the best-known fix for a plain RNN's vanishing memory, so the recurrent side "
        "gets its fairest chance.\n"
        "- **Same for both**: vocabulary, training windows in the same order, AdamW with the same "
        "learning-rate schedule and clipping, steps × batch × context, tied input/output embeddings, "
        "dropout. Each keeps its own customary initialisation (nanoGPT's for the transformer, "
        "PyTorch's word-language-model example for the LSTM). `python -m tools.small_models train` "
        "rebuilds everything."
    ).format(stories=format_number(corpus["stories"]), heldout=corpus["heldout_stories"]))

next_step_link("rnn_vs_transformer")
